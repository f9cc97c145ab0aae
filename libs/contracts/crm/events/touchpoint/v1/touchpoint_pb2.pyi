import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from crm.events.common.v1 import identity_pb2 as _identity_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PageViewed(_message.Message):
    __slots__ = ("identity", "page_id", "page_category", "page_url", "duration_ms")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    PAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PAGE_URL_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    page_id: str
    page_category: str
    page_url: str
    duration_ms: int
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., page_id: _Optional[str] = ..., page_category: _Optional[str] = ..., page_url: _Optional[str] = ..., duration_ms: _Optional[int] = ...) -> None: ...

class ProductFavourited(_message.Message):
    __slots__ = ("identity", "product_id")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    product_id: str
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., product_id: _Optional[str] = ...) -> None: ...

class LoggedIn(_message.Message):
    __slots__ = ("identity", "nickname")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    nickname: str
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., nickname: _Optional[str] = ...) -> None: ...

class Shared(_message.Message):
    __slots__ = ("identity", "page_id", "channel")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    PAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    page_id: str
    channel: str
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., page_id: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class WecomContactAdded(_message.Message):
    __slots__ = ("identity", "rep_userid", "name")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REP_USERID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    rep_userid: str
    name: str
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., rep_userid: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class WecomFriendAccepted(_message.Message):
    __slots__ = ("identity", "rep_userid")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REP_USERID_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    rep_userid: str
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., rep_userid: _Optional[str] = ...) -> None: ...

class WecomMessageReceived(_message.Message):
    __slots__ = ("identity", "rep_userid", "keywords")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REP_USERID_FIELD_NUMBER: _ClassVar[int]
    KEYWORDS_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    rep_userid: str
    keywords: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., rep_userid: _Optional[str] = ..., keywords: _Optional[_Iterable[str]] = ...) -> None: ...

class WecomContactDeleted(_message.Message):
    __slots__ = ("identity", "rep_userid")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    REP_USERID_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    rep_userid: str
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., rep_userid: _Optional[str] = ...) -> None: ...

class OrderCreated(_message.Message):
    __slots__ = ("identity", "order_id", "amount_fen", "client_ip", "channel", "product_ids")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IP_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_IDS_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    order_id: str
    amount_fen: int
    client_ip: str
    channel: str
    product_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., order_id: _Optional[str] = ..., amount_fen: _Optional[int] = ..., client_ip: _Optional[str] = ..., channel: _Optional[str] = ..., product_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class OrderPaid(_message.Message):
    __slots__ = ("identity", "order_id", "amount_fen", "fee_fen")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    order_id: str
    amount_fen: int
    fee_fen: int
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., order_id: _Optional[str] = ..., amount_fen: _Optional[int] = ..., fee_fen: _Optional[int] = ...) -> None: ...

class OrderCancelled(_message.Message):
    __slots__ = ("identity", "order_id", "reason")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    order_id: str
    reason: str
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class OrderRefunded(_message.Message):
    __slots__ = ("identity", "order_id", "refund_fen")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_FEN_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    order_id: str
    refund_fen: int
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., order_id: _Optional[str] = ..., refund_fen: _Optional[int] = ...) -> None: ...

class LeadFormSubmitted(_message.Message):
    __slots__ = ("identity", "name", "phone", "company", "email", "region", "industry", "product_interest", "dwell_seconds", "page_url")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_INTEREST_FIELD_NUMBER: _ClassVar[int]
    DWELL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PAGE_URL_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    name: str
    phone: str
    company: str
    email: str
    region: str
    industry: str
    product_interest: str
    dwell_seconds: int
    page_url: str
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., name: _Optional[str] = ..., phone: _Optional[str] = ..., company: _Optional[str] = ..., email: _Optional[str] = ..., region: _Optional[str] = ..., industry: _Optional[str] = ..., product_interest: _Optional[str] = ..., dwell_seconds: _Optional[int] = ..., page_url: _Optional[str] = ...) -> None: ...

class CustomerRecordImported(_message.Message):
    __slots__ = ("identity", "record_id", "source", "name", "company", "credit_code", "region", "industry", "address", "observed_at")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    identity: _identity_pb2.Identity
    record_id: str
    source: str
    name: str
    company: str
    credit_code: str
    region: str
    industry: str
    address: str
    observed_at: _timestamp_pb2.Timestamp
    def __init__(self, identity: _Optional[_Union[_identity_pb2.Identity, _Mapping]] = ..., record_id: _Optional[str] = ..., source: _Optional[str] = ..., name: _Optional[str] = ..., company: _Optional[str] = ..., credit_code: _Optional[str] = ..., region: _Optional[str] = ..., industry: _Optional[str] = ..., address: _Optional[str] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Touchpoint(_message.Message):
    __slots__ = ("event_id", "type", "source", "occurred_at", "page_viewed", "product_favourited", "logged_in", "shared", "wecom_contact_added", "wecom_friend_accepted", "wecom_message_received", "wecom_contact_deleted", "order_created", "order_paid", "order_cancelled", "order_refunded", "lead_form_submitted", "customer_record_imported")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PAGE_VIEWED_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FAVOURITED_FIELD_NUMBER: _ClassVar[int]
    LOGGED_IN_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    WECOM_CONTACT_ADDED_FIELD_NUMBER: _ClassVar[int]
    WECOM_FRIEND_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    WECOM_MESSAGE_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    WECOM_CONTACT_DELETED_FIELD_NUMBER: _ClassVar[int]
    ORDER_CREATED_FIELD_NUMBER: _ClassVar[int]
    ORDER_PAID_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    ORDER_REFUNDED_FIELD_NUMBER: _ClassVar[int]
    LEAD_FORM_SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_RECORD_IMPORTED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    source: str
    occurred_at: _timestamp_pb2.Timestamp
    page_viewed: PageViewed
    product_favourited: ProductFavourited
    logged_in: LoggedIn
    shared: Shared
    wecom_contact_added: WecomContactAdded
    wecom_friend_accepted: WecomFriendAccepted
    wecom_message_received: WecomMessageReceived
    wecom_contact_deleted: WecomContactDeleted
    order_created: OrderCreated
    order_paid: OrderPaid
    order_cancelled: OrderCancelled
    order_refunded: OrderRefunded
    lead_form_submitted: LeadFormSubmitted
    customer_record_imported: CustomerRecordImported
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., source: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_viewed: _Optional[_Union[PageViewed, _Mapping]] = ..., product_favourited: _Optional[_Union[ProductFavourited, _Mapping]] = ..., logged_in: _Optional[_Union[LoggedIn, _Mapping]] = ..., shared: _Optional[_Union[Shared, _Mapping]] = ..., wecom_contact_added: _Optional[_Union[WecomContactAdded, _Mapping]] = ..., wecom_friend_accepted: _Optional[_Union[WecomFriendAccepted, _Mapping]] = ..., wecom_message_received: _Optional[_Union[WecomMessageReceived, _Mapping]] = ..., wecom_contact_deleted: _Optional[_Union[WecomContactDeleted, _Mapping]] = ..., order_created: _Optional[_Union[OrderCreated, _Mapping]] = ..., order_paid: _Optional[_Union[OrderPaid, _Mapping]] = ..., order_cancelled: _Optional[_Union[OrderCancelled, _Mapping]] = ..., order_refunded: _Optional[_Union[OrderRefunded, _Mapping]] = ..., lead_form_submitted: _Optional[_Union[LeadFormSubmitted, _Mapping]] = ..., customer_record_imported: _Optional[_Union[CustomerRecordImported, _Mapping]] = ...) -> None: ...
