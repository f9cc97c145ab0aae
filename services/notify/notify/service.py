"""notify's use cases (keyword-only), shared by the consumer and the REST API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crm.events.notify.v1.notify_pb2 import NotificationDelivered, NotificationRequested
from crmkit.errors import PoisonMessage
from crmkit.outbox import Outbox
from crmkit.timeutil import to_timestamp, utcnow
from sqlalchemy import bindparam, insert
from sqlmodel import Session, func, select

from notify.channels import Channel, Delivery
from notify.domain.templates import TemplateError, render
from notify.models import Base, Notification


@dataclass(frozen=True)
class Request:
    """A notification request with the touchpoint it traces back to."""

    request: NotificationRequested
    correlation_id: str


_NOTIFICATIONS = Base.metadata.tables[Notification.__tablename__]
_KNOWN = select(_NOTIFICATIONS.c.id).where(_NOTIFICATIONS.c.id.in_(bindparam("ids", expanding=True)))


def deliver_all(
    *, session: Session, outbox: Outbox, channels: Mapping[str, Channel], requests: Sequence[Request]
) -> int:
    """Render and deliver each requested notification once; report each as an event. Returns how many.

    Every request is checked (channel known, template renders) before anything is sent,
    so a bad one raises PoisonMessage without delivering the good ones of the run twice.
    """
    if not requests:
        return 0
    connection = session.connection()
    seen = set(connection.execute(_KNOWN, {"ids": [r.request.notification_id for r in requests]}).scalars())
    ready: list[tuple[Request, Channel, str]] = []
    for item in requests:
        request = item.request
        if request.notification_id in seen:
            continue
        seen.add(request.notification_id)
        channel = channels.get(request.channel)
        if channel is None:
            raise PoisonMessage(f"unknown channel {request.channel!r}; known: {', '.join(sorted(channels))}")
        try:
            ready.append((item, channel, render(request.template, request.params)))
        except TemplateError as exc:
            raise PoisonMessage(str(exc)) from None
    rows = []
    for item, channel, text in ready:
        request = item.request
        detail = channel.deliver(
            Delivery(notification_id=request.notification_id, recipient=request.recipient, text=text)
        )
        now = utcnow()
        rows.append(
            {
                "id": request.notification_id,
                "channel": request.channel,
                "recipient": request.recipient,
                "template": request.template,
                "subject_id": request.subject_id,
                "text": text,
                "status": "delivered",
                "detail": detail,
                "delivered_at": now,
            }
        )
        outbox.emit(
            event_type="crm.notify.delivered",
            key=request.notification_id,
            correlation_id=item.correlation_id,
            data=NotificationDelivered(
                notification_id=request.notification_id,
                channel=request.channel,
                recipient=request.recipient,
                status="delivered",
                detail=detail,
                delivered_at=to_timestamp(now),
                subject_id=request.subject_id,
            ),
        )
    if rows:
        connection.execute(insert(_NOTIFICATIONS), rows)
    return len(rows)


def stats(*, session: Session) -> dict[str, int]:
    """Notifications by status."""
    rows = session.exec(select(Notification.status, func.count()).group_by(Notification.status)).all()
    return {status: count for status, count in rows}
