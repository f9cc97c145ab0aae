"""The roster: reps with their team, skills, capacity and status; teams with their lead.

Only ``active`` reps receive leads. ``on_leave`` reps keep what they have; a
``deactivated`` rep's open leads are re-routed (offboarding) and their history stays.
The roster is immutable: an update (HR / WeCom directory sync, REST, a replayed
``rep.updated``) gives a new roster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

RepStatus = Literal["active", "on_leave", "deactivated"]
STATUSES: tuple[RepStatus, ...] = ("active", "on_leave", "deactivated")
DEFAULT_CAPACITY = 50

_REP_FIELDS = frozenset({"id", "team", "status", "name", "skills", "capacity", "weight"})
_TEAM_FIELDS = frozenset({"id", "lead", "name"})


class RosterError(ValueError):
    """The roster is invalid; the message names the rep or team."""


@dataclass(frozen=True)
class Rep:
    """A sales rep. ``capacity`` is the most open leads they may hold; ``weight`` feeds ``weighted``."""

    id: str
    team: str
    status: RepStatus = "active"
    name: str = ""
    skills: frozenset[str] = frozenset()
    capacity: int = DEFAULT_CAPACITY
    weight: int = 1

    @property
    def active(self) -> bool:
        """True when the rep may receive leads."""
        return self.status == "active"


@dataclass(frozen=True)
class Team:
    """A team and its lead (a rep id), the last stop before the pool."""

    id: str
    lead: str = ""
    name: str = ""


@dataclass(frozen=True)
class Roster:
    """Teams and reps by id, with each team's members sorted by id."""

    teams: Mapping[str, Team]
    reps: Mapping[str, Rep]
    _members: dict[str, tuple[Rep, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index members by team once."""
        members: dict[str, list[Rep]] = {}
        for rep in sorted(self.reps.values(), key=lambda r: r.id):
            members.setdefault(rep.team, []).append(rep)
        object.__setattr__(self, "_members", {team: tuple(reps) for team, reps in members.items()})

    def members(self, team: str) -> tuple[Rep, ...]:
        """The team's reps, sorted by id, whatever their status."""
        return self._members.get(team, ())

    def staff(self, team: str) -> tuple[Rep, ...]:
        """The team's reps without its lead (the lead is the fallback, not in the rotation)."""
        lead = self.teams[team].lead if team in self.teams else ""
        return tuple(rep for rep in self.members(team) if rep.id != lead)

    def with_rep(self, rep: Rep) -> Roster:
        """A roster with ``rep`` added or replaced."""
        return Roster(teams=self.teams, reps={**self.reps, rep.id: rep})

    def with_team(self, team: Team) -> Roster:
        """A roster with ``team`` added or replaced."""
        return Roster(teams={**self.teams, team.id: team}, reps=self.reps)

    def without_team(self, team_id: str) -> Roster:
        """A roster where ``team_id`` no longer exists (a team dissolved or renamed)."""
        return Roster(teams={k: v for k, v in self.teams.items() if k != team_id}, reps=self.reps)

    def to_mapping(self) -> dict[str, Any]:
        """The JSON shape :func:`roster_from_mapping` reads."""
        return {
            "teams": {t.id: {"lead": t.lead, "name": t.name} for t in self.teams.values()},
            "reps": [
                {
                    "id": r.id,
                    "team": r.team,
                    "status": r.status,
                    "name": r.name,
                    "skills": sorted(r.skills),
                    "capacity": r.capacity,
                    "weight": r.weight,
                }
                for r in sorted(self.reps.values(), key=lambda r: r.id)
            ],
        }


def _status(value: object, where: str) -> RepStatus:
    """A valid status or an error naming ``where``."""
    for status in STATUSES:
        if value == status:
            return status
    raise RosterError(f"{where}: status {value!r} is not one of {', '.join(STATUSES)}")


def _int(value: object, where: str, name: str, minimum: int) -> int:
    """A non-bool integer ≥ ``minimum`` or an error."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RosterError(f"{where}: {name} must be an integer ≥ {minimum}, got {value!r}")
    return value


def rep_from_mapping(data: Mapping[str, Any], *, base: Rep | None = None) -> Rep:
    """One rep from JSON; with ``base``, only the given fields change (a ``rep.updated``)."""
    where = f"rep {data.get('id', '?')!r}"
    unknown = set(data) - _REP_FIELDS
    if unknown:
        raise RosterError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    rep_id = data.get("id", base.id if base else "")
    team = data.get("team", base.team if base else "")
    if not isinstance(rep_id, str) or not rep_id or not isinstance(team, str) or not team:
        raise RosterError(f"{where}: needs a non-empty id and team")
    skills = data.get("skills", sorted(base.skills) if base else [])
    if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
        raise RosterError(f"{where}: skills must be a list of strings")
    start = base or Rep(id=rep_id, team=team)
    return replace(
        start,
        id=rep_id,
        team=team,
        status=_status(data.get("status", start.status), where),
        name=str(data.get("name", start.name)),
        skills=frozenset(skills),
        capacity=_int(data.get("capacity", start.capacity), where, "capacity", 0),
        weight=_int(data.get("weight", start.weight), where, "weight", 0),
    )


def team_from_mapping(team_id: str, data: Mapping[str, Any]) -> Team:
    """One team from JSON."""
    unknown = set(data) - _TEAM_FIELDS
    if unknown:
        raise RosterError(f"team {team_id!r}: unknown field(s) {', '.join(sorted(unknown))}")
    return Team(id=team_id, lead=str(data.get("lead", "")), name=str(data.get("name", "")))


def roster_from_mapping(data: Mapping[str, Any]) -> Roster:
    """A roster from ``{"teams": {id: {lead, name}}, "reps": [{id, team, status, …}]}``.

    Every rep's team must exist and every team lead must be a rep.
    """
    unknown = set(data) - {"teams", "reps"}
    if unknown:
        raise RosterError(f"roster: unknown field(s) {', '.join(sorted(unknown))}")
    raw_teams = data.get("teams") or {}
    if not isinstance(raw_teams, Mapping):
        raise RosterError("roster: teams must be a mapping of team id → {lead, name}")
    teams = {str(k): team_from_mapping(str(k), v or {}) for k, v in raw_teams.items()}
    reps: dict[str, Rep] = {}
    for item in data.get("reps") or []:
        rep = rep_from_mapping(item)
        if rep.id in reps:
            raise RosterError(f"rep {rep.id!r} is listed twice")
        if rep.team not in teams:
            raise RosterError(f"rep {rep.id!r}: unknown team {rep.team!r}; teams: {', '.join(sorted(teams))}")
        reps[rep.id] = rep
    for team in teams.values():
        if team.lead and team.lead not in reps:
            raise RosterError(f"team {team.id!r}: lead {team.lead!r} is not a rep")
    return Roster(teams=teams, reps=reps)
