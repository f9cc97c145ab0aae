"""Read a routing-rules YAML file into a :class:`~.rules.RuleSet`, rejecting what it cannot mean.

Errors name the file and line (from the YAML node marks) and are all reported at once:
unknown fields at any level, unknown regions (GB/T 2260), industries (GB/T 4754),
teams, reps, strategies and time zones, malformed durations, dates and hours. Warnings
(:mod:`.rules_lint`) flag rules that load fine but cannot match today.

Shape (every key optional except ``rules``, each rule's ``name`` and ``target``)::

    version: "2026-11-23.1"
    timezone: Asia/Shanghai
    min_confidence: 0.75
    sla: {not_viewed: 2h, no_contact: 24h, idle: 3d, contact_failed_to_pool: true}
    pool: {daily_claim_limit: 20}
    alarms: {silent_hours: 4, min_leads: 3, pool_share: 0.15, pool_window_hours: 24, min_decisions: 20}
    teams: {east: {lead: rep-e-lead, name: 沪苏浙}}        # an inline roster, if no roster is given
    reps: [{id: rep-sh-01, team: east, capacity: 30, skills: [骨科], weight: 2}]
    rules:
      - name: east-ortho
        match: {region: ["31", 江苏], industry: [Q], product: [骨科耗材], source: [form],
                tier: [A], score: {min: 60, max: 100}, owned: false}
        target: {team: east, reps: [rep-sh-01], strategy: weighted, capacity: 30,
                 weights: {rep-sh-01: 3}, weight_decay: {effective_from: 2026-03-01, factor: 0.5, reps: []},
                 skills: [骨科]}
        hours: {tz: Asia/Shanghai, days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}
        effective_from: 2026-01-01
        effective_until: 2026-12-31
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfoNotFoundError

import yaml

from lead_router.domain.industries import SECTIONS, normalise_industry
from lead_router.domain.regions import code_prefix, is_known_prefix, normalise_region
from lead_router.domain.roster import Roster, RosterError, roster_from_mapping
from lead_router.domain.rules import (
    STRATEGIES,
    AlarmPolicy,
    Conditions,
    Issue,
    PoolPolicy,
    Rule,
    RuleSet,
    Strategy,
    Target,
    WeightDecay,
    WorkingHours,
    fold,
    zone,
)
from lead_router.domain.rules_lint import lint
from lead_router.domain.sla import SlaPolicy

_TOP = {"version", "timezone", "min_confidence", "sla", "pool", "alarms", "teams", "reps", "rules"}
_RULE = {"name", "match", "target", "hours", "effective_from", "effective_until"}
_MATCH = {"region", "industry", "product", "source", "tier", "score", "owned"}
_TARGET = {"team", "reps", "strategy", "capacity", "weights", "weight_decay", "skills"}
_HOURS = {"tz", "days", "from", "to"}
_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
T = TypeVar("T")


class RulesError(ValueError):
    """The rules file is invalid; ``issues`` holds every problem, each with its line."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        """Keep the issues and build a message listing them all."""
        self.source = source
        self.issues = issues
        super().__init__("\n".join(issue.render(source) for issue in issues))


@dataclass(frozen=True)
class LoadedRules:
    """A valid rule set, the roster it was checked against, and warnings about it."""

    rules: RuleSet
    roster: Roster
    warnings: tuple[Issue, ...] = ()


@dataclass
class _Reader:
    """Walks the YAML node tree, collecting issues instead of stopping at the first."""

    issues: list[Issue] = field(default_factory=list)
    _loader: yaml.SafeLoader = field(default_factory=lambda: yaml.SafeLoader(""))

    def error(self, node: yaml.Node | None, message: str, rule: str = "") -> None:
        """Record an issue at ``node``'s line."""
        self.issues.append(Issue(node.start_mark.line + 1 if node is not None else 0, message, rule))

    def value(self, node: yaml.Node) -> Any:
        """The Python value of a node."""
        return self._loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, allowed: set[str], where: str) -> dict[str, yaml.Node]:
        """A mapping's value nodes by key; unknown or repeated keys are issues."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{where} must be a mapping")
            return {}
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(self.value(key_node))
            if key not in allowed:
                self.error(key_node, f"{where}: unknown field {key!r} (allowed: {', '.join(sorted(allowed))})")
            elif key in out:
                self.error(key_node, f"{where}: {key!r} given twice")
            else:
                out[key] = value_node
        return out

    def typed(self, node: yaml.Node, kind: type[T], where: str, default: T) -> T:
        """The node's value if it has type ``kind`` (bool is not an int here), else an issue and ``default``."""
        value = self.value(node)
        if isinstance(value, kind) and not (kind is not bool and isinstance(value, bool)):
            return value
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)  # type: ignore[return-value]
        self.error(node, f"{where} must be {kind.__name__}, got {value!r}")
        return default

    def strings(self, node: yaml.Node, where: str) -> list[str]:
        """A string or a list of scalars, as strings."""
        value = self.value(node)
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str | int) and not isinstance(item, bool) for item in items):
            self.error(node, f"{where} must be a string or a list of strings")
            return []
        return [str(item) for item in items]

    def day(self, node: yaml.Node, where: str) -> date | None:
        """A YAML date (``2026-03-01``)."""
        value = self.value(node)
        if isinstance(value, date):
            return value
        self.error(node, f"{where} must be a date like 2026-03-01, got {value!r}")
        return None

    def duration(self, node: yaml.Node, where: str, default: timedelta) -> timedelta:
        """``90m``, ``2h``, ``3d`` or a number of seconds."""
        value = self.value(node)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return timedelta(seconds=value)
        found = _DURATION.match(str(value).strip())
        if found and int(found.group(1)) > 0:
            return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
        self.error(node, f"{where} must be a duration like 90m, 2h or 3d, got {value!r}")
        return default


