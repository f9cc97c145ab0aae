"""``crm route``: check a rules file, simulate one lead, replay a stream of events in event time.

lead-router's modules are imported inside each command, so the rest of ``crm`` works
where lead-router is not installed.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from lead_router.domain.roster import Roster
    from lead_router.domain.rules_yaml import LoadedRules

app = typer.Typer(
    help="Routing rules: check a rules file, simulate one lead, replay events in event time.",
    no_args_is_help=True,
    add_completion=False,
)
RulesOption = Annotated[
    Path | None, typer.Option("--rules", help="Rules YAML (default: lead-router's routing.default.yaml).")
]
RosterOption = Annotated[
    Path | None, typer.Option("--roster", help="Roster JSON; default: the teams and reps in the rules file.")
]


def _err(line: str) -> None:
    """One line on stderr."""
    print(line, file=sys.stderr)


def _load(rules: Path | None, roster: Path | None, today: datetime) -> LoadedRules:
    """Read roster and rules, print warnings, exit 2 on an invalid file."""
    from lead_router.domain.roster import RosterError
    from lead_router.domain.rules_yaml import RulesError
    from lead_router.files import read_roster, read_rules
    from lead_router.settings import DEFAULT_ROUTING

    the_roster: Roster | None = None
    try:
        if roster is not None:
            the_roster = read_roster(roster)
        path = rules or DEFAULT_ROUTING
        loaded = read_rules(path, roster=the_roster, today=today.date())
    except (RosterError, RulesError, OSError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    for warning in loaded.warnings:
        _err(f"warning: {warning.render(str(path))}")
    return loaded


def _time(text: str | None, default: datetime) -> datetime:
    """An RFC 3339 option value, or ``default``."""
    from crmkit.timeutil import parse_rfc3339

    if text is None:
        return default
    try:
        return parse_rfc3339(text)
    except ValueError:
        _err(f"error: {text!r} is not an RFC 3339 time with an offset (2026-11-23T09:00:00+08:00)")
        raise typer.Exit(2) from None


@app.command()
def check(rules: Annotated[Path, typer.Argument(help="Rules YAML.")], roster: RosterOption = None) -> None:
    """Validate a rules file: errors (with lines) exit 2; warnings name rules that cannot match today."""
    loaded = _load(rules, roster, datetime.now(UTC))
    print(f"ok: {len(loaded.rules.rules)} rules, version {loaded.rules.version}, {len(loaded.warnings)} warning(s)")


@app.command()
def simulate(
    lead: Annotated[Path, typer.Argument(help="One lead as JSON (lead.created fields; 'at' = when it arrives).")],
    rules: RulesOption = None,
    roster: RosterOption = None,
    at: Annotated[str | None, typer.Option(help="Decide as of this time (default: the lead's 'at', else now).")] = None,
    loads: Annotated[Path | None, typer.Option(help="JSON {rep_id: open leads}; default: nobody holds any.")] = None,
) -> None:
    """Route one lead with no side effects and print the decision with its full trace (the seeds' debug mode)."""
    from lead_router.domain.engine import RoutingState, decide
    from lead_router.domain.lead import LeadInput

    try:
        data: dict[str, Any] = json.loads(lead.read_text(encoding="utf-8"))
        lead_input = LeadInput.from_mapping(data)
        open_leads = {str(k): int(v) for k, v in json.loads(loads.read_text(encoding="utf-8")).items()} if loads else {}
    except (OSError, ValueError, AttributeError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    now = _time(at or data.get("at"), datetime.now(UTC))
    loaded = _load(rules, roster, now)
    decision = decide(
        lead_input, rules=loaded.rules, roster=loaded.roster, state=RoutingState(loads=open_leads), now=now
    )
    out = {
        "lead_id": decision.lead_id,
        "assignee": decision.assignee,
        "pool_reason": decision.pool_reason or None,
        "rule": decision.rule or None,
        "explanation": decision.explanation,
        "trace": decision.trace_dict(),
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))


@app.command()
def replay(
    events: Annotated[Path, typer.Argument(help="JSON Lines: lead.created, rep.updated, lead.viewed, … (see docs).")],
    until: Annotated[str, typer.Option(help="Replay and fire SLA timers up to this event time (RFC 3339).")],
    rules: RulesOption = None,
    roster: RosterOption = None,
) -> None:
    """Replay events in event time; print one JSON line per lead. Alarms and violations go to stderr.

    Exit 1 when an invariant was violated (a lead held by a deactivated rep, capacity
    exceeded, a pooled lead without a reason).
    """
    from lead_router.replay import ReplayError, parse_events
    from lead_router.replay import replay as run_replay

    end = _time(until, datetime.now(UTC))
    loaded = _load(rules, roster, end)
    try:
        with events.open(encoding="utf-8") as handle:
            parsed = parse_events(handle)
        result = run_replay(parsed, rules=loaded.rules, roster=loaded.roster, until=end)
    except (OSError, ReplayError) as exc:
        _err(f"error: {events}: {exc}")
        raise typer.Exit(2) from None
    for record in result.leads:
        print(json.dumps(record.to_line(), ensure_ascii=False))
    for alarm in result.alarms:
        _err(json.dumps(alarm.to_dict(), ensure_ascii=False))
    for violation in result.violations:
        _err(f"invariant violated: {violation}")
    if result.violations:
        raise typer.Exit(1)
