"""The behaviour events the engine understands, and their validation.

An event is a flat record ``{"id", "type", "at", "customer_id", ...fields}``; ``at`` is
ISO-8601 with an offset. The replay reads exactly this shape, the service maps each
CloudEvent onto it, and persisted engine state stores events in it, so a saved state is
itself a replayable log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple, NoReturn

from behavior_scoring.domain.instants import Instant, format_instant, parse_instant

FieldKind = Literal["str", "int", "time"]


class FieldSpec(NamedTuple):
    """One field of an event type."""

    kind: FieldKind
    required: bool


class Event(NamedTuple):
    """One behaviour event; tuples order by (at, id), which is the engine's total order."""

    at: Instant
    id: str
    type: str
    customer_id: str
    fields: Mapping[str, str | int]


class EventError(ValueError):
    """An event the engine cannot accept; ``field`` names the offending field."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


MERGED = "customer.merged"
UNMERGED = "customer.unmerged"
MERGE_TYPES = frozenset({MERGED, UNMERGED})

_S_OPT = FieldSpec("str", False)
_S_REQ = FieldSpec("str", True)
EVENT_TYPES: dict[str, dict[str, FieldSpec]] = {
    "page.viewed": {"page_category": _S_OPT, "page_id": _S_OPT},
    "product.favourited": {"product_id": _S_REQ},
    "wecom.contact_added": {"rep_userid": _S_OPT},
    "wecom.friend_accepted": {"rep_userid": _S_OPT},
    "order.created": {
        "order_id": _S_REQ,
        "amount_fen": FieldSpec("int", False),
        "client_ip": _S_OPT,
        "channel": _S_OPT,
    },
    "order.paid": {"order_id": _S_REQ, "amount_fen": FieldSpec("int", False)},
    "order.cancelled": {"order_id": _S_REQ, "reason": _S_OPT},
    "membership.purchased": {"valid_until": FieldSpec("time", True), "plan": _S_OPT},
    MERGED: {"absorbed_id": _S_REQ, "survivor_id": _S_REQ},
    UNMERGED: {"absorbed_id": _S_REQ, "survivor_id": _S_REQ},
}
"""Known event types and their fields; other keys on an input line are ignored."""

_SCHEMAS: dict[str, tuple[tuple[str, FieldSpec, bool], ...]] = {
    kind: tuple((name, spec, spec.kind == "str") for name, spec in fields.items())
    for kind, fields in EVENT_TYPES.items()
}


def _text(raw: Mapping[str, object], key: str) -> str:
    """A required non-empty string member of the envelope."""
    value = raw.get(key)
    if value is None or value == "":
        raise EventError(f"missing {key}", field=key)
    if not isinstance(value, str):
        raise EventError(f"{key} must be a string, got {type(value).__name__}", field=key)
    return value


def _field(name: str, spec: FieldSpec, value: object) -> str | int:
    """One type-specific field value, checked against its spec."""
    if spec.kind == "str":
        if not isinstance(value, str):
            raise EventError(f"{name} must be a string, got {type(value).__name__}", field=name)
        return value
    if spec.kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise EventError(f"{name} must be an integer, got {type(value).__name__}", field=name)
        return value
    if not isinstance(value, str):
        raise EventError(f"{name} must be an ISO-8601 time string, got {type(value).__name__}", field=name)
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise EventError(f"{name}: {exc}", field=name) from None


def _envelope_error(raw: Mapping[str, object]) -> NoReturn:
    """Raise the EventError naming the first bad member of the envelope."""
    for key in ("type", "id", "customer_id", "at"):
        _text(raw, key)
    raise EventError("bad event envelope")  # pragma: no cover - _text raised


def parse_event(raw: Mapping[str, object]) -> Event:
    """Validate one decoded input record and return it as an :class:`Event`.

    Raises :class:`EventError` for an unknown type, a missing ``id``/``customer_id``/
    ``at``, an unparseable or offset-less time, a missing (or empty) required field or a
    field of the wrong kind. Unknown extra keys are ignored (upstream may add fields).
    """
    kind, event_id, customer_id, at_text = raw.get("type"), raw.get("id"), raw.get("customer_id"), raw.get("at")
    if not (type(kind) is str and type(event_id) is str and type(customer_id) is str and type(at_text) is str) or not (
        kind and event_id and customer_id and at_text
    ):
        _envelope_error(raw)
    schema = _SCHEMAS.get(kind)
    if schema is None:
        raise EventError(f"unknown event type {kind!r} (known: {', '.join(sorted(EVENT_TYPES))})", field="type")
    try:
        at = parse_instant(at_text)
    except ValueError as exc:
        raise EventError(f"at: {exc}", field="at") from None
    fields: dict[str, str | int] = {}
    for name, spec, is_text in schema:
        value = raw.get(name)
        if value is None or (value == "" and spec.required):
            if spec.required:
                raise EventError(f"{kind} needs {name}", field=name)
        elif is_text and type(value) is str:
            fields[name] = value
        else:
            fields[name] = _field(name, spec, value)
    return Event(at, event_id, kind, customer_id, fields)


def event_to_dict(event: Event) -> dict[str, object]:
    """The event in its input shape (times as RFC 3339 text), for persistence and logs."""
    out: dict[str, object] = {
        "id": event.id,
        "type": event.type,
        "at": format_instant(event.at),
        "customer_id": event.customer_id,
    }
    schema = EVENT_TYPES[event.type]
    for name, value in event.fields.items():
        out[name] = format_instant(int(value)) if schema[name].kind == "time" else value
    return out
