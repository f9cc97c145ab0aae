"""Pure domain rules of the skeleton services: normalisation, routing, templates, money."""

from __future__ import annotations

from collections import Counter

import pytest
from contract.domain.money import net_received
from crm.events.common.v1.identity_pb2 import Identity
from customer_master.domain.identity import identity_keys
from customer_master.domain.normalise import is_role_mailbox, normalise_email, normalise_phone, normalise_region
from hypothesis import given
from hypothesis import strategies as st
from lead_router.domain.routing import Rep, RoutingConfig, Rule, route
from notify.domain.templates import TemplateError, render


@pytest.mark.parametrize(
    "raw", ["13812345678", "+86 138-1234-5678", "008613812345678", "１３８１２３４５６７８", "86 13812345678"]
)
def test_mobile_variants_normalise_to_one_e164(raw: str) -> None:
    phone = normalise_phone(raw)
    assert phone is not None and phone.e164 == "+8613812345678" and phone.is_mobile


@pytest.mark.parametrize(
    ("email", "shared"),
    [("hr@jinan.cn", True), ("sales+cn@yuansi.com", True), ("kefu@shop.cn", True), ("zhang.xue@jinan.cn", False)],
)
def test_a_team_mailbox_is_not_a_personal_key(email: str, shared: bool) -> None:
    assert is_role_mailbox(email) is shared
    assert [k.kind for k in identity_keys(Identity(email=email))] == ([] if shared else ["email"])


def test_landline_is_not_a_personal_key() -> None:
    phone = normalise_phone("021-6437 0045")
    assert phone is not None and not phone.is_mobile
    assert [k.kind for k in identity_keys(Identity(phone="021-6437 0045"))] == []


@pytest.mark.parametrize("raw", ["shanghai", "Shanghai", "沪", "SH", "上海市", "310000", "上海"])
def test_region_spellings_map_to_one_code(raw: str) -> None:
    assert normalise_region(raw) == "310000"


def test_unknown_region_and_email_are_empty_not_guessed() -> None:
    assert normalise_region("火星") == ""
    assert normalise_email("not-an-email") == ""
    assert normalise_email(" Li.Na@Example.COM ") == "li.na@example.com"


CONFIG = RoutingConfig(
    rules=(Rule("east", ("31",), "east"), Rule("north", ("11",), "north")),
    reps=(
        Rep("a", "east", "active"),
        Rep("b", "east", "active"),
        Rep("c", "east", "deactivated"),
        Rep("n", "north", "on_leave"),
    ),
    team_leads={"east": "lead-e", "north": "lead-n"},
)


@given(st.integers(min_value=1, max_value=200))
def test_round_robin_spreads_within_one_and_never_picks_inactive(count: int) -> None:
    cursors: dict[str, int] = {}
    picks = Counter(route(CONFIG, region_code="310000", cursors=cursors).assignee for _ in range(count))
    assert set(picks) <= {"a", "b"}
    assert max(picks.values()) - min(picks.get("a", 0), picks.get("b", 0)) <= 1


@pytest.mark.parametrize(
    ("region", "reason"), [("", "no_rule_matched"), ("440000", "no_rule_matched"), ("110000", "no_eligible_rep")]
)
def test_leads_nobody_can_take_go_to_the_pool_with_a_reason(region: str, reason: str) -> None:
    decision = route(CONFIG, region_code=region, cursors={})
    assert decision.assignee is None and decision.reason_code == reason
    assert decision.trace[-1]["outcome"] == "pool"


def test_template_names_missing_parameters() -> None:
    with pytest.raises(TemplateError, match="needs parameter"):
        render("lead_assigned", {"lead_id": "x"})
    with pytest.raises(TemplateError, match="unknown template"):
        render("nope", {})


def test_net_received() -> None:
    assert net_received(amount_fen=10000, fee_fen=60, fx_loss_fen=15) == 9925
    with pytest.raises(ValueError, match="negative money"):
        net_received(amount_fen=-1)
