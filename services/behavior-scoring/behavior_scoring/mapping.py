"""CloudEvents from crm.customer.v1 → the engine's behaviour events.

``customer.resolved`` carries the original touchpoint (its id, type, occurred time and
body) and the customer it was attributed to; ``customer.merged`` re-keys a customer and
``customer.unmerged`` splits it back (its ``restored_id`` is the merge's absorbed customer).
Each becomes the same flat record the replay reads (``{"id", "type", "at", "customer_id",
...}``) and is validated by ``domain.events.parse_event``, so the live service and
``crm score replay`` see identical events. Touchpoint types no rule reads (log-ins,
shares, forms, …) are recorded as behaviour (counted) but not given to the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crm.events.customer.v1.customer_pb2 import CustomerMerged, CustomerResolved, CustomerUnmerged
from crm.events.touchpoint.v1 import touchpoint_pb2 as tp
from crmkit.cloudevents import CloudEvent
from crmkit.errors import PoisonMessage
from google.protobuf.message import Message

from behavior_scoring.domain.events import MERGED, UNMERGED, Event, EventError, parse_event
from behavior_scoring.domain.instants import format_instant, parse_instant, to_datetime, to_instant

RESOLVED = "crm.customer.resolved"
MERGED_TYPE = "crm.customer.merged"
UNMERGED_TYPE = "crm.customer.unmerged"

Fields = dict[str, object]


def _text(**values: str) -> Fields:
    """Non-empty string fields only (proto3 cannot tell empty from absent)."""
    return {name: value for name, value in values.items() if value}


def _page_viewed(body: Message) -> Fields:
    assert isinstance(body, tp.PageViewed)
    return _text(page_category=body.page_category, page_id=body.page_id)


def _favourited(body: Message) -> Fields:
    assert isinstance(body, tp.ProductFavourited)
    return _text(product_id=body.product_id)


def _contact_added(body: Message) -> Fields:
    assert isinstance(body, tp.WecomContactAdded)
    return _text(rep_userid=body.rep_userid)


def _friend_accepted(body: Message) -> Fields:
    assert isinstance(body, tp.WecomFriendAccepted)
    return _text(rep_userid=body.rep_userid)


def _order_created(body: Message) -> Fields:
    assert isinstance(body, tp.OrderCreated)
    fields = _text(order_id=body.order_id, client_ip=body.client_ip, channel=body.channel)
    if body.amount_fen:
        fields["amount_fen"] = body.amount_fen
    return fields


def _order_paid(body: Message) -> Fields:
    assert isinstance(body, tp.OrderPaid)
    fields = _text(order_id=body.order_id)
    if body.amount_fen:
        fields["amount_fen"] = body.amount_fen
    return fields


def _order_cancelled(body: Message) -> Fields:
    assert isinstance(body, tp.OrderCancelled)
    return _text(order_id=body.order_id, reason=body.reason)


@dataclass(frozen=True)
class _Kind:
    """How one touchpoint type maps: the engine type, the oneof body field, the field extractor."""

    engine_type: str
    body_field: str
    fields: Callable[[Message], Fields]


TOUCHPOINT_KINDS: dict[str, _Kind] = {
    "crm.miniprogram.page_viewed": _Kind("page.viewed", "page_viewed", _page_viewed),
    "crm.miniprogram.product_favourited": _Kind("product.favourited", "product_favourited", _favourited),
    "crm.wecom.contact_added": _Kind("wecom.contact_added", "wecom_contact_added", _contact_added),
    "crm.wecom.friend_accepted": _Kind("wecom.friend_accepted", "wecom_friend_accepted", _friend_accepted),
    "crm.order.created": _Kind("order.created", "order_created", _order_created),
    "crm.order.paid": _Kind("order.paid", "order_paid", _order_paid),
    "crm.order.cancelled": _Kind("order.cancelled", "order_cancelled", _order_cancelled),
}
"""Touchpoint ce_type → engine event; other touchpoint types are behaviour the rules do not read."""


@dataclass(frozen=True, slots=True)
class Mapped:
    """One CloudEvent as the service handles it."""

    event: Event | None
    """The engine event; None for a touchpoint type no rule reads."""
    behaviour_type: str | None
    """The touchpoint type recorded as behaviour (``customer.resolved`` only)."""
    correlation_id: str


def resolved_record(resolved: CustomerResolved) -> Fields | None:
    """The replay-shaped record of a resolved touchpoint; None when no rule reads its type.

    Raises :class:`PoisonMessage` for a touchpoint without an occurred time or whose body
    does not match its type.
    """
    touchpoint = resolved.touchpoint
    kind = TOUCHPOINT_KINDS.get(touchpoint.type)
    if kind is None:
        return None
    which = touchpoint.WhichOneof("body")
    if which != kind.body_field:
        raise PoisonMessage(f"touchpoint {touchpoint.event_id} of type {touchpoint.type} carries body {which}")
    if not touchpoint.HasField("occurred_at"):
        raise PoisonMessage(f"touchpoint {touchpoint.event_id}: missing occurred_at")
    stamp = touchpoint.occurred_at
    at = stamp.seconds * 1_000_000 + stamp.nanos // 1000
    return {
        "id": touchpoint.event_id,
        "type": kind.engine_type,
        "at": format_instant(at),
        "customer_id": resolved.customer_id,
        **kind.fields(getattr(touchpoint, which)),
    }


def _pair_record(event: CloudEvent, kind: str, *, survivor_id: str, absorbed_id: str) -> Fields:
    """The replay-shaped record of a merge or unmerge, at the CloudEvent's time, keyed by the survivor."""
    return {
        "id": event.id,
        "type": kind,
        "at": format_instant(to_instant(event.time)),
        "customer_id": survivor_id,
        "absorbed_id": absorbed_id,
        "survivor_id": survivor_id,
    }


