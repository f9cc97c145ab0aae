"""contract's use cases (keyword-only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from crm.events.contract.v1.contract_pb2 import PaymentReceived
from crm.events.touchpoint.v1.touchpoint_pb2 import OrderPaid
from crmkit.outbox import Outbox
from crmkit.timeutil import to_timestamp
from sqlalchemy import bindparam, insert
from sqlmodel import Session, func, select

from contract.domain.money import net_received
from contract.models import Base, Payment

_PAYMENT_NAMESPACE = uuid.UUID("7d2b8c1e-5a6f-4e3d-9c0b-1a2b3c4d5e6f")


@dataclass(frozen=True)
class PaidOrder:
    """An ``order.paid`` touchpoint attributed to a customer."""

    customer_id: str
    paid: OrderPaid
    received_at: datetime
    correlation_id: str


def payment_id_for(order_id: str) -> str:
    """The payment id of an order: deterministic, so a repeat of the order is one payment."""
    return f"pay_{uuid.uuid5(_PAYMENT_NAMESPACE, order_id).hex[:24]}"


_PAYMENTS = Base.metadata.tables[Payment.__tablename__]
_KNOWN = select(_PAYMENTS.c.id).where(_PAYMENTS.c.id.in_(bindparam("ids", expanding=True)))


def record_order_payments(*, session: Session, outbox: Outbox, orders: Sequence[PaidOrder]) -> int:
    """Each paid order becomes one payment (the order id makes it idempotent); returns how many are new."""
    if not orders:
        return 0
    connection = session.connection()
    known = set(connection.execute(_KNOWN, {"ids": [payment_id_for(o.paid.order_id) for o in orders]}).scalars())
    rows = []
    for order in orders:
        payment_id = payment_id_for(order.paid.order_id)
        if payment_id in known:
            continue
        known.add(payment_id)
        paid = order.paid
        net = net_received(amount_fen=paid.amount_fen, fee_fen=paid.fee_fen)
        rows.append(
            {
                "id": payment_id,
                "customer_id": order.customer_id,
                "order_id": paid.order_id,
                "amount_fen": paid.amount_fen,
                "fee_fen": paid.fee_fen,
                "net_fen": net,
                "received_at": order.received_at,
            }
        )
        outbox.emit(
            event_type="crm.contract.payment_received",
            key=order.customer_id,
            correlation_id=order.correlation_id,
            data=PaymentReceived(
                payment_id=payment_id,
                customer_id=order.customer_id,
                order_id=paid.order_id,
                amount_fen=paid.amount_fen,
                fee_fen=paid.fee_fen,
                net_fen=net,
                received_at=to_timestamp(order.received_at),
            ),
        )
    if rows:
        connection.execute(insert(_PAYMENTS), rows)
    return len(rows)


def stats(*, session: Session) -> dict[str, int]:
    """Payments and their total, in fen."""
    count, total = session.exec(select(func.count(), func.coalesce(func.sum(Payment.net_fen), 0))).one()
    return {"payments": count, "net_fen": total}
