"""Replay a JSONL event log through the engine and report every customer's state at instant T.

Lines are read in the order given (arrival order); each is
``{"id", "type", "at", "customer_id", ...}`` (see ``domain.events``). Events later than T
have not happened yet at T and are skipped (counted). The output is one JSON object per
customer, by customer id: ``{"customer_id", "score", "risk_tier", "pools", "tags"}``.

    python -m behavior_scoring.replay EVENTS.jsonl --at 2026-11-23T20:00:00+08:00 [--rules RULES.yaml]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from behavior_scoring.domain.engine import Engine
from behavior_scoring.domain.events import Event, EventError, parse_event
from behavior_scoring.domain.instants import Duration, Instant, parse_instant, to_instant
from behavior_scoring.domain.ruleset import RuleSet
from behavior_scoring.domain.rulesfile import RulesError, load_rules
from behavior_scoring.domain.views import CustomerView

CHUNK = 10_000
"""Events parsed before they are handed to the engine in one call."""
PRUNE_ABOVE = 2_000_000
"""Prune stored behaviour whenever this many more events have been stored since the last prune."""


class ReplayError(ValueError):
    """A bad input line; the message reads ``source:line: problem``."""

    def __init__(self, source: str, line: int, message: str, *, field: str = "", event_id: str = "") -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line
        self.reason = message
        self.field = field
        self.event_id = event_id


@dataclass(slots=True)
class ReplayStats:
    """What the replay read and did."""

    lines: int = 0
    events: int = 0
    after_at: int = 0
    duplicates: int = 0
    late: int = 0
    late_not_applied: int = 0
    customers: int = 0


@dataclass(slots=True)
class ReplayResult:
    """Every customer's view at ``at``, and the stats."""

    at: Instant
    views: list[CustomerView]
    stats: ReplayStats
    rules_version: str = ""
    late_sample: list[dict[str, Any]] = field(default_factory=list)

    def lines(self) -> Iterator[str]:
        """The output lines, one JSON object per customer."""
        for view in self.views:
            yield json.dumps(view.to_json(), ensure_ascii=False, separators=(",", ":"))


def replay_lines(
    lines: Iterable[str],
    *,
    rules: RuleSet,
    at: datetime | Instant,
    source: str = "<events>",
    lateness: Duration | None = None,
) -> ReplayResult:
    """Run the engine over JSONL lines in arrival order; every customer's view at ``at``.

    Raises :class:`ReplayError` (naming the line) for a line that is not a JSON object, an
    unknown event type, a missing ``id``/``customer_id``/``at``, an unparseable time or a
    bad field. Blank lines are skipped.
    """
    t = at if isinstance(at, int) else to_instant(at)
    collecting = gc.isenabled()
    gc.disable()  # a bulk load makes only acyclic garbage; full collections over it would cost a third
    try:
        return _replay(lines, rules=rules, at=t, source=source, lateness=lateness)
    finally:
        if collecting:
            gc.enable()


def _replay(
    lines: Iterable[str], *, rules: RuleSet, at: Instant, source: str, lateness: Duration | None
) -> ReplayResult:
    """:func:`replay_lines` with the garbage collector already paused."""
    t = at
    engine = Engine(rules, lateness=lateness)
    stats = ReplayStats()
    decoder = json.JSONDecoder()
    raw_decode = decoder.raw_decode
    prune_at = PRUNE_ABOVE
    counters = engine.counters
    chunk: list[Event] = []
    number = events = after = 0
    for number, line in enumerate(lines, 1):
        try:
            raw, end = raw_decode(line)  # the fast path: nothing before, at most a newline after
        except ValueError:
            raw, end = None, -1
        if end != len(line) and not (end > 0 and line[end:].isspace()):
            if not line or line.isspace():
                continue
            try:
                raw = decoder.decode(line)  # leading whitespace is fine; anything else gets its message
            except ValueError as exc:
                raise ReplayError(source, number, f"not JSON: {exc}") from None
        if type(raw) is not dict:
            raise ReplayError(source, number, f"expected a JSON object, got {type(raw).__name__}")
        try:
            event = parse_event(raw)
        except EventError as exc:
            raise _bad_event(source, number, raw, exc) from None
        events += 1
        if event.at > t:
            after += 1
            continue
        chunk.append(event)
        if len(chunk) >= CHUNK:
            engine.ingest_all(chunk, now=t)
            chunk.clear()
            if counters.stored >= prune_at:
                engine.prune()
                prune_at = counters.stored + PRUNE_ABOVE
    engine.ingest_all(chunk, now=t)
    stats.events, stats.after_at = events, after
    stats.lines = number
    views = list(engine.views(t))
    counters = engine.counters
    stats.duplicates, stats.late, stats.late_not_applied = counters.duplicates, counters.late, counters.late_not_applied
    stats.customers = len(views)
    return ReplayResult(t, views, stats, rules.version, [asdict(e) for e in list(engine.late)[:20]])


def _bad_event(source: str, number: int, raw: dict[str, Any], exc: EventError) -> ReplayError:
    """The ReplayError for an invalid event, naming its id when it has one."""
    event_id = raw.get("id")
    known = event_id if isinstance(event_id, str) else ""
    label = f" (event {known})" if known else ""
    return ReplayError(source, number, f"{exc}{label}", field=exc.field, event_id=known)


def replay_file(
    path: Path | str, *, at: datetime | Instant, rules: RuleSet | None = None, lateness: Duration | None = None
) -> ReplayResult:
    """:func:`replay_lines` over a file (``-`` for standard input), default rules unless given."""
    ruleset = rules if rules is not None else load_rules()
    if str(path) == "-":
        return replay_lines(sys.stdin, rules=ruleset, at=at, source="<stdin>", lateness=lateness)
    with open(path, encoding="utf-8") as handle:
        return replay_lines(handle, rules=ruleset, at=at, source=str(path), lateness=lateness)


def write_result(result: ReplayResult, out: IO[str]) -> None:
    """Print one JSON line per customer; a reader that stops early (``| head``) is not an error."""
    try:
        for line in result.lines():
            out.write(line)
            out.write("\n")
        out.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())  # no second error when Python flushes at exit


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``crm score replay`` is the same with Typer)."""
    parser = argparse.ArgumentParser(prog="python -m behavior_scoring.replay", description=__doc__.split("\n")[0])
    parser.add_argument("events", help="JSONL file in arrival order, or - for standard input")
    parser.add_argument("--at", required=True, help="the instant T, ISO-8601 with an offset")
    parser.add_argument("--rules", default=None, help="rules YAML (default: the shipped rules/default.yaml)")
    args = parser.parse_args(argv)
    try:
        at = parse_instant(args.at)
        rules = load_rules(args.rules)
        result = replay_file(args.events, at=at, rules=rules)
    except (ReplayError, RulesError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_result(result, sys.stdout)
    print(json.dumps({"replay": asdict(result.stats), "rules": result.rules_version}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
