"""``crm score``: replay an event log through behavior-scoring's engine, check a rules file.

behavior-scoring's modules are imported inside each command, so the rest of ``crm`` works
where behavior-scoring is not installed.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Behaviour scores: replay events in event time, check a rules file.",
    no_args_is_help=True,
    add_completion=False,
)
RulesOption = Annotated[
    Path | None, typer.Option("--rules", help="Rules YAML (default: behavior-scoring's rules/default.yaml).")
]


def _err(line: str) -> None:
    """One line on stderr."""
    print(line, file=sys.stderr)


@app.command()
def replay(
    events: Annotated[Path, typer.Argument(help="JSONL events in arrival order; - for stdin.")],
    at: Annotated[str, typer.Option("--at", help="The instant T, ISO-8601 with an offset.")],
    rules: RulesOption = None,
    lateness: Annotated[
        str | None, typer.Option(help="Allowed lateness, e.g. 10m (default: the rules file's).")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No summary on stderr.")] = False,
) -> None:
    """Print one JSON line per customer at instant T: score, risk tier, pools, tags with their events."""
    from behavior_scoring.domain.instants import parse_duration, parse_instant
    from behavior_scoring.domain.rulesfile import RulesError, load_rules
    from behavior_scoring.replay import ReplayError, replay_file, write_result

    try:
        instant = parse_instant(at)
        window = parse_duration(lateness) if lateness is not None else None
    except ValueError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    try:
        ruleset = load_rules(rules)
        result = replay_file(events, at=instant, rules=ruleset, lateness=window)
    except (ReplayError, RulesError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    except OSError as exc:
        _err(f"error: cannot read {events}: {exc.strerror or exc}")
        raise typer.Exit(2) from None
    write_result(result, sys.stdout)
    if not quiet:
        _err(json.dumps({"replay": asdict(result.stats), "rules": result.rules_version}))


@app.command()
def validate(rules: Annotated[Path, typer.Argument(help="Rules YAML to check.")]) -> None:
    """Check a rules file; errors name the line."""
    from behavior_scoring.domain.instants import format_duration, format_instant
    from behavior_scoring.domain.rulesfile import RulesError, condition_kind, load_rules

    try:
        ruleset = load_rules(rules)
    except RulesError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    print(f"{rules}: version {ruleset.version}, lateness {format_duration(ruleset.allowed_lateness)}")
    for rule in ruleset.rules:
        retired = f" until {format_instant(rule.retired_from)}" if rule.retired_from is not None else ""
        kind = condition_kind(rule.condition)
        since = format_instant(rule.effective_from)
        print(f"  {rule.id}: {kind} → {rule.target_kind} {rule.target} from {since}{retired}")
