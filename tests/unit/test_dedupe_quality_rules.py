"""Rules tuned on the identity-quality benchmark (bench/identity_quality.py), and XLSX input."""

from __future__ import annotations

from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
from customer_master.batch import load
from customer_master.domain.dedupe import SourceRecord, account_id_for, resolve
from customer_master.domain.junk import junk_reasons
from customer_master.domain.matching import prepare, score


def test_a_mobile_that_nothing_contradicts_merges() -> None:
    match = score(prepare(name="岁月静好", phone="13812345678"), prepare(name="朱经理", phone="+86 138-1234-5678"))
    assert match.decision == "auto_merge"


def test_a_mobile_with_another_full_name_stays_apart() -> None:
    match = score(prepare(name="张伟", phone="13812345678"), prepare(name="李娜", phone="13812345678"))
    assert match.decision == "distinct"


def test_a_placeholder_of_another_surname_is_reviewed() -> None:
    match = score(prepare(name="王先生", phone="13812345678"), prepare(name="周杰", phone="13812345678"))
    assert match.decision == "review"
    assert "name_surname_differs" in [e.rule for e in match.evidence]


def test_two_character_names_one_typo_apart_are_close() -> None:
    match = score(prepare(name="吴丽", phone="13812345678"), prepare(name="吴莉", phone="13812345678"))
    assert "name_close" in [e.rule for e in match.evidence]
    other = score(prepare(name="吴丽", phone="13812345678"), prepare(name="陈丽", phone="13812345678"))
    assert "name_differs" in [e.rule for e in other.evidence]


def test_a_hospital_with_its_region_is_one_account_without_legal_form() -> None:
    match = score(prepare(company="上海第六人民医院"), prepare(company="第六人民医院（上海）"), "account")
    assert match.decision == "auto_merge"
    sibling = score(prepare(company="上海第六人民医院"), prepare(company="北京市第六人民医院"), "account")
    assert sibling.decision == "distinct"


def test_a_testing_company_is_not_junk_but_a_test_company_is() -> None:
    assert junk_reasons(company="上海博远软件测试有限公司") == ()
    assert junk_reasons(company="博远软件测试（北京）股份有限公司") == ()
    assert junk_reasons(company="瑞汇测试技术（广州）") == ()  # the short form reps type
    assert junk_reasons(company="测试技术")
    assert junk_reasons(company="ab测试技术")
    assert junk_reasons(company="测试公司")
    assert junk_reasons(company="上海测试有限公司")
    assert junk_reasons(company="软件测试有限公司")
    assert junk_reasons(name="测试")


def test_one_customer_joins_spellings_of_its_account_but_not_another_company() -> None:
    records = [
        SourceRecord("a1", name="林芳", phone="13812345678", company="深圳金石信息技术有限公司"),
        SourceRecord("a2", name="林芳", phone="13812345678", company="Shenzhen Jin Shi Xin Xi Ji Shu Co., Ltd."),
        SourceRecord("a3", name="林芳", phone="13812345678", company="金石新息技术（深圳）有限公司"),
        SourceRecord("b1", name="王强", phone="13912345678", company="深圳金石信息技术有限公司"),
        SourceRecord("b2", name="王强", phone="13912345678", company="上海远航物流有限公司"),
        SourceRecord("c1", name="赵敏", phone="13712345678", company="北京金石信息技术有限公司"),
        SourceRecord("c2", name="赵敏", phone="13712345678", company="深圳金石信息技术有限公司"),
    ]
    result = resolve(records)
    accounts = {a.record_id: a.account_id for a in result.assignments}
    assert accounts["a1"] == accounts["a2"] == accounts["a3"] == accounts["b1"]
    for other in ("北京金石信息技术有限公司", "上海远航物流有限公司"):  # another region; a job change
        apart = score(
            prepare(company="深圳金石信息技术有限公司"), prepare(company=other), "account", same_customer=True
        )
        assert apart.decision == "distinct"


