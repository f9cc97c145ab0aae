"""The batch identity-resolution engine (customer_master.domain.dedupe): clusters, ids, junk, blocking."""

from __future__ import annotations

import random

from customer_master.domain.dedupe import (
    SourceRecord,
    account_id_for,
    customer_id_for,
    max_score_without_block_key,
    resolve,
)
from customer_master.domain.matching import REVIEW
from hypothesis import given, settings
from hypothesis import strategies as st

# Seed 002 §客户数据混乱: one customer three times, test rows, sibling branches.
STORY = [
    SourceRecord("r01", name="张伟", phone="13812345678", company="上海华为技术有限公司", region="沪"),
    SourceRecord("r02", name="🌸張偉🌸", phone="+86 138-1234-5678", company="华为技术（上海）有限公司", unionid="oU1"),
    SourceRecord("r03", name="Zhang Wei", phone="0086 13812345678", unionid="oU1", email="ZW@huawei.com "),
    SourceRecord("r04", name="测试", phone="13800000000", company="测试公司"),
    SourceRecord("r05", name="测试", phone="13800000000"),
    SourceRecord("r06", name="李娜", phone="13912345678", company="腾讯计算机系统有限公司杭州分公司"),
    SourceRecord("r07", name="王芳", phone="13712345678", company="腾讯计算机系统有限公司深圳分公司"),
    SourceRecord("r08", name="赵六", email="zhao6@qq.com"),
    SourceRecord("r09", name="周先生", phone="13712345678"),
]


def _by_id(records: list[SourceRecord]) -> dict[str, tuple[str, str | None, bool]]:
    return {a.record_id: (a.customer_id, a.account_id, a.junk) for a in resolve(records).assignments}


def test_one_customer_three_spellings_is_one_customer_and_one_account() -> None:
    out = _by_id(STORY)
    assert out["r01"][0] == out["r02"][0] == out["r03"][0] == customer_id_for("r01")
    assert out["r01"][1] == out["r02"][1] == out["r03"][1] == account_id_for("r01")


def test_test_rows_are_junk_and_merged_with_nothing() -> None:
    out = _by_id(STORY)
    assert out["r04"][2] and out["r05"][2]
    assert out["r04"][1] is None and out["r05"][1] is None
    customers = [customer for customer, _, _ in out.values()]
    assert customers.count(out["r04"][0]) == 1 and customers.count(out["r05"][0]) == 1
    assert not any(junk for rid, (_, _, junk) in out.items() if rid not in ("r04", "r05"))


def test_two_branches_of_one_company_are_two_accounts() -> None:
    out = _by_id(STORY)
    assert out["r06"][1] and out["r07"][1] and out["r06"][1] != out["r07"][1]
    assert out["r06"][0] != out["r07"][0]


def test_a_consumer_has_no_account() -> None:
    assert _by_id(STORY)["r08"][1] is None


def test_a_mobile_alone_is_a_suggestion_with_evidence_not_a_merge() -> None:
    result = resolve(STORY)
    out = {a.record_id: a.customer_id for a in result.assignments}
    assert out["r07"] != out["r09"]
    [suggestion] = [s for s in result.suggestions if s.record_ids == ("r07", "r09")]
    assert suggestion.kind == "customer"
    assert REVIEW <= suggestion.score < 0.99
    assert suggestion.cluster_ids == (out["r07"], out["r09"])
    assert suggestion.evidence[0].rule == "mobile_equal"


def test_identical_repeats_merge_only_when_they_carry_a_strong_key() -> None:
    same = [SourceRecord(f"u{i}", name="孙丽", unionid="oSAME") for i in range(3)]
    namesakes = [SourceRecord(f"n{i}", name="孙丽", region="上海") for i in range(2)]
    out = _by_id(same + namesakes)
    assert {out[f"u{i}"][0] for i in range(3)} == {customer_id_for("u0")}
    assert out["n0"][0] != out["n1"][0]


def test_reruns_and_shuffled_input_give_the_same_ids() -> None:
    records = STORY + [SourceRecord(f"x{i}", name="钱七", phone=f"1390000{i % 3:04d}") for i in range(12)]
    first = _by_id(records)
    assert _by_id(records) == first
    for seed in range(5):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        result = resolve(shuffled)
        assert [a.record_id for a in result.assignments] == [r.record_id for r in shuffled]
        assert {a.record_id: (a.customer_id, a.account_id, a.junk) for a in result.assignments} == first
        assert result.suggestions == resolve(records).suggestions


def test_blocking_loses_no_pair_that_could_be_reviewed() -> None:
    # Without an equal strong key (customers) or credit code / company key (accounts), no pair
    # reaches the review threshold, so blocking on those keys misses nothing.
    assert max_score_without_block_key("customer") < REVIEW
    assert max_score_without_block_key("account") < REVIEW


def test_wide_blocks_are_windowed_and_still_chain_one_customer() -> None:
    # Each record differs (email) so none collapse into one signature.
    records = [SourceRecord(f"w{i:04d}", name="吴敏", phone="13611112222", email=f"wm{i}@x.cn") for i in range(400)]
    result = resolve(records)
    assert len({a.customer_id for a in result.assignments}) == 1
    assert result.stats.windowed_blocks >= 1
    assert result.stats.comparisons < 400 * 399 // 2


