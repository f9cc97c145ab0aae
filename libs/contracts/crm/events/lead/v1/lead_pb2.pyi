import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LeadCreated(_message.Message):
    __slots__ = ("lead_id", "customer_id", "source_event_id", "region_code", "industry", "product_interest", "company", "email_domain", "dwell_seconds", "submitted_at", "source", "phone", "client_ip", "address", "junk_reasons")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_INTEREST_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    EMAIL_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    DWELL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IP_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    JUNK_REASONS_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    customer_id: str
    source_event_id: str
    region_code: str
    industry: str
    product_interest: str
    company: str
    email_domain: str
    dwell_seconds: int
    submitted_at: _timestamp_pb2.Timestamp
    source: str
    phone: str
    client_ip: str
    address: str
    junk_reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, lead_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., source_event_id: _Optional[str] = ..., region_code: _Optional[str] = ..., industry: _Optional[str] = ..., product_interest: _Optional[str] = ..., company: _Optional[str] = ..., email_domain: _Optional[str] = ..., dwell_seconds: _Optional[int] = ..., submitted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., phone: _Optional[str] = ..., client_ip: _Optional[str] = ..., address: _Optional[str] = ..., junk_reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class LeadAssigned(_message.Message):
    __slots__ = ("lead_id", "customer_id", "assignee_id", "team", "rule", "explanation", "latency_ms")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    customer_id: str
    assignee_id: str
    team: str
    rule: str
    explanation: str
    latency_ms: int
    def __init__(self, lead_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., assignee_id: _Optional[str] = ..., team: _Optional[str] = ..., rule: _Optional[str] = ..., explanation: _Optional[str] = ..., latency_ms: _Optional[int] = ...) -> None: ...

class LeadReturnedToPool(_message.Message):
    __slots__ = ("lead_id", "customer_id", "reason_code", "detail")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    customer_id: str
    reason_code: str
    detail: str
    def __init__(self, lead_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., reason_code: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class LeadSlaBreached(_message.Message):
    __slots__ = ("lead_id", "customer_id", "assignee_id", "sla", "due_at")
    LEAD_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    SLA_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    lead_id: str
    customer_id: str
    assignee_id: str
    sla: str
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, lead_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., assignee_id: _Optional[str] = ..., sla: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
