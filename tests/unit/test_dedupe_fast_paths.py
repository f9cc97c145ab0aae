"""The batch engine's fast paths give what the general paths give: flat records, flat scoring,
plain-mobile phones, ASCII text, the JSON reader, parallel reading and the column-wise results."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from customer_master import batch
from customer_master.domain import dedupe, phones, regions, text
from customer_master.domain.dedupe import Assignment, Assignments, SourceRecord, resolve, resolve_flat
from customer_master.domain.matching import (
    MatchRecord,
    flatten,
    prepare,
    prepare_flat,
    score,
    score_flat,
    unflatten,
)
from customer_master.domain.normalise import digits_of, nfkc, normalise_phone
from hypothesis import given, settings
from hypothesis import strategies as st

_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_TYPED = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
    st.characters(min_codepoint=0x3000, max_codepoint=0x303F),
)
_PIECES = st.sampled_from(
    [
        *(
            "上海",
            "上海市",
            "(上海)",
            "（北京）",
            "有限公司",
            "华为技术",
            "杭州分公司",
            "测试",
            "张伟",
            "張偉",
            "周先生",
        ),
        *("🌸", "Zhang Wei", "zhang wei", "A-", " ", "Co., Ltd.", "第六人民医院", "欧阳娜娜", "test", "王芳"),
    ]
)
_TEXT = st.one_of(st.text(alphabet=st.one_of(_HAN, _TYPED), max_size=12), st.lists(_PIECES, max_size=4).map("".join))
_PHONE = st.one_of(
    st.sampled_from(["", "13812345678", "+86 138-1234-5678", "0086 13812345678", "138 1234 5678", "13800000000"]),
    st.sampled_from(["021-64370045", "021-6437 0045转8001", "400-810-8888", "12345678901", "13888888888"]),
    st.text(alphabet=st.sampled_from(list("0123456789 +-()x#转")), max_size=18),
    st.builds(
        lambda d, p: p + "1" + d,
        st.text(alphabet="0123456789", min_size=10, max_size=10),
        st.sampled_from(["", "+86", "0086", "+86 ", "86"]),
    ),
)
_FIELDS = st.fixed_dictionaries(
    {
        "name": _TEXT,
        "phone": _PHONE,
        "email": st.sampled_from(["", "li@acme.cn", "LI@ACME.CN ", "test@example.com", "zhang@qq.com", "x@acme.cn"]),
        "company": _TEXT,
        "credit_code": st.sampled_from(["", "91310000MA1FL8XQ3X", "91310000MA1FL8XQ30"]),
        "unionid": st.sampled_from(["", "oU1", "oU2"]),
        "wecom_external_userid": st.sampled_from(["", "wm1", "wm2"]),
        "region": st.sampled_from(["", "上海", "hangzhou", "北京", "sh", "310000"]),
    }
)


@settings(max_examples=300, deadline=None)
@given(_FIELDS)
def test_a_flat_record_is_the_prepared_record(fields: dict[str, str]) -> None:
    record = prepare(**fields)
    assert prepare_flat(**fields) == flatten(record)
    assert unflatten(flatten(record)) == record


@settings(max_examples=400, deadline=None)
@given(_FIELDS, _FIELDS, st.sampled_from(["customer", "account"]), st.booleans())
def test_flat_scoring_is_the_scoring(a: dict[str, str], b: dict[str, str], kind: Any, same: bool) -> None:
    first, second = prepare(**a), prepare(**b)
    for x, y in ((first, second), (second, first), (first, first)):
        assert (
            score_flat(flatten(x), flatten(y), kind, same_customer=same) == score(x, y, kind, same_customer=same).score
        )


@settings(max_examples=500, deadline=None)
@given(_PHONE)
def test_plain_mobiles_are_classified_as_a_full_parse_would(raw: str) -> None:
    classified = phones.classify_phone(raw)
    assert phones.phone_parts(raw) == (classified.e164, classified.kind, classified.reason)
    written = nfkc(raw)
    if written:
        assert phones._classify(written) == classified  # the general path agrees with the shortcut
    if classified.kind == "mobile":
        parsed = normalise_phone(raw)
        assert parsed is not None and parsed.is_mobile and parsed.e164 == classified.e164


def _placeholder_reference(digits: str) -> str:
    if digits in phones.PLACEHOLDER_NUMBERS:
        return f"placeholder phone {digits}"
    if len(digits) >= 7 and len(set(digits)) == 1:
        return "phone of one repeated digit"
    if len(digits) == 11 and digits[0] == "1" and len(set(digits[3:])) == 1:
        return "mobile whose subscriber number is one repeated digit"
    if len(digits) >= 8 and any(digits in seq * 2 for seq in ("0123456789", "1234567890", "9876543210")):
        return "phone of consecutive digits"
    return ""


@settings(max_examples=500)
@given(st.text(alphabet="0123456789", max_size=14) | st.sampled_from(["13888888888", "12345678901", "98765432"]))
def test_placeholder_reasons(digits: str) -> None:
    assert phones.placeholder_reason(digits) == _placeholder_reference(digits)


@given(st.text(max_size=20))
def test_digits_of(value: str) -> None:
    assert digits_of(value) == "".join(ch for ch in value if ch.isdigit())


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=24))
def test_ascii_text_is_simplified_as_any_text(value: str) -> None:
    assert text.simplify(value) == text._simplify(value)


def _region_prefix_reference(value: str) -> tuple[str, str]:
    prefixes = regions._PREFIXES
    for alias, code in prefixes:
        if value.startswith(alias):
            if code in regions.PROVINCES:
                rest = value[len(alias) :]
                for city_alias, city_code in prefixes:
                    if city_code[:2] == code[:2] and city_code not in regions.PROVINCES and rest.startswith(city_alias):
                        return city_code, alias + city_alias
            return code, alias
    return "", ""


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(["浙江省", "杭州市", "杭州", "上海", "吉林", "吉林市", "西湖区", "x", "江苏", "苏州"]),
        max_size=3,
    )
)
def test_region_prefix_by_first_character(pieces: list[str]) -> None:
    value = "".join(pieces)
    assert regions.region_prefix(value) == _region_prefix_reference(value)


def _outcome(function: Callable[[str], Any], value: str) -> tuple[str, Any, Any]:
    try:
        return "value", function(value), None
    except json.JSONDecodeError as exc:
        return "error", exc.msg, exc.pos


_JSON_PIECES = st.sampled_from([*'{}[]":,0123456789.eE-ntrufals \t\n\r\\', '"a"', "null", "\ufeff", '"\\ud800"'])


@settings(max_examples=500)
@given(st.lists(_JSON_PIECES, max_size=14).map("".join))
def test_the_jsonl_reader_is_json_loads(value: str) -> None:
    assert _outcome(batch._loads, value) == _outcome(json.loads, value)


def test_the_out_line_is_json_dumps(tmp_path: Path) -> None:
    ids = ['r"1', "r\\2", "张伟\u2028", "tab\there", "ctl\x01", "emoji🌸"]
    result = resolve(
        [SourceRecord(rid, name="测试" if i % 2 else "张伟", phone="13812345678") for i, rid in enumerate(ids)]
    )
    batch.write(result, tmp_path / "out.jsonl")
    expected = [
        json.dumps(
            {"record_id": a.record_id, "customer_id": a.customer_id, "account_id": a.account_id, "junk": a.junk},
            ensure_ascii=False,
        )
        for a in result.assignments
    ]
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").split("\n") == [*expected, ""]
    plain = type(result)(assignments=list(result.assignments), suggestions=result.suggestions, stats=result.stats)
    batch.write(plain, tmp_path / "plain.jsonl")  # any sequence of Assignment writes the same
    assert (tmp_path / "plain.jsonl").read_bytes() == (tmp_path / "out.jsonl").read_bytes()


def test_assignments_read_like_a_list() -> None:
    columns = Assignments(["a", "b"], ["c1", "c2"], [None, "x"], [("junk",), ()])
    items = [Assignment("a", "c1", None, True, ("junk",)), Assignment("b", "c2", "x", False, ())]
    assert list(columns) == items and columns == items and len(columns) == 2
    assert columns[1] == items[1] and columns[-1] == items[1] and columns[0:1] == items[:1]
    assert list(columns.rows()) == [("a", "c1", None, ("junk",)), ("b", "c2", "x", ())]
    with pytest.raises(ValueError, match="one length"):
        Assignments(["a"], [], [], [])


def _records(count: int, seed: int) -> list[SourceRecord]:
    """Persons with several records, shared switchboards, one wide company block, junk and dirt."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        person = rng.randrange(count // 3 + 1)
        out.append(
            SourceRecord(
                f"r{rng.randrange(10**9):09d}-{index}",  # not in input order
                name=rng.choice(["张伟", "張偉", "🌸张伟🌸", "李娜", "周先生", "Zhang Wei", "测试", ""]),
                phone=rng.choice(
                    [f"1391234{person:04d}", f"+86 139-1234-{person:04d}", "021-64370045", "", "13800000000"]
                ),
                email=rng.choice(["", f"u{person}@acme.cn", f"U{person}@ACME.CN", "info@acme.cn"]),
                company=rng.choice(
                    [
                        "上海华信科技有限公司",
                        "华信科技（上海）有限公司",
                        "华信科技有限公司",
                        "华信科技(北京)有限公司",
                        "",
                    ]
                ),
                unionid=rng.choice(["", f"oU{person}", f"oU{person + 1}"]),
                region=rng.choice(["", "上海", "沪", "北京"]),
            )
        )
    return out


