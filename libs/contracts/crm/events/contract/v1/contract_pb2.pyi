import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContractSigned(_message.Message):
    __slots__ = ("contract_id", "customer_id", "opportunity_id", "amount_fen", "signed_at")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    contract_id: str
    customer_id: str
    opportunity_id: str
    amount_fen: int
    signed_at: _timestamp_pb2.Timestamp
    def __init__(self, contract_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., amount_fen: _Optional[int] = ..., signed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PaymentReceived(_message.Message):
    __slots__ = ("payment_id", "customer_id", "order_id", "contract_id", "amount_fen", "fee_fen", "net_fen", "received_at")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    NET_FEN_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    customer_id: str
    order_id: str
    contract_id: str
    amount_fen: int
    fee_fen: int
    net_fen: int
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, payment_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., contract_id: _Optional[str] = ..., amount_fen: _Optional[int] = ..., fee_fen: _Optional[int] = ..., net_fen: _Optional[int] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
