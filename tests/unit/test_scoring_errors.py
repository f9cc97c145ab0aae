"""Bad input gets a clear error naming it: replay lines by line number, rules files by line, the CLI exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from behavior_scoring.domain.events import EventError, parse_event
from behavior_scoring.domain.instants import parse_instant
from behavior_scoring.domain.rulesfile import DEFAULT_RULES, RulesError, load_rules, parse_rules
from behavior_scoring.replay import ReplayError, replay_lines
from crm_cli.score import app
from typer.testing import CliRunner

AT = parse_instant("2026-11-23T12:00:00+08:00")
GOOD = '{"id": "e1", "type": "page.viewed", "at": "2026-11-23T10:00:00+08:00", "customer_id": "c1"}'
RULES = load_rules()


def replay_error(*lines: str) -> ReplayError:
    """The error replaying these lines raises."""
    with pytest.raises(ReplayError) as caught:
        replay_lines(list(lines), rules=RULES, at=AT, source="events.jsonl")
    return caught.value


def line(**fields: object) -> str:
    """A page view by c1 with ``fields`` replacing or adding members (None removes one)."""
    record: dict[str, object] = {
        "id": "e2",
        "type": "page.viewed",
        "at": "2026-11-23T10:00:00+08:00",
        "customer_id": "c1",
    }
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not None})


ORDER = {"type": "order.created", "order_id": "A"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (line(type="page.clicked"), "unknown event type 'page.clicked'"),
        (line(customer_id=None), "missing customer_id"),
        (line(customer_id=""), "missing customer_id"),
        (line(at="yesterday"), "unparseable time 'yesterday'"),
        (line(at="2026-11-23T10:00:00"), "has no UTC offset"),
        (line(at=None), "missing at"),
        (line(id=None), "missing id"),
        (line(type="order.created"), "order.created needs order_id"),
        (line(type="customer.unmerged", absorbed_id="", survivor_id="c1"), "customer.unmerged needs absorbed_id"),
        (line(type="membership.purchased", valid_until="soon"), "valid_until: unparseable time"),
        (line(**ORDER, amount_fen="9.90"), "amount_fen must be an integer"),
        (line(**ORDER, client_ip=17), "client_ip must be a string"),
        ("{not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_lines_are_named_by_line_number(bad: str, message: str) -> None:
    error = replay_error(GOOD, "", bad)
    assert error.line == 3
    assert str(error).startswith("events.jsonl:3: ")
    assert message in str(error)


def test_the_error_names_the_event_and_field() -> None:
    error = replay_error('{"id": "e7", "type": "page.viewed", "at": "nope", "customer_id": "c1"}')
    assert (error.event_id, error.field) == ("e7", "at") and "(event e7)" in str(error)


def test_parse_event_raises_a_typed_error() -> None:
    with pytest.raises(EventError) as caught:
        parse_event({"id": "e", "type": "customer.merged", "at": "2026-11-23T10:00:00Z", "customer_id": "c1"})
    assert caught.value.field == "absorbed_id"


# ---- rules files


def rules_error(text: str) -> RulesError:
    """The error validating this rules text raises."""
    with pytest.raises(RulesError) as caught:
        parse_rules(text, source="r.yaml")
    return caught.value


BASE = """\
version: "t"
tags:
  hot: {weight: 5}
pools:
  p: {}
rules:
  - id: r1
    tag: hot
    effective_from: "2026-01-01T00:00:00+08:00"
    count:
      event: page.viewed
      at_least: 2
      within: 3d
