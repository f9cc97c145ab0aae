import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TagChange(_message.Message):
    __slots__ = ("tag", "weight", "reason", "event_ids", "expires_at", "set_at")
    TAG_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SET_AT_FIELD_NUMBER: _ClassVar[int]
    tag: str
    weight: int
    reason: str
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    expires_at: _timestamp_pb2.Timestamp
    set_at: _timestamp_pb2.Timestamp
    def __init__(self, tag: _Optional[str] = ..., weight: _Optional[int] = ..., reason: _Optional[str] = ..., event_ids: _Optional[_Iterable[str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., set_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PoolChange(_message.Message):
    __slots__ = ("pool", "reason", "event_ids", "since", "expires_at")
    POOL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    pool: str
    reason: str
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    since: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, pool: _Optional[str] = ..., reason: _Optional[str] = ..., event_ids: _Optional[_Iterable[str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ScoreChanged(_message.Message):
    __slots__ = ("customer_id", "score", "risk_tier", "pools", "tags_added", "tags_removed", "pools_added", "pools_removed", "trigger_event_id", "merged_into")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    RISK_TIER_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    TAGS_ADDED_FIELD_NUMBER: _ClassVar[int]
    TAGS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    POOLS_ADDED_FIELD_NUMBER: _ClassVar[int]
    POOLS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    score: int
    risk_tier: str
    pools: _containers.RepeatedScalarFieldContainer[str]
    tags_added: _containers.RepeatedCompositeFieldContainer[TagChange]
    tags_removed: _containers.RepeatedCompositeFieldContainer[TagChange]
    pools_added: _containers.RepeatedCompositeFieldContainer[PoolChange]
    pools_removed: _containers.RepeatedCompositeFieldContainer[PoolChange]
    trigger_event_id: str
    merged_into: str
    def __init__(self, customer_id: _Optional[str] = ..., score: _Optional[int] = ..., risk_tier: _Optional[str] = ..., pools: _Optional[_Iterable[str]] = ..., tags_added: _Optional[_Iterable[_Union[TagChange, _Mapping]]] = ..., tags_removed: _Optional[_Iterable[_Union[TagChange, _Mapping]]] = ..., pools_added: _Optional[_Iterable[_Union[PoolChange, _Mapping]]] = ..., pools_removed: _Optional[_Iterable[_Union[PoolChange, _Mapping]]] = ..., trigger_event_id: _Optional[str] = ..., merged_into: _Optional[str] = ...) -> None: ...
