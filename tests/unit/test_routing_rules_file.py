"""Rules YAML validation: every error with its line, all at once; warnings for rules that cannot match today."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from lead_router.domain.roster import RosterError, roster_from_mapping
from lead_router.domain.routing import load_routing
from lead_router.domain.rules_yaml import RulesError, parse_rules
from lead_router.settings import DEFAULT_ROUTING

ROSTER = roster_from_mapping(
    {
        "teams": {"east": {"lead": "boss"}, "north": {}},
        "reps": [{"id": "a", "team": "east"}, {"id": "boss", "team": "east"}, {"id": "n", "team": "north"}],
    }
)


def errors(text: str) -> list[str]:
    """The rendered errors of an invalid file."""
    with pytest.raises(RulesError) as caught:
        parse_rules(text, source="r.yaml", roster=ROSTER)
    return str(caught.value).splitlines()


def test_the_default_file_is_valid_and_warning_free() -> None:
    loaded = load_routing(DEFAULT_ROUTING, today=date(2026, 11, 23))
    assert loaded.warnings == ()
    assert [r.name for r in loaded.rules.rules][:2] == ["east-ortho-hospitals", "east-shanghai"]
    assert loaded.rules.rules[2].conditions.regions == ("32", "33")
    assert loaded.rules.sla.no_contact == timedelta(hours=24) and loaded.rules.pool.daily_claim_limit == 20


def test_unknown_fields_at_every_level_are_rejected_with_their_lines_all_at_once() -> None:
    text = """\
version: 1
colour: red
rules:
  - name: r1
    priority: 3
    match: {region: ['31'], city: 上海}
    target: {team: east, stratgy: weighted}
"""
    assert errors(text) == [
        "r.yaml:2: rules file: unknown field 'colour' (allowed: alarms, min_confidence, pool, reps, rules, sla, "
        "teams, timezone, version)",
        "r.yaml:5: rules[0]: unknown field 'priority' (allowed: effective_from, effective_until, hours, match, "
        "name, target)",
        "r.yaml:6: rule 'r1'.match: unknown field 'city' (allowed: industry, owned, product, region, score, "
        "source, tier)",
        "r.yaml:7: rule 'r1'.target: unknown field 'stratgy' (allowed: capacity, reps, skills, strategy, team, "
        "weight_decay, weights)",
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("match: {region: [火星]}\n    target: {team: east}", "unknown region '火星'"),
        ("match: {region: ['99']}\n    target: {team: east}", "unknown region '99'"),
        ("match: {industry: [Z]}\n    target: {team: east}", "unknown industry 'Z'"),
        ("target: {team: 华东}", "unknown team '华东' (roster teams: east, north)"),
        ("target: {reps: [ghost]}", "unknown rep 'ghost'"),
        ("target: {team: east, strategy: random}", "unknown strategy 'random'"),
        ("target: {team: east, weights: {a: 2}}", "weights and weight_decay need strategy: weighted"),
        ("target: {}", "target needs a team or reps"),
        ("target: {team: east}\n    hours: {tz: Mars/Olympus}", "unknown time zone 'Mars/Olympus'"),
        ("target: {team: east}\n    hours: {days: [funday]}", "days must be some of"),
        ("target: {team: east}\n    effective_from: 2026-03-01\n    effective_until: 2026-01-01", "is before"),
        ("match: {score: {min: 80, max: 60}}\n    target: {team: east}", "score min 80 is above max 60"),
        ("match: {owned: maybe}\n    target: {team: east}", "owned must be bool"),
    ],
)
def test_rule_errors_name_the_problem(rule: str, message: str) -> None:
    found = errors(f"rules:\n  - name: r\n    {rule}\n")
    assert len(found) == 1 and message in found[0] and found[0].startswith("r.yaml:")


def test_policy_errors_and_duplicates() -> None:
    text = """\
sla: {not_viewed: soon}
rules:
  - {name: r, target: {team: east}}
  - {name: r, target: {team: east}}
"""
    assert errors(text) == [
        "r.yaml:1: sla.not_viewed must be a duration like 90m, 2h or 3d, got 'soon'",
        "r.yaml:4: rule 'r' is defined twice",
    ]
    assert errors("rules: []\nnot yaml: [")[0] == "r.yaml:2: not valid YAML: while parsing a flow node"


def test_an_inline_roster_is_checked_too() -> None:
    with pytest.raises(RulesError, match=r"<rules>:1: roster: rep 'x': unknown team 'nowhere'"):
        parse_rules("teams: {east: {}}\nreps: [{id: x, team: nowhere}]\nrules: []\n")
    with pytest.raises(RosterError, match="lead 'ghost' is not a rep"):
        roster_from_mapping({"teams": {"east": {"lead": "ghost"}}, "reps": []})


def test_hours_accept_quoted_and_unquoted_times() -> None:
    rules = parse_rules(
        "rules:\n  - {name: r, target: {team: east}, hours: {from: 8:30, to: '17:45'}}\n", roster=ROSTER
    )
    hours = rules.rules.rules[0].hours
    assert hours is not None and (hours.start, hours.end) == (time(8, 30), time(17, 45))


def test_warnings_name_rules_that_cannot_match_today() -> None:
    text = """\
rules:
  - name: old
    target: {team: east}
    effective_until: 2026-01-31
  - name: catch-all
    target: {team: east}
  - name: north
    match: {region: [北京]}
    target: {team: north}
"""
    off = ROSTER.with_rep(ROSTER.reps["n"].__class__(id="n", team="north", status="deactivated"))
    loaded = parse_rules(text, roster=off, today=date(2026, 2, 1))
    assert [(w.line, w.message) for w in loaded.warnings] == [
        (2, "rule 'old': expired after 2026-01-31: cannot match today (2026-02-01)"),
        (7, "rule 'north': no active rep in its target, team or team lead: every lead it matches goes to the pool"),
        (7, "rule 'north': never reached: rule 'catch-all' (line 5) matches every lead first"),
    ]
