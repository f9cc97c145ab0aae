"""Load and validate a rules YAML file into a :class:`RuleSet`, with line numbers in errors.

The file is composed into YAML nodes (not constructed), so every error can name the line
of the offending key or value, and YAML 1.1 surprises (``21:00`` as a base-60 number,
``no`` as false) cannot happen: scalars are read as the text written. See
``services/behavior-scoring/rules/default.yaml`` for the format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from behavior_scoring.domain.events import EVENT_TYPES
from behavior_scoring.domain.instants import DAY, HOUR, MINUTE, Duration, Instant, parse_duration, parse_instant
from behavior_scoring.domain.ruleset import (
    RISK_TIERS,
    Absence,
    Condition,
    Count,
    EventFilter,
    Expiring,
    Holds,
    KeyedAll,
    PoolDef,
    Rule,
    RuleSet,
    TagDef,
)

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "rules" / "default.yaml"
"""The shipped rules (``services/behavior-scoring/rules/default.yaml``)."""

DEFAULT_LATENESS = 10 * MINUTE
DEFAULT_TTLS = {"behaviour": 72 * HOUR, "risk": 30 * DAY}
_KINDS = ("count", "absence", "all_followed", "holds", "expiring")
T = TypeVar("T")


class RulesError(ValueError):
    """A rules file that does not validate; the message starts with ``source:line:``."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line
        self.reason = message