def _compare_block_reference(self: Any, block: list[int], junk: list[bool]) -> None:
    """The plain loop the engine's block comparison shortens (every pair checked in order)."""
    find = self.found.find
    wide = len(block) > dedupe.BLOCK_ALL_PAIRS
    self.windowed += wide
    for i, a in enumerate(block):
        stop = min(len(block), i + 1 + dedupe.BLOCK_WINDOW) if wide else len(block)
        for b in block[i + 1 : stop]:
            if find(a) == find(b):
                continue
            if junk[a] == junk[b]:
                self._judge(a, b)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_block_shortcuts_and_a_forked_account_pass_change_nothing(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    records = _records(900, seed)
    monkeypatch.setattr(dedupe, "BLOCK_ALL_PAIRS", 20)
    monkeypatch.setattr(dedupe, "BLOCK_WINDOW", 7)
    fast = resolve(records)
    record_ids = [r.record_id for r in records]
    forms = [r.prepared_flat() for r in records]
    forked = resolve_flat(record_ids, forms, run_aside=batch._run_forked)
    with monkeypatch.context() as patched:
        patched.setattr(dedupe._Clusterer, "_compare_block", _compare_block_reference)
        plain = resolve(records)
    for other in (forked, plain):
        assert list(other.assignments) == list(fast.assignments)
        assert other.suggestions == fast.suggestions
        assert other.stats == fast.stats
    assert fast.stats.windowed_blocks > 0 and fast.suggestions


def _lines(records: list[SourceRecord]) -> list[str]:
    return [json.dumps({k: v for k, v in vars(r).items() if v}, ensure_ascii=False) for r in records]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("workers", [1, 2])
def test_reading_in_parts_is_loading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, newline: str, workers: int
) -> None:
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10)
    monkeypatch.setattr(batch, "CHUNK", 7)
    lines = _lines(_records(200, 5))
    lines[3] = "not json"
    lines[9] = lines[8]  # a duplicate record_id, in the part after its first
    lines[11] = lines[10]  # and one in the same part
    lines[20] = '{"record_id": "x", "nickname": "y"}'
    lines[30] = '{"record_id": "y", "name": 1.5}'
    lines.insert(40, "")
    path = tmp_path / "in.jsonl"
    path.write_bytes(("\ufeff" + newline.join(lines)).encode())  # with a BOM, no final newline
    seen: list[tuple[str, int, int]] = []
    prepared = batch.prepare_file(path, workers=workers, progress=lambda p, d, t: seen.append((p, d, t)))
    loaded = batch.load(path)
    assert prepared.record_ids == [r.record_id for r in loaded.records]
    assert prepared.forms == [r.prepared_flat() for r in loaded.records]
    assert [str(e) for e in prepared.errors] == [str(e) for e in loaded.errors]
    assert len(prepared.errors) == 5
    assert seen[-1] == ("normalise", len(lines), len(lines))


def test_a_bad_byte_in_a_part_is_the_files_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(batch, "PARALLEL_FROM", 10)
    monkeypatch.setattr(batch, "CHUNK", 5)
    path = tmp_path / "in.jsonl"
    path.write_bytes(("\n".join(_lines(_records(60, 1))) + "\n").encode() + b'{"record_id": "\xff"}\n')
    with pytest.raises(batch.InputError, match=re.escape("not utf-8-sig text (invalid start byte)")) as raised:
        batch.dedupe_file(path, tmp_path / "out.jsonl", workers=2)
    with pytest.raises(batch.InputError) as loading:
        batch.load(path)
    assert str(raised.value) == str(loading.value)


def test_flat_records_are_compact() -> None:
    record = prepare(name="张伟", phone="13812345678", company="上海华为技术有限公司", region="沪")
    flat = flatten(record)
    assert isinstance(flat, tuple) and all(isinstance(value, str) for value in flat[:-1])
    assert flat[12] == record.company.key
    assert unicodedata.is_normalized("NFKC", flat[5])
    assert isinstance(unflatten(flat), MatchRecord)