def test_xlsx_first_sheet_with_a_header_row_and_row_numbers(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["record_id", "name", "phone", "company"])
    sheet.append(["x1", "张伟", 13812345678, "上海华为技术有限公司"])
    sheet.append([None, None, None, None])
    sheet.append(["x2", "李娜", "139 1234 5678", None, "stray"])
    sheet.append([None, "王芳", "13712345678", None])
    sheet.append(["x3", True, "13712345678", None])
    sheet.append(["x4", "赵六", 13612345678.0, None])
    workbook.create_sheet("ignored").append(["record_id"])
    path = tmp_path / "in.xlsx"
    workbook.save(path)
    loaded = load(path)
    assert [(r.record_id, r.phone) for r in loaded.records] == [("x1", "13812345678"), ("x4", "13612345678")]
    assert loaded.lines == [2, 7]
    assert [(e.line, e.column) for e in loaded.errors] == [(4, ""), (5, "record_id"), (6, "name")]
    assert str(loaded.errors[0]).startswith(f"{path}:4:")


def test_an_english_name_with_its_region_is_the_han_account() -> None:
    english, han = prepare(company="Nanjing Yuanlian Trading Corp."), prepare(company="南京元联贸易有限公司")
    assert score(english, han, "account").decision == "auto_merge"
    without_region = score(prepare(company="Yuanlian Trading"), han, "account")
    assert without_region.decision == "distinct"
    assert "company_pinyin_equal_account" in {e.rule for e in without_region.evidence}
    other_city = score(prepare(company="Suzhou Yuanlian Trading Co., Ltd."), han, "account")
    assert other_city.decision == "distinct"


def test_batch_accounts_meet_across_scripts() -> None:
    records = [
        SourceRecord("e1", name="王鹏杰", phone="13143963883", company="Nanjing Yuanlian Trading Corp."),
        SourceRecord("h1", name="李思远", phone="13912345678", company="南京元联贸易有限公司"),
    ]
    first, second = resolve(records).assignments
    assert first.account_id == second.account_id


def _accounts(records: list[SourceRecord]) -> dict[str, str | None]:
    return {a.record_id: a.account_id for a in resolve(records).assignments}


def test_a_homophone_typo_of_a_company_is_its_account_across_customers() -> None:
    records = [
        SourceRecord("h1", name="杨杰华", phone="15662399888", company="青峰网络科技有限责任公司", region="成都"),
        SourceRecord("h2", name="朱雨馨", phone="13137368040", company="青峰网络科技", region="四川省成都市"),
        SourceRecord("h3", name="吕丹悦", phone="15563012333", company="青锋网络科技有限责任公司", region="Chengdu"),
    ]
    accounts = _accounts(records)
    assert accounts["h1"] == accounts["h2"] == accounts["h3"]


def test_sound_alike_names_in_two_named_regions_stay_apart() -> None:
    records = [
        SourceRecord("r1", name="王强", phone="13900001111", company="青锋网络科技（北京）有限公司"),
        SourceRecord("r2", name="赵敏", phone="13900002222", company="青峰网络科技（上海）有限公司"),
        SourceRecord("r3", name="Wang Li", phone="13900003333", company="Qingfeng Network Technology Co., Ltd."),
    ]
    accounts = _accounts(records)
    assert len({accounts["r1"], accounts["r2"], accounts["r3"]}) == 3


def test_names_two_characters_apart_or_of_two_credit_codes_are_not_homophone_typos() -> None:
    records = [
        SourceRecord("t1", name="杨杰华", phone="15662399888", company="青峰网络科技"),
        SourceRecord("t2", name="吕丹悦", phone="15563012333", company="清锋网络科技"),  # two characters differ
        SourceRecord("t3", name="王强", phone="13900001111", company="鑫源贸易", credit_code="91330100MA27XXXX1J"),
        SourceRecord("t4", name="赵敏", phone="13900002222", company="新源贸易", credit_code="91330100MA28YYYY2X"),
    ]
    accounts = _accounts(records)
    assert accounts["t1"] != accounts["t2"]
    assert accounts["t3"] != accounts["t4"]