class _Reader:
    """Typed access to composed YAML nodes, raising :class:`RulesError` with the node's line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Node, message: str) -> RulesError:
        """An error at ``node``'s line."""
        return RulesError(self.source, node.start_mark.line + 1, message)

    def mapping(
        self, node: Node, what: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Node]:
        """A mapping with only ``allowed`` keys (each at most once) and every ``required`` one."""
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node, f"a key in {what}")
            if key not in allowed:
                raise self.fail(key_node, f"unknown field {key!r} in {what} (allowed: {', '.join(allowed)})")
            if key in out:
                raise self.fail(key_node, f"duplicate field {key!r} in {what}")
            out[key] = value_node
        for key in required:
            if key not in out:
                raise self.fail(node, f"{what} needs {key!r}")
        return out

    def pairs(self, node: Node, what: str) -> list[tuple[Node, Node]]:
        """The key/value node pairs of a mapping with free keys (duplicates rejected)."""
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        seen: set[str] = set()
        for key_node, _ in node.value:
            key = self.scalar(key_node, f"a key in {what}")
            if key in seen:
                raise self.fail(key_node, f"duplicate key {key!r} in {what}")
            seen.add(key)
        return list(node.value)

    def sequence(self, node: Node, what: str) -> list[Node]:
        """A sequence's items."""
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def scalar(self, node: Node, what: str) -> str:
        """A scalar's text exactly as written."""
        if not isinstance(node, ScalarNode):
            raise self.fail(node, f"{what} must be a single value")
        return str(node.value)

    def text(self, node: Node, what: str) -> str:
        """A non-empty string."""
        value = self.scalar(node, what).strip()
        if not value:
            raise self.fail(node, f"{what} must not be empty")
        return value

    def convert(self, node: Node, what: str, parse: Callable[[str], T]) -> T:
        """A scalar passed through ``parse``; its ValueError becomes a RulesError."""
        try:
            return parse(self.scalar(node, what))
        except ValueError as exc:
            raise self.fail(node, f"{what}: {exc}") from None

    def integer(self, node: Node, what: str, *, minimum: int | None = None) -> int:
        """A whole number, optionally at least ``minimum``."""
        raw = self.scalar(node, what).strip()
        try:
            value = int(raw.replace("+", "", 1) if raw.startswith("+") else raw)
        except ValueError:
            raise self.fail(node, f"{what} must be a whole number, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise self.fail(node, f"{what} must be at least {minimum}, got {value}")
        return value

    def boolean(self, node: Node, what: str) -> bool:
        """``true`` or ``false``."""
        raw = self.scalar(node, what).strip().lower()
        if raw not in ("true", "false"):
            raise self.fail(node, f"{what} must be true or false, got {raw!r}")
        return raw == "true"

    def duration(self, node: Node, what: str) -> Duration:
        """A duration such as ``72h``."""
        value = self.convert(node, what, parse_duration)
        if value <= 0:
            raise self.fail(node, f"{what} must be positive")
        return value

    def instant(self, node: Node, what: str) -> Instant:
        """An ISO-8601 time with an offset."""
        return self.convert(node, what, parse_instant)


def _clock(text: str) -> int:
    """``HH:MM`` as minutes of the day."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"expected HH:MM, got {text!r}")
    return int(hours) * 60 + int(minutes)


class _Parser:
    """Builds a :class:`RuleSet` from composed nodes."""

    def __init__(self, source: str, root: Node) -> None:
        self.r = _Reader(source)
        self.source = source
        self.root = root
        self.tz: ZoneInfo | None = None

    def event_type(self, node: Node, what: str) -> str:
        """A known event type."""
        kind = self.r.text(node, what)
        if kind not in EVENT_TYPES:
            raise self.r.fail(node, f"unknown event type {kind!r} in {what} (known: {', '.join(sorted(EVENT_TYPES))})")
        return kind

    def event_field(self, node: Node, kind: str, what: str, *, time: bool = False) -> str:
        """A field that events of ``kind`` carry (a time field when ``time``)."""
        name = self.r.text(node, what)
        spec = EVENT_TYPES[kind].get(name)
        if spec is None:
            known = ", ".join(EVENT_TYPES[kind]) or "none"
            raise self.r.fail(node, f"unknown field {name!r} of {kind} in {what} (fields: {known})")
        if time and spec.kind != "time":
            raise self.r.fail(node, f"{what}: {kind}.{name} is not a time field")
        return name

    def where(self, node: Node | None, kind: str, what: str) -> tuple[tuple[str, str], ...]:
        """Field equalities."""
        if node is None:
            return ()
        out = []
        for key_node, value_node in self.r.pairs(node, f"{what}.where"):
            name = self.event_field(key_node, kind, f"{what}.where")
            out.append((name, self.r.scalar(value_node, f"{what}.where.{name}")))
        return tuple(sorted(out))

    def local_time(self, node: Node | None, what: str) -> tuple[int, int] | None:
        """A ``{from: HH:MM, to: HH:MM}`` range."""
        if node is None:
            return None
        spec = self.r.mapping(node, f"{what}.local_time", ("from", "to"), ("from", "to"))
        start = self.r.convert(spec["from"], f"{what}.local_time.from", _clock)
        end = self.r.convert(spec["to"], f"{what}.local_time.to", _clock)
        if start == end:
            raise self.r.fail(node, f"{what}.local_time is empty (from == to)")
        return (start, end)

    def main_filter(self, spec: dict[str, Node], what: str) -> EventFilter:
        """The block's own ``event``/``where``/``local_time``."""
        kind = self.event_type(spec["event"], f"{what}.event")
        return EventFilter(
            type=kind,
            where=self.where(spec.get("where"), kind, what),
            local_time=self.local_time(spec.get("local_time"), what),
            tz=self.tz,
        )

    def other_filter(self, node: Node, what: str) -> EventFilter:
        """A secondary filter: a bare event type or ``{event, where}``."""
        if isinstance(node, ScalarNode):
            return EventFilter(type=self.event_type(node, what))
        spec = self.r.mapping(node, what, ("event", "where"), ("event",))
        kind = self.event_type(spec["event"], f"{what}.event")
        return EventFilter(type=kind, where=self.where(spec.get("where"), kind, what))

    def condition(self, kind: str, node: Node, what: str) -> Condition:
        """One condition block."""
        r = self.r
        common = ("event", "where", "local_time")
        if kind in ("count", "holds"):
            spec = r.mapping(
                node, what, (*common, "at_least", "within", "distinct", "none_of"), ("event", "at_least", "within")
            )
            flt = self.main_filter(spec, what)
            distinct = self.event_field(spec["distinct"], flt.type, f"{what}.distinct") if "distinct" in spec else None
            none_of = self.other_filter(spec["none_of"], f"{what}.none_of") if "none_of" in spec else None
            at_least = r.integer(spec["at_least"], f"{what}.at_least", minimum=1)
            within = r.duration(spec["within"], f"{what}.within")
            if kind == "count":
                return Count(flt, at_least, within, distinct, none_of)
            return Holds(flt, at_least, within, distinct, none_of)
        if kind == "absence":
            spec = r.mapping(
                node,
                what,
                (*common, "not_followed_by", "within", "match", "cleared_by_later"),
                ("event", "not_followed_by", "within"),
            )
            flt = self.main_filter(spec, what)
            then = self.other_filter(spec["not_followed_by"], f"{what}.not_followed_by")
            match = None
            if "match" in spec:
                match = self.event_field(spec["match"], flt.type, f"{what}.match")
                self.event_field(spec["match"], then.type, f"{what}.match")
            cleared = (
                r.boolean(spec["cleared_by_later"], f"{what}.cleared_by_later") if "cleared_by_later" in spec else True
            )
            return Absence(flt, then, r.duration(spec["within"], f"{what}.within"), match, cleared)
        if kind == "all_followed":
            spec = r.mapping(
                node,
                what,
                (*common, "key", "each_followed_by", "match", "at_least", "within"),
                ("key", "event", "each_followed_by", "match", "at_least", "within"),
            )
            flt = self.main_filter(spec, what)
            then = self.other_filter(spec["each_followed_by"], f"{what}.each_followed_by")
            match = self.event_field(spec["match"], flt.type, f"{what}.match")
            self.event_field(spec["match"], then.type, f"{what}.match")
            return KeyedAll(
                key=self.event_field(spec["key"], flt.type, f"{what}.key"),
                event=flt,
                each_followed_by=then,
                match=match,
                at_least=r.integer(spec["at_least"], f"{what}.at_least", minimum=1),
                within=r.duration(spec["within"], f"{what}.within"),
            )
        spec = r.mapping(node, what, (*common, "field", "notice"), ("event", "field", "notice"))
        flt = self.main_filter(spec, what)
        return Expiring(
            flt,
            self.event_field(spec["field"], flt.type, f"{what}.field", time=True),
            r.duration(spec["notice"], f"{what}.notice"),
        )

    def tags(self, node: Node | None, ttls: dict[str, Duration]) -> dict[str, TagDef]:
        """The ``tags`` catalogue."""
        out: dict[str, TagDef] = {}
        for key_node, value_node in self.r.pairs(node, "tags") if node is not None else []:
            name = self.r.text(key_node, "a tag name")
            what = f"tag {name!r}"
            spec = self.r.mapping(value_node, what, ("weight", "kind", "risk_tier", "ttl", "description"))
            kind = self.r.text(spec["kind"], f"{what}.kind") if "kind" in spec else "behaviour"
            if kind not in ("behaviour", "risk"):
                raise self.r.fail(spec["kind"], f"{what}.kind must be behaviour or risk, got {kind!r}")
            tier = self.r.text(spec["risk_tier"], f"{what}.risk_tier") if "risk_tier" in spec else None
            if tier is not None and tier not in RISK_TIERS:
                raise self.r.fail(spec["risk_tier"], f"{what}.risk_tier must be one of {', '.join(RISK_TIERS)}")
            out[name] = TagDef(
                name=name,
                weight=self.r.integer(spec["weight"], f"{what}.weight") if "weight" in spec else 0,
                ttl=self.r.duration(spec["ttl"], f"{what}.ttl") if "ttl" in spec else ttls[kind],
                kind="risk" if kind == "risk" else "behaviour",
                risk_tier=tier,
                line=key_node.start_mark.line + 1,
            )
        return out

    def pools(self, node: Node | None) -> dict[str, PoolDef]:
        """The ``pools`` catalogue."""
        out: dict[str, PoolDef] = {}
        for key_node, value_node in self.r.pairs(node, "pools") if node is not None else []:
            name = self.r.text(key_node, "a pool name")
            what = f"pool {name!r}"
            spec = self.r.mapping(value_node, what, ("label", "max_stay", "description"))
            out[name] = PoolDef(
                name=name,
                label=self.r.scalar(spec["label"], f"{what}.label") if "label" in spec else "",
                ttl=self.r.duration(spec["max_stay"], f"{what}.max_stay") if "max_stay" in spec else None,
                line=key_node.start_mark.line + 1,
            )
        return out

    def rule(self, node: Node, tags: dict[str, TagDef], pools: dict[str, PoolDef]) -> Rule:
        """One entry of ``rules``."""
        r = self.r
        allowed = ("id", "tag", "pool", "effective_from", "retired_from", "description", *_KINDS)
        spec = r.mapping(node, "a rule", allowed, ("id", "effective_from"))
        rule_id = r.text(spec["id"], "rule id")
        what = f"rule {rule_id!r}"
        if ("tag" in spec) == ("pool" in spec):
            raise r.fail(node, f"{what} needs exactly one of 'tag' or 'pool'")
        ttl: Duration | None
        if "tag" in spec:
            target_kind, target = "tag", r.text(spec["tag"], f"{what}.tag")
            if target not in tags:
                raise r.fail(spec["tag"], f"{what}: unknown tag {target!r} (declare it under tags:)")
            ttl = tags[target].ttl
        else:
            target_kind, target = "pool", r.text(spec["pool"], f"{what}.pool")
            if target not in pools:
                raise r.fail(spec["pool"], f"{what}: unknown pool {target!r} (declare it under pools:)")
            ttl = pools[target].ttl
        kinds = [k for k in _KINDS if k in spec]
        if len(kinds) != 1:
            raise r.fail(node, f"{what} needs exactly one condition: {', '.join(_KINDS)}")
        condition = self.condition(kinds[0], spec[kinds[0]], f"{what}.{kinds[0]}")
        if isinstance(condition, Count | KeyedAll) and ttl is None:
            raise r.fail(spec[target_kind], f"{what}: a {kinds[0]} rule needs a TTL on its {target_kind} (max_stay)")
        effective_from = r.instant(spec["effective_from"], f"{what}.effective_from")
        retired_from = r.instant(spec["retired_from"], f"{what}.retired_from") if "retired_from" in spec else None
        if retired_from is not None and retired_from <= effective_from:
            raise r.fail(spec["retired_from"], f"{what}.retired_from must be after effective_from")
        return Rule(
            id=rule_id,
            target_kind="tag" if target_kind == "tag" else "pool",
            target=target,
            condition=condition,
            effective_from=effective_from,
            ttl=ttl,
            retired_from=retired_from,
            line=node.start_mark.line + 1,
        )

    def ruleset(self, digest: str) -> RuleSet:
        """The whole file."""
        r = self.r
        top = r.mapping(
            self.root,
            "the rules file",
            ("version", "allowed_lateness", "timezone", "default_ttl", "tags", "pools", "rules", "description"),
            ("version", "rules"),
        )
        version = r.text(top["version"], "version")
        lateness = DEFAULT_LATENESS
        if "allowed_lateness" in top:
            lateness = r.convert(top["allowed_lateness"], "allowed_lateness", parse_duration)
        zone = r.text(top["timezone"], "timezone") if "timezone" in top else "Asia/Shanghai"
        try:
            self.tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise r.fail(top.get("timezone", self.root), f"unknown time zone {zone!r}") from None
        ttls = dict(DEFAULT_TTLS)
        if "default_ttl" in top:
            spec = r.mapping(top["default_ttl"], "default_ttl", ("behaviour", "risk"))
            ttls.update({k: r.duration(v, f"default_ttl.{k}") for k, v in spec.items()})
        tags = self.tags(top.get("tags"), ttls)
        pools = self.pools(top.get("pools"))
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for item in r.sequence(top["rules"], "rules"):
            rule = self.rule(item, tags, pools)
            if rule.id in seen:
                raise r.fail(item, f"duplicate rule id {rule.id!r} (first at line {seen[rule.id]})")
            seen[rule.id] = rule.line
            rules.append(rule)
        return RuleSet(
            version=version,
            allowed_lateness=lateness,
            timezone=zone,
            tags=tags,
            pools=pools,
            rules=tuple(rules),
            source=self.source,
            digest=digest,
        )


def condition_kind(condition: Condition) -> str:
    """The YAML key of a condition's kind (``count``, ``absence``, ``all_followed``, ``holds``, ``expiring``)."""
    names: dict[type, str] = {
        Count: "count",
        Absence: "absence",
        KeyedAll: "all_followed",
        Holds: "holds",
        Expiring: "expiring",
    }
    return names[type(condition)]


def parse_rules(text: str, *, source: str = "<rules>") -> RuleSet:
    """Validate rules YAML text; raises :class:`RulesError` naming the line of the first problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RulesError(source, mark.line + 1 if mark else 1, f"not valid YAML: {exc.problem or exc}") from None
    if root is None:
        raise RulesError(source, 1, "the rules file is empty")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return _Parser(source, root).ruleset(digest)


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Read and validate a rules file (the shipped default when ``path`` is None)."""
    file = Path(path) if path is not None else DEFAULT_RULES
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(str(file), 0, f"cannot read the rules file: {exc.strerror or exc}") from None
    return parse_rules(text, source=str(file))
