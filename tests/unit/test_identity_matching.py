"""Match scoring: strong keys, fuzzy evidence, the 0.92 / 0.99 thresholds, junk never merges."""

from __future__ import annotations

import pytest
from customer_master.domain.matching import AUTO_MERGE, REVIEW, decide, prepare, score
from stdnum.cn import uscc

CODE = "91310000MA1FL8XQ3" + uscc.calc_check_digit("91310000MA1FL8XQ3")


def _decision(a: dict[str, str], b: dict[str, str], kind: str = "customer") -> str:
    return score(prepare(**a), prepare(**b), "account" if kind == "account" else "customer").decision


def test_thresholds_follow_the_seed() -> None:
    assert REVIEW == 0.92
    assert AUTO_MERGE > REVIEW
    assert decide(0.919) == "distinct"
    assert decide(0.92) == "review"
    assert decide(AUTO_MERGE) == "auto_merge"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"unionid": "oUNION1"}, {"unionid": "oUNION1"}),
        ({"wecom_external_userid": "wmEXT1"}, {"wecom_external_userid": "wmEXT1"}),
        (
            {"phone": "13812345678", "company": "上海市第六人民医院"},
            {"phone": "+86 138-1234-5678", "company": "上海第六人民医院"},
        ),
        ({"phone": "13812345678", "name": "张伟"}, {"phone": "0086 13812345678", "name": "🌸張偉🌸"}),
        ({"phone": "13812345678", "name": "张伟"}, {"phone": "13812345678", "name": "Zhang Wei"}),
        ({"email": "li.na@acme.cn", "name": "李娜"}, {"email": " LI.NA@ACME.CN", "name": "李娜"}),
        ({"phone": "13812345678"}, {"phone": "138 1234 5678"}),
        ({"phone": "13812345678", "name": "周先生"}, {"phone": "13812345678", "name": "周杰"}),
        ({"phone": "13812345678", "name": "吴丽"}, {"phone": "13812345678", "name": "吴莉"}),
        # Pet names say nothing against a real name; a short trade name fits the full one.
        ({"phone": "13812345678", "name": "林慧燕"}, {"phone": "13812345678", "name": "燕燕"}),
        ({"phone": "13812345678", "name": "郑成"}, {"phone": "13812345678", "name": "小成"}),
        (
            {"phone": "13812345678", "name": "许先生", "company": "泰恒咨询有限责任公司"},
            {"phone": "13812345678", "name": "海海", "company": "泰恒"},
        ),
        # The same clear full name at the same organisation, nothing contradicting.
        ({"name": "陈诗怡", "company": "郑州市优佳纺织股份有限公司"}, {"name": "陈诗怡", "company": "郑州优佳纺织"}),
    ],
)
def test_strong_keys_with_agreement_merge_automatically(a: dict[str, str], b: dict[str, str]) -> None:
    assert _decision(a, b) == "auto_merge"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"email": "li.na@acme.cn"}, {"email": "Li.Na@acme.cn"}),
        ({"phone": "13812345678", "name": "王先生"}, {"phone": "13812345678", "name": "周杰"}),
        # One of the most frequent names at one (large) organisation: maybe two colleagues.
        ({"name": "张伟", "company": "华为技术有限公司"}, {"name": "张伟", "company": "华为技术有限公司"}),
        # A clear name at one organisation, but two different mobiles: namesake colleagues?
        (
            {"name": "陈诗怡", "company": "优佳纺织有限公司", "phone": "13812345678"},
            {"name": "陈诗怡", "company": "优佳纺织有限公司", "phone": "13987654321"},
        ),
    ],
)
def test_an_email_alone_or_a_mobile_with_another_surname_goes_to_review(a: dict[str, str], b: dict[str, str]) -> None:
    assert _decision(a, b) == "review"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"phone": "021-64370045", "name": "张伟"}, {"phone": "021 6437 0045", "name": "张伟"}),
        ({"phone": "021-64370045转8001"}, {"phone": "021-64370045转8001"}),
        ({"unionid": "oA", "phone": "13812345678"}, {"unionid": "oB", "phone": "13812345678"}),
        ({"phone": "13812345678", "name": "张伟"}, {"phone": "13812345678", "name": "李娜"}),
        ({"name": "周先生"}, {"name": "周先生"}),
    ],
)
def test_landlines_namesakes_and_conflicts_do_not_merge(a: dict[str, str], b: dict[str, str]) -> None:
    assert _decision(a, b) == "distinct"