"""


SECOND_R1 = """\
  - id: r1
    pool: p
    effective_from: 2026-01-01T00:00:00Z
    holds: {event: product.favourited, at_least: 1, within: 1d}"""


def test_the_base_rules_validate_and_get_the_default_ttl() -> None:
    rules = parse_rules(BASE)
    assert rules.tags["hot"].ttl == 72 * 3600 * 1_000_000 and rules.allowed_lateness == 600 * 1_000_000


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("  hot: {weight: 5}", "  hot: {wieght: 5}", 3, "unknown field 'wieght' in tag 'hot'"),
        ("      event: page.viewed", "      event: page.clicked", 11, "unknown event type 'page.clicked'"),
        ("    tag: hot", "    tag: cold", 8, "unknown tag 'cold'"),
        ("      within: 3d", "      within: three days", 13, "bad duration 'three days'"),
        ("      at_least: 2", "      at_least: 0", 12, "at_least must be at least 1"),
        (
            "      at_least: 2",
            "      at_least: 2\n      where: {colour: red}",
            13,
            "unknown field 'colour' of page.viewed",
        ),
        ("    count:", "    counts:", 10, "unknown field 'counts' in a rule"),
        ('    effective_from: "2026-01-01T00:00:00+08:00"\n', "", 7, "needs 'effective_from'"),
        ('effective_from: "2026-01-01T00:00:00+08:00"', 'effective_from: "2026-01-01"', 9, "has no UTC offset"),
        ("  - id: r1", "  - id: r1\n    pool: p", 7, "exactly one of 'tag' or 'pool'"),
        ('version: "t"', 'version: "t"\nversion: "u"', 2, "duplicate field 'version'"),
        ("  hot: {weight: 5}", "  hot: {weight: 5, risk_tier: L5}", 3, "risk_tier must be one of"),
        ("pools:\n  p: {}", "pools:\n  p: {}\ntimezone: Mars/Olympus", 6, "unknown time zone"),
        (
            "      within: 3d",
            "      within: 3d\n" + SECOND_R1,
            14,
            "duplicate rule id 'r1'",
        ),
        ("rules:", "rules: [", 7, "not valid YAML"),
    ],
)
def test_rules_errors_name_the_line(old: str, new: str, line: int, message: str) -> None:
    assert old in BASE
    error = rules_error(BASE.replace(old, new))
    assert (error.line, error.source) == (line, "r.yaml"), str(error)
    assert message in str(error)
    assert str(error).startswith(f"r.yaml:{line}: ")


def test_a_count_rule_on_a_pool_without_a_stay_cap_is_an_error() -> None:
    text = BASE.replace("    tag: hot", "    pool: p")
    assert "needs a TTL" in str(rules_error(text))


def test_the_shipped_rules_file_is_the_issue_table() -> None:
    rules = load_rules(DEFAULT_RULES)
    assert {name: (t.weight, t.ttl // 3_600_000_000, t.risk_tier) for name, t in rules.tags.items()} == {
        "new_product_interest": (15, 72, None),
        "wecom_friend_ignored": (-20, 72, None),
        "risk_l4": (0, 30 * 24, "L4"),
    }
    assert sorted(rules.pools) == ["instant_conversion", "long_term_nurture", "value_harvest"]
    assert rules.pools["instant_conversion"].ttl == 72 * 3_600_000_000
    assert rules.allowed_lateness == 10 * 60 * 1_000_000 and rules.timezone == "Asia/Shanghai"


# ---- the CLI


def test_cli_replay_prints_one_line_per_customer(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(GOOD + "\n" + GOOD.replace("e1", "e2").replace("10:00", "11:00") + "\n")
    result = CliRunner().invoke(app, ["replay", str(events), "--at", "2026-11-23T12:00:00+08:00", "--quiet"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"customer_id": "c1", "score": 0, "risk_tier": "L1", "pools": [], "tags": []}
    ]


def test_cli_replay_exits_2_naming_the_line(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(GOOD + "\n" + GOOD.replace("page.viewed", "page.clicked") + "\n")
    result = CliRunner().invoke(app, ["replay", str(events), "--at", "2026-11-23T12:00:00+08:00"])
    assert result.exit_code == 2
    assert f"{events}:2: unknown event type 'page.clicked'" in result.output


def test_cli_rejects_a_bad_rules_file_and_a_bad_instant(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(BASE.replace("  hot: {weight: 5}", "  hot: {wieght: 5}"))
    events = tmp_path / "events.jsonl"
    events.write_text(GOOD + "\n")
    result = CliRunner().invoke(app, ["replay", str(events), "--rules", str(rules), "--at", "2026-11-23T12:00:00Z"])
    assert result.exit_code == 2 and f"{rules}:3: unknown field 'wieght'" in result.output
    result = CliRunner().invoke(app, ["replay", str(events), "--at", "tomorrow"])
    assert result.exit_code == 2 and "unparseable time" in result.output
    result = CliRunner().invoke(app, ["validate", str(rules)])
    assert result.exit_code == 2


def test_cli_validate_lists_the_rules() -> None:
    result = CliRunner().invoke(app, ["validate", str(DEFAULT_RULES)])
    assert result.exit_code == 0
    assert "ip_orders_all_cancelled: all_followed → tag risk_l4" in result.output


def test_whitespace_around_a_line_is_fine_but_two_objects_are_not() -> None:
    result = replay_lines(["  " + GOOD + "  \n"], rules=RULES, at=AT)
    assert result.stats.events == 1
    error = replay_error(GOOD, GOOD + ' {"id": "x"}')
    assert error.line == 2 and "not JSON: Extra data" in str(error)