def _policies(reader: _Reader, top: dict[str, yaml.Node]) -> tuple[SlaPolicy, PoolPolicy, AlarmPolicy]:
    """The sla, pool and alarms sections."""
    sla = SlaPolicy()
    if "sla" in top:
        raw = reader.mapping(top["sla"], {"not_viewed", "no_contact", "idle", "contact_failed_to_pool"}, "sla")
        sla = SlaPolicy(
            not_viewed=reader.duration(raw["not_viewed"], "sla.not_viewed", sla.not_viewed)
            if "not_viewed" in raw
            else sla.not_viewed,
            no_contact=reader.duration(raw["no_contact"], "sla.no_contact", sla.no_contact)
            if "no_contact" in raw
            else sla.no_contact,
            idle=reader.duration(raw["idle"], "sla.idle", sla.idle) if "idle" in raw else sla.idle,
            contact_failed_to_pool=reader.typed(raw["contact_failed_to_pool"], bool, "sla.contact_failed_to_pool", True)
            if "contact_failed_to_pool" in raw
            else True,
        )
    pool = PoolPolicy()
    if "pool" in top:
        raw = reader.mapping(top["pool"], {"daily_claim_limit"}, "pool")
        if "daily_claim_limit" in raw:
            pool = PoolPolicy(reader.typed(raw["daily_claim_limit"], int, "pool.daily_claim_limit", 20))
    alarms = AlarmPolicy()
    if "alarms" in top:
        names = {"silent_hours": float, "min_leads": int, "pool_share": float, "pool_window_hours": float}
        names["min_decisions"] = int
        raw = reader.mapping(top["alarms"], set(names), "alarms")
        values: dict[str, Any] = {
            key: reader.typed(node, names[key], f"alarms.{key}", getattr(alarms, key)) for key, node in raw.items()
        }
        alarms = AlarmPolicy(**values)
    return sla, pool, alarms


def _conditions(reader: _Reader, node: yaml.Node, where: str) -> Conditions:
    """A rule's ``match`` section, with regions and industries checked against the standards."""
    raw = reader.mapping(node, _MATCH, f"{where}.match")
    regions: list[str] = []
    for item in reader.strings(raw["region"], f"{where}.match.region") if "region" in raw else []:
        prefix = item if item.isdigit() and len(item) in (2, 4) else code_prefix(normalise_region(item))
        if not prefix or not is_known_prefix(prefix):
            reader.error(raw["region"], f"{where}: unknown region {item!r} (GB/T 2260 code, prefix or name)")
        else:
            regions.append(prefix)
    industries: set[str] = set()
    for item in reader.strings(raw["industry"], f"{where}.match.industry") if "industry" in raw else []:
        letter = item if item in SECTIONS else normalise_industry(item)
        if not letter:
            reader.error(raw["industry"], f"{where}: unknown industry {item!r} (GB/T 4754 section A–T or its name)")
        industries.add(letter)
    sets: dict[str, frozenset[str]] = {}
    for key in ("product", "source", "tier"):
        sets[key] = (
            frozenset(fold(s) for s in reader.strings(raw[key], f"{where}.match.{key}")) if key in raw else frozenset()
        )
    score_min = score_max = None
    if "score" in raw:
        score = reader.mapping(raw["score"], {"min", "max"}, f"{where}.match.score")
        score_min = reader.typed(score["min"], int, f"{where}.match.score.min", 0) if "min" in score else None
        score_max = reader.typed(score["max"], int, f"{where}.match.score.max", 0) if "max" in score else None
        if score_min is not None and score_max is not None and score_min > score_max:
            reader.error(raw["score"], f"{where}: score min {score_min} is above max {score_max}")
    owned = reader.typed(raw["owned"], bool, f"{where}.match.owned", False) if "owned" in raw else None
    return Conditions(
        regions=tuple(dict.fromkeys(regions)),
        industries=frozenset(i for i in industries if i),
        products=sets["product"],
        sources=sets["source"],
        tiers=sets["tier"],
        score_min=score_min,
        score_max=score_max,
        owned=owned,
    )


