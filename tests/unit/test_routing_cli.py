"""``crm route check | simulate | replay`` (the sub-app in crm_cli.route)."""

from __future__ import annotations

import json
from pathlib import Path

from crm_cli.route import app
from typer.testing import CliRunner

RUNNER = CliRunner()
RULES = """\
version: cli-test
teams: {east: {lead: e-lead}}
reps:
  - {id: e-1, team: east}
  - {id: e-lead, team: east}
rules:
  - name: shanghai
    match: {region: [上海]}
    target: {team: east}
"""
ROSTER = {"teams": {"east": {"lead": "boss"}}, "reps": [{"id": "x-1", "team": "east"}, {"id": "boss", "team": "east"}]}


def write(tmp: Path, name: str, text: str) -> Path:
    """A file under ``tmp``."""
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_reports_errors_with_lines_and_exit_2(tmp_path: Path) -> None:
    good = RUNNER.invoke(app, ["check", str(write(tmp_path, "ok.yaml", RULES))])
    assert good.exit_code == 0 and "ok: 1 rules, version cli-test" in good.output
    bad = write(tmp_path, "bad.yaml", RULES.replace("target: {team: east}", "target: {team: west}"))
    result = RUNNER.invoke(app, ["check", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:9: rule 'shanghai': unknown team 'west' (roster teams: east)" in result.output


def test_simulate_prints_the_decision_and_trace(tmp_path: Path) -> None:
    lead = write(
        tmp_path, "lead.json", json.dumps({"lead_id": "L1", "region": "shanghai", "at": "2026-11-23T10:00:00+08:00"})
    )
    result = RUNNER.invoke(app, ["simulate", str(lead), "--rules", str(write(tmp_path, "r.yaml", RULES))])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["assignee"], out["rule"], out["pool_reason"]) == ("e-1", "shanghai", None)
    assert out["trace"]["triggered_at"] == "2026-11-23T02:00:00+00:00"


def test_simulate_with_a_separate_roster_and_the_default_rules(tmp_path: Path) -> None:
    lead = write(tmp_path, "lead.json", json.dumps({"lead_id": "L1", "region": "北京"}))
    roster = write(tmp_path, "roster.json", json.dumps(ROSTER))
    with_roster = RUNNER.invoke(
        app, ["simulate", str(lead), "--rules", str(write(tmp_path, "r.yaml", RULES)), "--roster", str(roster)]
    )
    assert with_roster.exit_code == 0 and json.loads(with_roster.stdout)["pool_reason"] == "no_rule_matched"
    default = RUNNER.invoke(app, ["simulate", str(lead)])
    assert json.loads(default.stdout)["assignee"] == "rep-bj-01"


def test_replay_prints_one_line_per_lead_in_creation_order_with_history(tmp_path: Path) -> None:
    events = [
        {"type": "lead.created", "at": "2026-11-23T10:00:00+08:00", "lead_id": "L1", "region": "shanghai"},
        {
            "type": "lead.created",
            "at": "2026-11-23T10:01:00+08:00",
            "lead_id": "L2",
            "region": "",
            "phone": "021-6437 0045",
        },
        {"type": "lead.viewed", "at": "2026-11-23T10:30:00+08:00", "lead_id": "L1"},
        {"type": "rep.updated", "at": "2026-11-23T11:00:00+08:00", "rep_id": "e-1", "status": "deactivated"},
        {"type": "lead.created", "at": "2026-11-23T09:59:00+08:00", "lead_id": "L0", "region": "广东"},
    ]
    stream = write(tmp_path, "events.jsonl", "\n".join(json.dumps(e, ensure_ascii=False) for e in events) + "\n")
    args = [
        "replay",
        str(stream),
        "--rules",
        str(write(tmp_path, "r.yaml", RULES)),
        "--until",
        "2026-11-23T13:00:00+08:00",
    ]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["lead_id"] for line in lines] == ["L0", "L1", "L2"]
    assert lines[0] == {
        "lead_id": "L0",
        "assignee": None,
        "pool_reason": "no_rule_matched",
        "rule": None,
        "imputed": {},
        "history": [{"at": "2026-11-23T01:59:00Z", "event": "pooled", "reason": "no_rule_matched"}],
    }
    assert lines[1]["assignee"] == "e-lead" and [h["event"] for h in lines[1]["history"]] == [
        "assigned",
        "viewed",
        "offboarding",
        "assigned",
        "sla_warned",
    ]
    assert lines[2]["imputed"] == {"region": {"value": "310000", "confidence": 0.95, "source": "phone_area_code"}}
    assert [h["event"] for h in lines[2]["history"]] == ["assigned", "offboarding", "assigned", "sla_warned"]


def test_replay_rejects_a_bad_line_naming_it(tmp_path: Path) -> None:
    stream = write(
        tmp_path,
        "events.jsonl",
        '{"type": "lead.created", "at": "2026-11-23T10:00:00+08:00", "lead_id": "L1"}\n'
        '{"type": "lead.teleported", "at": "2026-11-23T10:00:00+08:00"}\n',
    )
    result = RUNNER.invoke(
        app,
        ["replay", str(stream), "--rules", str(write(tmp_path, "r.yaml", RULES)), "--until", "2026-11-24T00:00:00Z"],
    )
    assert result.exit_code == 2 and "line 2: type must be one of" in result.output