def merged_record(event: CloudEvent, merged: CustomerMerged) -> Fields:
    """The replay-shaped record of a merge: the survivor keeps both customers' behaviour."""
    return _pair_record(event, MERGED, survivor_id=merged.survivor_id, absorbed_id=merged.absorbed_id)


def unmerged_record(event: CloudEvent, unmerged: CustomerUnmerged) -> Fields:
    """The replay-shaped record of an unmerge: the restored customer takes its own behaviour back."""
    return _pair_record(event, UNMERGED, survivor_id=unmerged.survivor_id, absorbed_id=unmerged.restored_id)


def _parse(record: Fields, what: str) -> Event:
    """parse_event, with an engine rejection turned into a PoisonMessage naming the event."""
    try:
        return parse_event(record)
    except EventError as exc:
        raise PoisonMessage(f"{what} rejected by the scoring engine: {exc}") from None


def map_event(event: CloudEvent) -> Mapped:
    """One CloudEvent → what the service records and applies; PoisonMessage when it cannot."""
    if event.type == RESOLVED:
        resolved = event.data_as(CustomerResolved)
        touchpoint = resolved.touchpoint
        correlation = event.correlation_id or touchpoint.event_id
        record = resolved_record(resolved)
        if record is None:
            return Mapped(None, touchpoint.type, correlation)
        return Mapped(
            _parse(record, f"touchpoint {touchpoint.event_id} ({touchpoint.type})"), touchpoint.type, correlation
        )
    if event.type == MERGED_TYPE:
        record = merged_record(event, event.data_as(CustomerMerged))
        return Mapped(_parse(record, f"merge {event.id}"), None, event.correlation_id or event.id)
    if event.type == UNMERGED_TYPE:
        record = unmerged_record(event, event.data_as(CustomerUnmerged))
        return Mapped(_parse(record, f"unmerge {event.id}"), None, event.correlation_id or event.id)
    raise PoisonMessage(f"behavior-scoring does not handle {event.type}")


_BODIES: dict[str, tuple[str, type[Message]]] = {
    "page.viewed": ("crm.miniprogram.page_viewed", tp.PageViewed),
    "product.favourited": ("crm.miniprogram.product_favourited", tp.ProductFavourited),
    "wecom.contact_added": ("crm.wecom.contact_added", tp.WecomContactAdded),
    "wecom.friend_accepted": ("crm.wecom.friend_accepted", tp.WecomFriendAccepted),
    "order.created": ("crm.order.created", tp.OrderCreated),
    "order.paid": ("crm.order.paid", tp.OrderPaid),
    "order.cancelled": ("crm.order.cancelled", tp.OrderCancelled),
}


def resolved_for(record: Fields) -> CustomerResolved:
    """The ``customer.resolved`` a replay-shaped touchpoint record comes from (the inverse of the mapping).

    For tests and tools that drive the same events through the stream and the replay.
    """
    ce_type, body_class = _BODIES[str(record["type"])]
    fields = {k: v for k, v in record.items() if k not in ("id", "type", "at", "customer_id")}
    body = body_class(**fields)
    touchpoint = tp.Touchpoint(event_id=str(record["id"]), type=ce_type, source="/replay")
    touchpoint.occurred_at.FromDatetime(to_datetime(parse_instant(str(record["at"]))))
    kind = TOUCHPOINT_KINDS[ce_type]
    getattr(touchpoint, kind.body_field).CopyFrom(body)
    return CustomerResolved(touchpoint=touchpoint, customer_id=str(record["customer_id"]))
