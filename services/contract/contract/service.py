"""contract's use cases (keyword-only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from crm.events.contract.v1.contract_pb2 import PaymentReceived
from crm.events.touchpoint.v1.touchpoint_pb2 import OrderPaid
from crmkit.outbox import Outbox
from crmkit.timeutil import to_timestamp
from sqlmodel import Session, func, select

from contract.domain.money import net_received
from contract.models import Payment

_PAYMENT_NAMESPACE = uuid.UUID("7d2b8c1e-5a6f-4e3d-9c0b-1a2b3c4d5e6f")


def record_order_payment(
    *, session: Session, outbox: Outbox, customer_id: str, paid: OrderPaid, received_at: datetime, correlation_id: str
) -> Payment:
    """A paid order becomes one payment (the order id makes it idempotent)."""
    payment_id = f"pay_{uuid.uuid5(_PAYMENT_NAMESPACE, paid.order_id).hex[:24]}"
    existing = session.get(Payment, payment_id)
    if existing is not None:
        return existing
    payment = Payment(
        id=payment_id,
        customer_id=customer_id,
        order_id=paid.order_id,
        amount_fen=paid.amount_fen,
        fee_fen=paid.fee_fen,
        net_fen=net_received(amount_fen=paid.amount_fen, fee_fen=paid.fee_fen),
        received_at=received_at,
    )
    session.add(payment)
    outbox.emit(
        event_type="crm.contract.payment_received",
        key=customer_id,
        correlation_id=correlation_id,
        data=PaymentReceived(
            payment_id=payment_id,
            customer_id=customer_id,
            order_id=paid.order_id,
            amount_fen=payment.amount_fen,
            fee_fen=payment.fee_fen,
            net_fen=payment.net_fen,
            received_at=to_timestamp(received_at),
        ),
    )
    return payment


def stats(*, session: Session) -> dict[str, int]:
    """Payments and their total, in fen."""
    count, total = session.exec(select(func.count(), func.coalesce(func.sum(Payment.net_fen), 0))).one()
    return {"payments": count, "net_fen": total}