def test_a_latin_name_joins_the_one_han_account_it_sounds_like() -> None:
    records = [
        SourceRecord("l1", name="陈婷薇", phone="13625147893", company="Xinmei Trading Corp."),
        SourceRecord("l2", name="郭凯明", phone="13669573069", company="鑫美贸易股份有限公司", region="杭州"),
        SourceRecord("l3", name="罗轩", phone="18626304816", company="杭州鑫美贸易"),
        SourceRecord("l4", name="高先生", phone="17805587180", company="Foshan No.6 Middle School"),
        SourceRecord("l5", name="张磊", phone="13060726673", company="佛山市第六中学"),
    ]
    accounts = _accounts(records)
    assert accounts["l1"] == accounts["l2"] == accounts["l3"]
    assert accounts["l4"] == accounts["l5"] != accounts["l1"]


def test_a_latin_name_that_sounds_like_two_accounts_joins_neither() -> None:
    records = [
        SourceRecord("s1", name="陈婷薇", phone="13625147893", company="Zhongjin Trading"),
        SourceRecord("s2", name="郭凯明", phone="13669573069", company="中金贸易（北京）有限公司"),
        SourceRecord("s3", name="罗轩", phone="18626304816", company="中金贸易（宁波）有限公司"),
    ]
    accounts = _accounts(records)
    assert len({accounts["s1"], accounts["s2"], accounts["s3"]}) == 3


def test_a_customer_between_two_accounts_belongs_to_the_one_colleagues_name() -> None:
    # One person's two records name an English rendering nobody ties and the Han name; the Han
    # account is the one two colleagues name, so the person belongs to it (before: the smaller id).
    records = [
        SourceRecord("a9", name="林芳", phone="13812345678", company="Lanzhi Qipei Corp."),  # the smaller id
        SourceRecord("c1", name="林芳", phone="13812345678", company="苏州蓝智汽车零部件有限公司"),
        SourceRecord("c2", name="周成宇", phone="18888754203", company="苏州蓝智汽车零部件有限公司"),
        SourceRecord("c3", name="马文涵", phone="17626246145", company="蓝智汽车零部件", region="苏州"),
    ]
    accounts = _accounts(records)
    assert accounts["a9"] == accounts["c1"] == accounts["c2"] == accounts["c3"] == account_id_for("c1")


def test_a_bare_trade_name_does_not_chain_a_head_office_to_its_subsidiary() -> None:
    # Staff of the Wuhan head office and of the Chengdu subsidiary both type the bare name; each
    # person ties it to their own firm, but one account is never registered in Wuhan and Chengdu.
    records = [
        SourceRecord("w1", name="李文", phone="13971112222", company="武汉丰捷信息技术股份有限公司"),
        SourceRecord("w2", name="李文", phone="13971112222", company="丰捷信息技术"),
        SourceRecord("c1", name="王丽丹", phone="18980003333", company="丰捷信息技术（成都）有限公司"),
        SourceRecord("c2", name="王丽丹", phone="18980003333", company="丰捷信息技术"),
        SourceRecord("c3", name="王丽丹", phone="18980003333", company="丰捷信息技术（成都）", region="成都"),
    ]
    accounts = _accounts(records)
    assert accounts["w1"] == accounts["w2"]
    assert accounts["c1"] == accounts["c3"] != accounts["w1"]


def test_a_credit_code_registered_elsewhere_keeps_a_name_out_of_the_one_region_it_is_found_in() -> None:
    # '丰杰信息技术' is named with a region only in Chengdu, so a bare '丰杰信息技术' joins Chengdu, unless
    # its record carries a credit code registered in Wuhan (characters 3-8: 420102), the head office's.
    records = [
        SourceRecord(
            "x1", name="王芳", phone="13971114444", company="丰杰信息技术股份有限公司", credit_code="91420102MA4K0A1B0Y"
        ),
        SourceRecord("x2", name="罗凯昊", phone="18980005555", company="丰杰信息技术（成都）有限公司"),
        SourceRecord("x3", name="张玲", phone="18980006666", company="丰杰信息技术有限公司"),
    ]
    accounts = _accounts(records)
    assert accounts["x1"] != accounts["x2"]
    assert accounts["x2"] == accounts["x3"]
