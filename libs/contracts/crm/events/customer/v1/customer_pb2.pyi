import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from crm.events.touchpoint.v1 import touchpoint_pb2 as _touchpoint_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomerProfile(_message.Message):
    __slots__ = ("customer_id", "account_id", "name", "phone_e164", "email", "company", "region_code", "industry", "junk", "updated_at", "version")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_E164_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    JUNK_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    account_id: str
    name: str
    phone_e164: str
    email: str
    company: str
    region_code: str
    industry: str
    junk: bool
    updated_at: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, customer_id: _Optional[str] = ..., account_id: _Optional[str] = ..., name: _Optional[str] = ..., phone_e164: _Optional[str] = ..., email: _Optional[str] = ..., company: _Optional[str] = ..., region_code: _Optional[str] = ..., industry: _Optional[str] = ..., junk: _Optional[bool] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class CustomerResolved(_message.Message):
    __slots__ = ("touchpoint", "customer_id", "account_id", "created", "matched_on")
    TOUCHPOINT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    MATCHED_ON_FIELD_NUMBER: _ClassVar[int]
    touchpoint: _touchpoint_pb2.Touchpoint
    customer_id: str
    account_id: str
    created: bool
    matched_on: str
    def __init__(self, touchpoint: _Optional[_Union[_touchpoint_pb2.Touchpoint, _Mapping]] = ..., customer_id: _Optional[str] = ..., account_id: _Optional[str] = ..., created: _Optional[bool] = ..., matched_on: _Optional[str] = ...) -> None: ...

class CustomerMerged(_message.Message):
    __slots__ = ("survivor_id", "absorbed_id", "reason", "confidence")
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    ABSORBED_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    survivor_id: str
    absorbed_id: str
    reason: str
    confidence: float
    def __init__(self, survivor_id: _Optional[str] = ..., absorbed_id: _Optional[str] = ..., reason: _Optional[str] = ..., confidence: _Optional[float] = ...) -> None: ...

class CustomerUpdated(_message.Message):
    __slots__ = ("profile", "changed_fields")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    profile: CustomerProfile
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, profile: _Optional[_Union[CustomerProfile, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class CustomerUnmerged(_message.Message):
    __slots__ = ("survivor_id", "restored_id", "merge_id", "reason")
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ID_FIELD_NUMBER: _ClassVar[int]
    MERGE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    survivor_id: str
    restored_id: str
    merge_id: str
    reason: str
    def __init__(self, survivor_id: _Optional[str] = ..., restored_id: _Optional[str] = ..., merge_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AccountMerged(_message.Message):
    __slots__ = ("survivor_id", "absorbed_id", "reason", "confidence", "customer_id", "moved_customer_ids")
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    ABSORBED_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    MOVED_CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    survivor_id: str
    absorbed_id: str
    reason: str
    confidence: float
    customer_id: str
    moved_customer_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, survivor_id: _Optional[str] = ..., absorbed_id: _Optional[str] = ..., reason: _Optional[str] = ..., confidence: _Optional[float] = ..., customer_id: _Optional[str] = ..., moved_customer_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AccountUnmerged(_message.Message):
    __slots__ = ("survivor_id", "restored_id", "merge_id", "reason")
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ID_FIELD_NUMBER: _ClassVar[int]
    MERGE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    survivor_id: str
    restored_id: str
    merge_id: str
    reason: str
    def __init__(self, survivor_id: _Optional[str] = ..., restored_id: _Optional[str] = ..., merge_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
