import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TagChange(_message.Message):
    __slots__ = ("tag", "weight", "reason", "event_ids", "expires_at")
    TAG_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    tag: str
    weight: int
    reason: str
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, tag: _Optional[str] = ..., weight: _Optional[int] = ..., reason: _Optional[str] = ..., event_ids: _Optional[_Iterable[str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ScoreChanged(_message.Message):
    __slots__ = ("customer_id", "score", "risk_tier", "pools", "tags_added", "tags_removed")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    RISK_TIER_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    TAGS_ADDED_FIELD_NUMBER: _ClassVar[int]
    TAGS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    score: int
    risk_tier: str
    pools: _containers.RepeatedScalarFieldContainer[str]
    tags_added: _containers.RepeatedCompositeFieldContainer[TagChange]
    tags_removed: _containers.RepeatedCompositeFieldContainer[TagChange]
    def __init__(self, customer_id: _Optional[str] = ..., score: _Optional[int] = ..., risk_tier: _Optional[str] = ..., pools: _Optional[_Iterable[str]] = ..., tags_added: _Optional[_Iterable[_Union[TagChange, _Mapping]]] = ..., tags_removed: _Optional[_Iterable[_Union[TagChange, _Mapping]]] = ...) -> None: ...
