"""The live routing configuration of one lead-router process, and its silent-failure watch."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from lead_router import metrics
from lead_router.domain.alarms import Alarm, AlarmWatch
from lead_router.domain.engine import Decision
from lead_router.domain.impute import IpLocator
from lead_router.domain.roster import Roster, RosterError, rep_from_mapping
from lead_router.domain.rules import RuleSet
from lead_router.domain.rules_yaml import LoadedRules

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Rules, the current roster (file + REST / directory overrides) and recent outcomes for alarms."""

    rules: RuleSet
    roster: Roster
    ip_locator: IpLocator | None = None
    alarms: AlarmWatch = field(init=False)

    def __post_init__(self) -> None:
        """Start the alarm watch (evaluated at most every 10 s of decision time)."""
        self.alarms = AlarmWatch(self.rules.alarms, every=timedelta(seconds=10))

    @property
    def alarms_up(self) -> set[str]:
        """Keys of the alarms that are up."""
        return self.alarms.up

    @classmethod
    def of(cls, config: LoadedRules | Runtime) -> Runtime:
        """A runtime for a loaded rules file (or the runtime itself)."""
        return config if isinstance(config, Runtime) else cls(rules=config.rules, roster=config.roster)

    def apply_overrides(self, overrides: list[dict[str, Any]]) -> None:
        """Apply stored rep overrides on top of the file's roster; a bad one is logged and skipped."""
        for data in overrides:
            try:
                rep = rep_from_mapping(data, base=self.roster.reps.get(str(data.get("id", ""))))
            except RosterError as exc:
                log.warning("ignoring stored roster override: %s", exc)
                continue
            self.roster = self.roster.with_rep(rep)

    def watch(self, decision: Decision) -> list[Alarm]:
        """Feed one decision to the alarms; returns alarms newly raised (and updates the gauges)."""
        raised, cleared = self.alarms.observe(decision)
        for alarm in raised:
            log.warning("silent-failure alarm: %s", alarm.detail)
            metrics.ALARM.labels(alarm.kind, alarm.rule).set(1)
            metrics.ALARMS_RAISED.labels(alarm.kind).inc()
        for key in cleared:
            kind, _, rule = key.partition(":")
            metrics.ALARM.labels(kind, rule).set(0)
        return raised
