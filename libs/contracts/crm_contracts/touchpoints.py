"""Wrap a touchpoint message into the ``Touchpoint`` envelope that domain events carry, and back."""

from __future__ import annotations

from datetime import datetime

from crm.events.common.v1.identity_pb2 import Identity
from crm.events.touchpoint.v1.touchpoint_pb2 import Touchpoint
from google.protobuf.message import Message

from crm_contracts.timestamps import set_timestamp

_BODY_FIELD_BY_SCHEMA = {
    field.message_type.full_name: field.name
    for field in Touchpoint.DESCRIPTOR.oneofs_by_name["body"].fields
    if field.message_type is not None
}


def wrap_touchpoint(*, event_id: str, event_type: str, source: str, occurred_at: datetime, body: Message) -> Touchpoint:
    """A Touchpoint envelope around ``body`` (one of the touchpoint messages)."""
    try:
        field = _BODY_FIELD_BY_SCHEMA[body.DESCRIPTOR.full_name]
    except KeyError:
        raise ValueError(f"{body.DESCRIPTOR.full_name} is not a touchpoint message") from None
    touchpoint = Touchpoint(event_id=event_id, type=event_type, source=source)
    set_timestamp(touchpoint.occurred_at, occurred_at)
    getattr(touchpoint, field).CopyFrom(body)
    return touchpoint


def touchpoint_body(touchpoint: Touchpoint) -> Message:
    """The body message inside a Touchpoint; ValueError when it has none."""
    which = touchpoint.WhichOneof("body")
    if which is None:
        raise ValueError(f"touchpoint {touchpoint.event_id} has no body")
    body: Message = getattr(touchpoint, which)
    return body


def touchpoint_identity(body: Message) -> Identity:
    """The Identity every touchpoint body carries."""
    identity: Identity = body.identity  # type: ignore[attr-defined]
    return identity