@pytest.mark.parametrize(
    "junk",
    [
        {"name": "测试", "phone": "13812345678", "unionid": "oU"},
        {"company": "demo", "phone": "13812345678", "unionid": "oU"},
        {"phone": "13812345678", "unionid": "oU", "email": "test@example.com"},
        {"name": "ceshi", "phone": "13812345678"},
        {"name": "不要删", "phone": "138 1234 5678（微信同号）"},
        {"name": "张三", "phone": "13812345678"},
    ],
)
def test_junk_never_merges_into_a_real_customer(junk: dict[str, str]) -> None:
    real = {"name": "张伟", "phone": "13812345678", "unionid": "oU"}
    match = score(prepare(**junk), prepare(**real))
    assert match.decision == "distinct"
    assert any(item.rule == "junk_vs_real" for item in match.evidence)


def test_placeholder_phones_are_not_a_key() -> None:
    a, b = prepare(name="王芳", phone="13800000000"), prepare(name="李娜", phone="13800000000")
    assert a.mobile == b.mobile == ""
    assert score(a, b).decision != "auto_merge"


def test_accounts_by_credit_code_and_full_name() -> None:
    assert _decision({"credit_code": CODE}, {"credit_code": CODE.lower()}, "account") == "auto_merge"
    same = ({"company": "上海华为技术有限公司"}, {"company": "华为技术（上海）有限公司"})
    assert _decision(*same, "account") == "auto_merge"
    assert _decision({"company": "上海第六人民医院"}, {"company": "上海市第六人民医院"}, "account") == "auto_merge"
    assert _decision({"company": "第六人民医院"}, {"company": "第六人民医院"}, "account") == "distinct"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("腾讯计算机系统有限公司杭州分公司", "腾讯计算机系统有限公司"),
        ("华为技术(上海)有限公司", "华为技术(北京)有限公司"),
        ("北京第六人民医院", "上海第六人民医院"),
        ("腾讯计算机系统有限公司杭州分公司", "腾讯计算机系统有限公司深圳分公司"),
    ],
)
def test_branches_and_other_regions_are_separate_accounts(a: str, b: str) -> None:
    match = score(prepare(company=a, phone="021-64370045"), prepare(company=b, phone="021-64370045"), "account")
    assert match.decision == "distinct"
    assert any(item.rule in ("company_branch_differs", "company_region_differs") for item in match.evidence)


def test_every_decision_is_explained() -> None:
    match = score(
        prepare(phone="13812345678", company="上海市第六人民医院", region="沪"),
        prepare(phone="138-1234-5678", company="第六人民医院（上海）", region="shanghai"),
    )
    rules = [item.rule for item in match.evidence]
    assert rules == ["mobile_equal", "company_key_equal", "region_fits"]
    assert all(item.detail for item in match.evidence)


def test_one_character_typo_in_a_name_is_close_not_different() -> None:
    match = score(prepare(name="欧阳娜娜", phone="13812345678"), prepare(name="欧阳娜那", phone="13812345678"))
    assert [item.rule for item in match.evidence] == ["mobile_equal", "name_close"]


def test_company_one_character_typo_is_close() -> None:
    match = score(prepare(company="上海浦东发展银行"), prepare(company="上海浦东发展很行"), "account")
    assert "company_close" in [item.rule for item in match.evidence]