_PHONES = st.sampled_from(["13812345678", "+86 138 1234 5678", "13800000000", "12345678901", "13912345678", ""])
_NAMES = st.sampled_from(["张伟", "張偉", "测试", "test", "李娜", "周先生", ""])
_COMPANIES = st.sampled_from(["华为技术有限公司", "demo", "测试公司", "腾讯计算机系统有限公司杭州分公司", ""])
_IDS = st.sampled_from(["oU1", "oU2", ""])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(_NAMES, _PHONES, _COMPANIES, _IDS, st.sampled_from(["a@x.cn", "test@example.com", ""])),
        min_size=1,
        max_size=12,
    )
)
def test_junk_never_shares_a_customer_or_account_with_a_real_record(
    rows: list[tuple[str, str, str, str, str]],
) -> None:
    records = [
        SourceRecord(f"p{i:02d}", name=n, phone=p, company=c, unionid=u, email=e)
        for i, (n, p, c, u, e) in enumerate(rows)
    ]
    result = resolve(records)
    junk_customers = {a.customer_id for a in result.assignments if a.junk}
    real_customers = {a.customer_id for a in result.assignments if not a.junk}
    assert not junk_customers & real_customers
    assert all(a.account_id is None for a in result.assignments if a.junk)
    # Junk never merges at all: each junk record is its own customer.
    assert len(junk_customers) == sum(a.junk for a in result.assignments)


def test_organisations_the_matcher_only_doubts_become_account_suggestions() -> None:
    # Same company key and legal form but no region (one such name may exist per province):
    # the account matcher scores review, so no merge, but every such record is suggested
    # against the first. (With its region, '上海市第六人民医院', it merges: names are unique there.)
    records = [
        SourceRecord("h1", name="张伟", phone="13812345678", company="博远科技有限公司"),
        SourceRecord("h2", name="李娜", phone="13912345678", company="博远科技有限公司"),
        SourceRecord("h3", name="王芳", phone="13712345678", company="博远科技 有限公司"),
    ]
    result = resolve(records)
    assert len({a.account_id for a in result.assignments}) == 3
    pairs = [(s.kind, s.record_ids) for s in result.suggestions]
    assert pairs == [("account", ("h1", "h2")), ("account", ("h1", "h3"))]


def test_every_record_of_a_customer_carries_the_customers_account() -> None:
    # One person (one unionid): two records at one company, one at another (a job change) and
    # a nickname record naming no company; plus a junk row. Each real record carries the account
    # most of the customer's records name; the junk row none.
    records = [
        SourceRecord("c1", name="陈静", unionid="oC1", company="杭州网易科技有限公司", region="杭州"),
        SourceRecord("c2", name="陈静", unionid="oC1", phone="13512345678", company="网易科技（杭州）有限公司"),
        SourceRecord("c3", name="陈静", unionid="oC1", company="北京字节跳动网络技术有限公司"),
        SourceRecord("c4", name="静静", unionid="oC1", phone="135 1234 5678"),
        SourceRecord("c5", name="测试", phone="13800000000", company="测试公司"),
    ]
    out = _by_id(records)
    assert out["c1"][0] == out["c2"][0] == out["c3"][0] == out["c4"][0]
    assert out["c1"][1] == out["c2"][1] == out["c3"][1] == out["c4"][1] == account_id_for("c1")
    assert out["c5"][2] and out["c5"][1] is None


def test_a_name_without_region_joins_the_one_region_it_is_found_in() -> None:
    # Different people, no shared identifier: '博远科技' named in Shanghai only, so the records
    # without a region in the name are that account.
    records = [
        SourceRecord("g1", name="张伟", phone="13812345678", company="上海博远科技有限公司"),
        SourceRecord("g2", name="李娜", phone="13912345678", company="博远科技有限公司"),
        SourceRecord("g3", name="王芳", phone="13712345678", company="博远科技", region="北京"),
    ]
    out = _by_id(records)
    assert out["g1"][1] == out["g2"][1] == out["g3"][1] == account_id_for("g1")


def test_branches_in_several_regions_stay_apart_and_a_bare_name_joins_only_the_one_it_fits() -> None:
    records = [
        SourceRecord("b1", name="张伟", phone="13812345678", company="博远科技（上海）有限公司"),
        SourceRecord("b2", name="李娜", phone="13912345678", company="博远科技（北京）有限公司"),
        SourceRecord("b3", name="王芳", phone="13712345678", company="博远科技有限公司"),
        SourceRecord("b4", name="赵敏", phone="13612345678", company="博远科技有限公司", region="北京"),
    ]
    out = _by_id(records)
    assert len({out["b1"][1], out["b2"][1], out["b3"][1]}) == 3
    assert out["b4"][1] == out["b2"][1]


def test_a_name_found_in_no_region_is_one_account_per_record_region() -> None:
    records = [
        SourceRecord("d1", name="张伟", phone="13812345678", company="博远科技有限公司", region="上海"),
        SourceRecord("d2", name="李娜", phone="13912345678", company="博远科技有限公司", region="沪"),
        SourceRecord("d3", name="王芳", phone="13712345678", company="博远科技有限公司", region="北京"),
        SourceRecord("d4", name="赵敏", phone="13612345678", company="博远科技有限公司"),
    ]
    out = _by_id(records)
    assert out["d1"][1] == out["d2"][1] == account_id_for("d1")
    assert len({out["d1"][1], out["d3"][1], out["d4"][1]}) == 3
