from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Identity(_message.Message):
    __slots__ = ("unionid", "openid", "wecom_external_userid", "phone", "email", "member_id")
    UNIONID_FIELD_NUMBER: _ClassVar[int]
    OPENID_FIELD_NUMBER: _ClassVar[int]
    WECOM_EXTERNAL_USERID_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    unionid: str
    openid: str
    wecom_external_userid: str
    phone: str
    email: str
    member_id: str
    def __init__(self, unionid: _Optional[str] = ..., openid: _Optional[str] = ..., wecom_external_userid: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., member_id: _Optional[str] = ...) -> None: ...