def _target(reader: _Reader, node: yaml.Node, where: str, roster: Roster) -> Target:
    """A rule's ``target``: a known team and/or known reps, a strategy, weights and decay."""
    raw = reader.mapping(node, _TARGET, f"{where}.target")
    team = reader.typed(raw["team"], str, f"{where}.target.team", "") if "team" in raw else ""
    if team and team not in roster.teams:
        known = ", ".join(sorted(roster.teams)) or "none"
        reader.error(raw["team"], f"{where}: unknown team {team!r} (roster teams: {known})")
    reps = tuple(reader.strings(raw["reps"], f"{where}.target.reps")) if "reps" in raw else ()
    for rep in reps:
        if rep not in roster.reps:
            reader.error(raw["reps"], f"{where}: unknown rep {rep!r}")
    if not team and not reps:
        reader.error(node, f"{where}: target needs a team or reps")
    strategy: Strategy = "round_robin"
    if "strategy" in raw:
        name = reader.typed(raw["strategy"], str, f"{where}.target.strategy", "round_robin")
        matched = [s for s in STRATEGIES if s == name]
        if not matched:
            reader.error(raw["strategy"], f"{where}: unknown strategy {name!r} (one of {', '.join(STRATEGIES)})")
        strategy = matched[0] if matched else "round_robin"
    capacity = reader.typed(raw["capacity"], int, f"{where}.target.capacity", 0) if "capacity" in raw else None
    weights: dict[str, int] = {}
    if "weights" in raw:
        value = reader.value(raw["weights"])
        if not isinstance(value, dict) or not all(isinstance(w, int) and w >= 0 for w in value.values()):
            reader.error(raw["weights"], f"{where}: weights must map rep ids to integers ≥ 0")
        else:
            weights = {str(k): int(v) for k, v in value.items()}
            for rep in weights:
                if rep not in roster.reps:
                    reader.error(raw["weights"], f"{where}: weights name unknown rep {rep!r}")
    decay = _decay(reader, raw["weight_decay"], where, roster) if "weight_decay" in raw else None
    if (weights or decay) and strategy != "weighted":
        reader.error(node, f"{where}: weights and weight_decay need strategy: weighted")
    skills = frozenset(reader.strings(raw["skills"], f"{where}.target.skills")) if "skills" in raw else frozenset()
    return Target(team, reps, strategy, capacity, weights, decay, skills)


def _decay(reader: _Reader, node: yaml.Node, where: str, roster: Roster) -> WeightDecay | None:
    """``weight_decay: {effective_from, factor, reps}``."""
    raw = reader.mapping(node, {"effective_from", "factor", "reps"}, f"{where}.target.weight_decay")
    if "effective_from" not in raw or "factor" not in raw:
        reader.error(node, f"{where}: weight_decay needs effective_from and factor")
        return None
    start = reader.day(raw["effective_from"], f"{where}.weight_decay.effective_from")
    factor = reader.typed(raw["factor"], float, f"{where}.weight_decay.factor", 1.0)
    if not 0.0 <= factor <= 1.0:
        reader.error(raw["factor"], f"{where}: weight_decay factor must be within 0..1")
    reps = frozenset(reader.strings(raw["reps"], f"{where}.weight_decay.reps")) if "reps" in raw else frozenset()
    for rep in reps - set(roster.reps):
        reader.error(raw["reps"], f"{where}: weight_decay names unknown rep {rep!r}")
    return WeightDecay(start, factor, reps) if start else None


def _hours(reader: _Reader, node: yaml.Node, where: str, default_tz: str) -> WorkingHours | None:
    """``hours: {tz, days, from, to}``."""
    raw = reader.mapping(node, _HOURS, f"{where}.hours")
    tz = reader.typed(raw["tz"], str, f"{where}.hours.tz", default_tz) if "tz" in raw else default_tz
    if not _zone_ok(tz):
        reader.error(raw.get("tz", node), f"{where}: unknown time zone {tz!r}")
        tz = default_tz
    days = frozenset(range(5))
    if "days" in raw:
        names = [d.lower()[:3] for d in reader.strings(raw["days"], f"{where}.hours.days")]
        bad = [d for d in names if d not in _DAYS]
        if bad or not names:
            reader.error(raw["days"], f"{where}: days must be some of {', '.join(_DAYS)}")
        days = frozenset(_DAYS[d] for d in names if d in _DAYS)
    bounds = [
        _clock(reader, raw.get(key), f"{where}.hours.{key}", fallback)
        for key, fallback in (("from", time(9)), ("to", time(18)))
    ]
    if bounds[0] == bounds[1]:
        reader.error(node, f"{where}: hours from and to are equal")
    return WorkingHours(tz=tz, days=days, start=bounds[0], end=bounds[1])


