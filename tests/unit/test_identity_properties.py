"""Invariants of the identity normalisers and the match score (hypothesis)."""

from __future__ import annotations

from customer_master.domain.companies import normalise_company
from customer_master.domain.matching import AUTO_MERGE, MatchRecord, prepare, score
from customer_master.domain.names import normalise_name
from customer_master.domain.normalise import normalise_email, normalise_region
from customer_master.domain.phones import classify_phone
from hypothesis import example, given, settings
from hypothesis import strategies as st

_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
# What upstream forms send: Han, ASCII, full-width forms and CJK punctuation (not every
# compatibility character of Unicode, such as '㏠', which NFKC expands unpredictably).
_TYPED = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(min_codepoint=0x3000, max_codepoint=0x303F),
)
_ANY = st.text(alphabet=st.one_of(_HAN, _TYPED), max_size=16)
_PIECES = st.sampled_from(
    [
        "上海",
        "上海市",
        "第六人民医院",
        "(上海)",
        "（北京）",
        "有限公司",
        "股份有限公司",
        "华为技术",
        "杭州分公司",
        "测试",
        "张伟",
        "周先生",
        "🌸",
        " ",
        "Co., Ltd.",
        "shanghai ",
        "張偉",
        "-",
        "A",
    ]
)
_MIXED = st.one_of(_ANY, st.lists(_PIECES, max_size=5).map("".join))
_PHONES = st.sampled_from(
    ["13812345678", "138 1234 5678", "13800000000", "021-64370045", "", "12345678901", "13912345678", "400-810-8888"]
)


@st.composite
def records(draw: st.DrawFn) -> MatchRecord:
    return prepare(
        name=draw(_MIXED),
        phone=draw(_PHONES),
        company=draw(_MIXED),
        email=draw(st.sampled_from(["", "li@acme.cn", "test@example.com", "zhang@qq.com"])),
        unionid=draw(st.sampled_from(["", "oU1", "oU2"])),
        region=draw(st.sampled_from(["", "上海", "hangzhou", "北京"])),
    )


@given(_MIXED)
def test_name_normalisation_is_idempotent(raw: str) -> None:
    once = normalise_name(raw)
    assert normalise_name(once.text) == once


@given(_MIXED)
@example("0〫^〪")  # tone marks a dropped '^' kept apart: canonical order only after a second NFKC
def test_company_normalisation_is_idempotent(raw: str) -> None:
    once = normalise_company(raw)
    assert normalise_company(once.text).key == once.key


@given(_MIXED)
def test_region_email_phone_are_idempotent(raw: str) -> None:
    code = normalise_region(raw)
    assert code == "" or normalise_region(code) == code
    email = normalise_email(raw)
    assert normalise_email(email) == email
    phone = classify_phone(raw)
    if phone.kind == "mobile":
        assert classify_phone(phone.e164) == phone


@settings(max_examples=300)
@given(records(), records(), st.sampled_from(["customer", "account"]))
def test_score_is_symmetric_and_bounded(a: MatchRecord, b: MatchRecord, kind: str) -> None:
    k = "account" if kind == "account" else "customer"
    ab, ba = score(a, b, k), score(b, a, k)
    assert 0.0 <= ab.score <= 1.0
    assert ab.score == ba.score
    assert ab.decision == ba.decision
    assert sorted(e.rule for e in ab.evidence) == sorted(e.rule for e in ba.evidence)


@settings(max_examples=300)
@given(records(), records())
def test_junk_never_auto_merges(a: MatchRecord, b: MatchRecord) -> None:
    match = score(a, b)
    if a.junk or b.junk:
        assert match.score < AUTO_MERGE
    if bool(a.junk) != bool(b.junk):
        assert match.decision == "distinct"
