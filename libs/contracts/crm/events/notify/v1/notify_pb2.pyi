import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationRequested(_message.Message):
    __slots__ = ("notification_id", "channel", "recipient", "template", "params", "subject_id")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    channel: str
    recipient: str
    template: str
    params: _containers.ScalarMap[str, str]
    subject_id: str
    def __init__(self, notification_id: _Optional[str] = ..., channel: _Optional[str] = ..., recipient: _Optional[str] = ..., template: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., subject_id: _Optional[str] = ...) -> None: ...

class NotificationDelivered(_message.Message):
    __slots__ = ("notification_id", "channel", "recipient", "status", "detail", "delivered_at", "subject_id")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    channel: str
    recipient: str
    status: str
    detail: str
    delivered_at: _timestamp_pb2.Timestamp
    subject_id: str
    def __init__(self, notification_id: _Optional[str] = ..., channel: _Optional[str] = ..., recipient: _Optional[str] = ..., status: _Optional[str] = ..., detail: _Optional[str] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., subject_id: _Optional[str] = ...) -> None: ...
