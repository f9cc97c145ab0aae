"""Exactly-once audit: compare every service's own counts before and after a run with what was produced.

The observer proves every touchpoint reached the end of the pipeline (nothing lost); this
audit proves no service applied anything twice, by reading each service's database
figures (``GET /stats``) — a redelivery that slipped past the ledger would show up here.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted, OrderPaid

from crm_cli.loadgen import Touch
from crm_cli.stack import Stack

Stats = dict[str, dict[str, int]]


def service_stats(stack: Stack) -> Stats:
    """Every service's /stats figures."""
    with httpx.Client(timeout=5) as client:
        return {name: client.get(f"{stack.url(name)}/stats").json() for name in stack.ports}


@dataclass(frozen=True)
class Check:
    """One figure: what the produced touchpoints imply, and what the service's database holds."""

    what: str
    expected: int
    actual: int

    @property
    def ok(self) -> bool:
        """True when the database holds exactly the implied count."""
        return self.expected == self.actual


def exactly_once(before: Stats, after: Stats, *, touches: list[Touch], assigned_seen: int) -> list[Check]:
    """The checks for one run: each figure's change must equal what the touchpoints imply."""

    def delta(service: str, figure: str) -> int:
        return after[service].get(figure, 0) - before[service].get(figure, 0)

    forms = sum(isinstance(t.data, LeadFormSubmitted) for t in touches)
    paid = sum(isinstance(t.data, OrderPaid) for t in touches)
    return [
        Check("customer-master leads opened (one per form)", forms, delta("customer-master", "leads")),
        Check(
            "behavior-scoring behaviours recorded (one per touchpoint)",
            len(touches),
            delta("behavior-scoring", "behaviours"),
        ),
        Check(
            "lead-router leads decided (assigned + pooled, one per form)",
            forms,
            delta("lead-router", "assigned") + delta("lead-router", "pooled"),
        ),
        Check("lead-router assignments (as seen on the broker)", assigned_seen, delta("lead-router", "assigned")),
        Check("notify deliveries (one per assignment)", assigned_seen, delta("notify", "delivered")),
        Check("contract payments (one per order.paid)", paid, delta("contract", "payments")),
    ]


def report(checks: list[Check]) -> dict[str, object]:
    """The checks as JSON: ``ok`` and each figure expected vs actual."""
    return {
        "ok": all(check.ok for check in checks),
        "checks": {check.what: {"expected": check.expected, "actual": check.actual} for check in checks},
    }
