import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RepUpdated(_message.Message):
    __slots__ = ("rep_id", "team", "status", "name", "skills", "capacity", "changed_at", "directory")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    team: str
    status: str
    name: str
    skills: _containers.RepeatedScalarFieldContainer[str]
    capacity: int
    changed_at: _timestamp_pb2.Timestamp
    directory: str
    def __init__(self, rep_id: _Optional[str] = ..., team: _Optional[str] = ..., status: _Optional[str] = ..., name: _Optional[str] = ..., skills: _Optional[_Iterable[str]] = ..., capacity: _Optional[int] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., directory: _Optional[str] = ...) -> None: ...
