"""notify's use cases (keyword-only), shared by the consumer and the REST API."""

from __future__ import annotations

from collections.abc import Mapping

from crm.events.notify.v1.notify_pb2 import NotificationDelivered, NotificationRequested
from crmkit.errors import PoisonMessage
from crmkit.outbox import Outbox
from crmkit.timeutil import to_timestamp, utcnow
from sqlmodel import Session, func, select

from notify.channels import Channel, Delivery
from notify.domain.templates import TemplateError, render
from notify.models import Notification


def deliver(
    *,
    session: Session,
    outbox: Outbox,
    channels: Mapping[str, Channel],
    request: NotificationRequested,
    correlation_id: str,
) -> Notification:
    """Render and deliver one notification once; report it as an event."""
    existing = session.get(Notification, request.notification_id)
    if existing is not None:
        return existing
    channel = channels.get(request.channel)
    if channel is None:
        raise PoisonMessage(f"unknown channel {request.channel!r}; known: {', '.join(sorted(channels))}")
    try:
        text = render(request.template, request.params)
    except TemplateError as exc:
        raise PoisonMessage(str(exc)) from None
    detail = channel.deliver(Delivery(notification_id=request.notification_id, recipient=request.recipient, text=text))
    now = utcnow()
    row = Notification(
        id=request.notification_id,
        channel=request.channel,
        recipient=request.recipient,
        template=request.template,
        subject_id=request.subject_id,
        text=text,
        status="delivered",
        detail=detail,
        delivered_at=now,
    )
    session.add(row)
    outbox.emit(
        event_type="crm.notify.delivered",
        key=request.notification_id,
        correlation_id=correlation_id,
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
    return row


def stats(*, session: Session) -> dict[str, int]:
    """Notifications by status."""
    rows = session.exec(select(Notification.status, func.count()).group_by(Notification.status)).all()
    return {status: count for status, count in rows}