def _zone_ok(name: str) -> bool:
    """True for an IANA time zone name."""
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _clock(reader: _Reader, node: yaml.Node | None, where: str, default: time) -> time:
    """``"09:00"`` → time (YAML reads an unquoted 09:00 as sexagesimal minutes, so accept ints too)."""
    if node is None:
        return default
    value = reader.value(node)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        reader.error(node, f'{where} must be a time like "09:00", got {value!r}')
        return default


def _rule(reader: _Reader, node: yaml.Node, index: int, roster: Roster, tz: str) -> Rule | None:
    """One rule; ``None`` if it is too broken to build."""
    raw = reader.mapping(node, _RULE, f"rules[{index}]")
    name = reader.typed(raw["name"], str, f"rules[{index}].name", "") if "name" in raw else ""
    if not name:
        reader.error(node, f"rules[{index}] needs a name")
        return None
    where = f"rule {name!r}"
    if "target" not in raw:
        reader.error(node, f"{where} needs a target")
        return None
    conditions = _conditions(reader, raw["match"], where) if "match" in raw else Conditions()
    target = _target(reader, raw["target"], where, roster)
    hours = _hours(reader, raw["hours"], where, tz) if "hours" in raw else None
    start = reader.day(raw["effective_from"], f"{where}.effective_from") if "effective_from" in raw else None
    until = reader.day(raw["effective_until"], f"{where}.effective_until") if "effective_until" in raw else None
    if start and until and start > until:
        reader.error(raw["effective_until"], f"{where}: effective_until {until} is before effective_from {start}")
    return Rule(name, conditions, target, hours, start, until, line=node.start_mark.line + 1)


def _roster(reader: _Reader, top: dict[str, yaml.Node], root: yaml.Node, given: Roster | None) -> Roster:
    """The roster to check teams against: the one given, else the file's own teams/reps."""
    if given is not None:
        return given
    if "teams" not in top:
        reader.error(root, "no roster: give one (--roster) or add teams and reps to the rules file")
        return Roster(teams={}, reps={})
    try:
        data: dict[str, Any] = {key: reader.value(top[key]) for key in ("teams", "reps") if key in top}
        return roster_from_mapping(data)
    except RosterError as exc:
        reader.error(top["teams"], f"roster: {exc}")
        return Roster(teams={}, reps={})
    except (TypeError, AttributeError) as exc:
        reader.error(top["teams"], f"roster: malformed teams or reps ({exc})")
        return Roster(teams={}, reps={})


def parse_rules(
    text: str,
    *,
    source: str = "<rules>",
    roster: Roster | None = None,
    today: date | None = None,
) -> LoadedRules:
    """Parse and validate rules YAML; raise :class:`RulesError` listing every problem with its line.

    ``roster`` (e.g. from ``--roster``) wins over teams/reps written in the file. With
    ``today``, warnings about rules that cannot match that day are attached.
    """
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RulesError(source, [Issue(mark.line + 1 if mark else 0, f"not valid YAML: {exc}")]) from None
    reader = _Reader()
    if root is None:
        raise RulesError(source, [Issue(0, "empty rules file")])
    top = reader.mapping(root, _TOP, "rules file")
    tz = reader.typed(top["timezone"], str, "timezone", "Asia/Shanghai") if "timezone" in top else "Asia/Shanghai"
    if not _zone_ok(tz):
        reader.error(top["timezone"], f"unknown time zone {tz!r}")
        tz = "Asia/Shanghai"
    version = str(reader.value(top["version"])) if "version" in top else "unversioned"
    confidence = reader.typed(top["min_confidence"], float, "min_confidence", 0.75) if "min_confidence" in top else 0.75
    sla, pool, alarms = _policies(reader, top)
    the_roster = _roster(reader, top, root, roster)
    rules: list[Rule] = []
    if "rules" not in top or not isinstance(top["rules"], yaml.SequenceNode):
        reader.error(top.get("rules", root), "rules must be a list")
    else:
        for index, node in enumerate(top["rules"].value):
            rule = _rule(reader, node, index, the_roster, tz)
            if rule is not None and any(r.name == rule.name for r in rules):
                reader.error(node, f"rule {rule.name!r} is defined twice")
            elif rule is not None:
                rules.append(rule)
    if reader.issues:
        raise RulesError(source, reader.issues)
    ruleset = RuleSet(version, tuple(rules), tz, confidence, sla, pool, alarms)
    warnings = tuple(lint(ruleset, the_roster, today)) if today else ()
    return LoadedRules(ruleset, the_roster, warnings)
