"""Reading rules and roster files (the I/O the pure domain leaves to its callers)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from lead_router.domain.roster import Roster, RosterError, roster_from_mapping
from lead_router.domain.rules_yaml import LoadedRules, parse_rules


def read_roster(path: Path) -> Roster:
    """A roster from a JSON file (``{"teams": {…}, "reps": [...]}``); RosterError names the problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RosterError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise RosterError(f"{path}: a roster is a JSON object with teams and reps")
    try:
        return roster_from_mapping(data)
    except RosterError as exc:
        raise RosterError(f"{path}: {exc}") from None


def read_rules(path: Path, *, roster: Roster | None = None, today: date | None = None) -> LoadedRules:
    """Rules from a YAML file, validated against ``roster`` (else the file's own teams/reps)."""
    return parse_rules(path.read_text(encoding="utf-8"), source=str(path), roster=roster, today=today)
