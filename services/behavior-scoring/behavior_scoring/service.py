"""behavior-scoring's read side for the REST API: scores, pool members, stats, rules validation.

Everything here reads the tables the live engine writes (``live``), never the engine
itself, so a request never waits for a batch.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.engine import Connection

from behavior_scoring.domain.instants import Instant, format_instant, parse_instant
from behavior_scoring.domain.ruleset import DEFAULT_TIER, RISK_TIERS, RuleSet
from behavior_scoring.domain.rulesfile import parse_rules
from behavior_scoring.domain.views import CustomerView, TagState
from behavior_scoring.live import COUNTS, CUSTOMERS, POOLS, STATE, VIEWS


def _time(value: Instant | None) -> str | None:
    return None if value is None else format_instant(value)


def _present(state: TagState, at: Instant) -> bool:
    return state.expires_at is None or state.expires_at > at


def _tag_json(state: TagState) -> dict[str, Any]:
    return {
        "tag": state.name,
        "weight": state.weight,
        "rule": state.rule,
        "risk_tier": state.risk_tier,
        "set_at": _time(state.set_at),
        "expires_at": _time(state.expires_at),
        "because": list(state.because),
    }


def customer_score(*, connection: Connection, customer_id: str, at: Instant) -> dict[str, Any]:
    """Score, tier, pools and present tags (weight, set_at, expires_at, the events behind each) at ``at``.

    The published view is as of the last event or timer; a tag or pool whose expiry has
    passed since (the timer loop has not run yet) is already left out here.
    """
    text = connection.execute(select(VIEWS.c.view).where(VIEWS.c.customer_id == customer_id)).scalar()
    if text is None:
        return {
            "customer_id": customer_id,
            "score": 0,
            "risk_tier": DEFAULT_TIER,
            "pools": [],
            "tags": [],
            "as_of": None,
            "merged_into": None,
        }
    view = CustomerView.from_dict(json.loads(text))
    tags = [t for t in view.tags if _present(t, at)]
    pools = [p for p in view.pools if _present(p, at)]
    tiers = [t.risk_tier for t in tags if t.risk_tier is not None]
    return {
        "customer_id": customer_id,
        "score": sum(t.weight for t in tags),
        "risk_tier": max(tiers, key=RISK_TIERS.index) if tiers else DEFAULT_TIER,
        "pools": [p.name for p in pools],
        "pool_details": [
            {
                "pool": p.name,
                "rule": p.rule,
                "since": _time(p.set_at),
                "until": _time(p.expires_at),
                "because": list(p.because),
            }
            for p in pools
        ],
        "tags": [_tag_json(t) for t in tags],
        "as_of": format_instant(view.at),
        "merged_into": view.merged_into,
    }


def _cursor(since: Instant, customer_id: str) -> str:
    return f"{since}:{customer_id}"


def pool_members(
    *,
    connection: Connection,
    pool: str,
    at: Instant,
    since: Instant | None = None,
    after: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """Customers in ``pool`` at ``at`` who joined at or after ``since``, oldest first, ``limit`` per page.

    ``after`` is the ``next`` cursor of the previous page. Raises ValueError for a bad cursor.
    """
    query = select(POOLS.c.customer_id, POOLS.c.since, POOLS.c.expires_at).where(
        POOLS.c.pool == pool, or_(POOLS.c.expires_at.is_(None), POOLS.c.expires_at > at)
    )
    if since is not None:
        query = query.where(POOLS.c.since >= since)
    if after:
        joined, _, customer = after.partition(":")
        if not joined.lstrip("-").isdigit() or not customer:
            raise ValueError(f"bad cursor {after!r}")
        query = query.where(tuple_(POOLS.c.since, POOLS.c.customer_id) > tuple_(int(joined), customer))
    rows = connection.execute(query.order_by(POOLS.c.since, POOLS.c.customer_id).limit(limit + 1)).all()
    page = rows[:limit]
    return {
        "pool": pool,
        "members": [
            {"customer_id": r.customer_id, "since": _time(r.since), "until": _time(r.expires_at)} for r in page
        ],
        "next": _cursor(page[-1].since, page[-1].customer_id) if len(rows) > limit else None,
    }


def stats(*, connection: Connection) -> dict[str, Any]:
    """Behaviours recorded (one per touchpoint, by type), customers, pool sizes and the engine's counters."""
    by_type = {str(k): int(n) for k, n in connection.execute(select(COUNTS.c.type, COUNTS.c.count))}
    customers = connection.execute(select(func.count()).select_from(CUSTOMERS)).scalar_one()
    pools = {str(k): int(n) for k, n in connection.execute(select(POOLS.c.pool, func.count()).group_by(POOLS.c.pool))}
    record = connection.execute(select(STATE.c.record)).scalar()
    counters = json.loads(record)["counters"] if record else {}
    return {
        "behaviours": sum(by_type.values()),
        "behaviours_by_type": by_type,
        "customers": int(customers),
        "pools": pools,
        "engine": counters,
    }


def rules_warnings(rules: RuleSet) -> list[str]:
    """What is legal but probably a mistake: tags or pools nothing sets, rules never in force."""
    targets = {(r.target_kind, r.target) for r in rules.rules}
    warnings = [f"tag {name!r} is defined but no rule sets it" for name in rules.tags if ("tag", name) not in targets]
    warnings += [
        f"pool {name!r} is defined but no rule fills it" for name in rules.pools if ("pool", name) not in targets
    ]
    warnings += [
        f"rule {r.id!r} (line {r.line}) is retired before it takes effect"
        for r in rules.rules
        if r.retired_from is not None and r.retired_from <= r.effective_from
    ]
    return warnings


def validate_rules(text: str) -> dict[str, Any]:
    """Validate rules YAML text; RulesError (naming the line) when invalid."""
    rules = parse_rules(text, source="<request>")
    return {
        "ok": True,
        "version": rules.version,
        "digest": rules.digest,
        "rules": [
            {"id": r.id, "target": f"{r.target_kind}:{r.target}", "effective_from": format_instant(r.effective_from)}
            for r in rules.rules
        ],
        "warnings": rules_warnings(rules),
    }


def parse_time(text: str) -> Instant:
    """An ISO-8601 query parameter with an offset (a ``+`` decoded as a space is put back); ValueError otherwise."""
    return parse_instant(text.strip().replace(" ", "+"))
