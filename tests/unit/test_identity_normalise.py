"""customer-master normalisers, field by field, on the spellings seed 002 complains about."""

from __future__ import annotations

import pytest
from customer_master.domain.companies import company_pinyin, normalise_company
from customer_master.domain.credit_codes import credit_code_region, normalise_credit_code
from customer_master.domain.industries import normalise_industry
from customer_master.domain.junk import junk_reasons
from customer_master.domain.names import normalise_name
from customer_master.domain.normalise import email_domain, normalise_email, normalise_phone, normalise_region
from customer_master.domain.phones import classify_phone
from stdnum.cn import uscc


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138-1234-5678",
        "138 1234 5678",
        "+86 138 1234 5678",
        "0086 13812345678",
        "8613812345678",
        "１３８１２３４５６７８",
        "+86-138-1234-5678",
    ],
)
def test_mobile_spellings_give_one_e164_mobile(raw: str) -> None:
    assert classify_phone(raw).e164 == "+8613812345678"
    assert classify_phone(raw).identifies_person
    assert normalise_phone(raw) is not None


@pytest.mark.parametrize(
    "raw",
    [
        "13708879284（微信同号）",
        "13708879284 同微信",
        "tel:13708879284",
        "手机：13708879284",
        "13708879284/",
        "电话 137-0887-9284",
        "137 0887 9284 (微信)",
        "Mobile: +86 137 0887 9284；",
        "微信同号13708879284",
    ],
)
def test_a_mobile_with_labels_around_it_is_that_mobile(raw: str) -> None:
    assert classify_phone(raw).e164 == "+8613708879284"
    assert classify_phone(raw).identifies_person
    assert normalise_phone(raw) == normalise_phone("13708879284")


@pytest.mark.parametrize(
    "raw",
    [
        "13708879284 / 13912345678",
        "13708879284/13912345678（微信同号）",
        "13708879284 13912345678",
        "021-64370045 / 13708879284",
        "1370887928（微信同号）",
        "手机：137-0887-928",
        "137088792845 同微信",
        "13708879284（空号）",
        "手机",
    ],
)
def test_two_numbers_too_few_digits_or_a_remark_give_no_mobile(raw: str) -> None:
    assert not classify_phone(raw).identifies_person
    assert normalise_phone(raw) is None


def test_labels_keep_a_switchboard_extension() -> None:
    phone = classify_phone("电话：021-6437 0045转8001（同微信）")
    assert (phone.e164, phone.kind, phone.extension) == ("+862164370045", "switchboard", "8001")


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("021-64370045", "landline"),
        ("(021) 6437 0045", "landline"),
        ("021-6437 0045转8001", "switchboard"),
        ("021-64370045 ext. 12", "switchboard"),
        ("400-810-8888", "switchboard"),
        ("", "empty"),
        ("abc", "invalid"),
    ],
)
def test_landlines_and_switchboards_never_identify_a_person(raw: str, kind: str) -> None:
    phone = classify_phone(raw)
    assert phone.kind == kind
    assert not phone.identifies_person


@pytest.mark.parametrize(
    "raw",
    ["13800000000", "12345678901", "13999999999", "11111111111", "138-0000-0000", "1", "123", "13800000000 同微信"],
)
def test_placeholder_phones_are_flagged_with_a_reason(raw: str) -> None:
    phone = classify_phone(raw)
    assert phone.kind == "placeholder"
    assert phone.reason
    assert junk_reasons(phone=raw) == (phone.reason,)


@pytest.mark.parametrize(
    ("raw", "email"),
    [(" Li.Na@Example.COM ", "li.na@example.com"), ("ＬＩ＠ＡＣＭＥ.ＣＮ", "li@acme.cn"), ("nobody", "")],
)
def test_email_case_whitespace_and_width(raw: str, email: str) -> None:
    assert normalise_email(raw) == email
    assert email_domain(email) == (email.split("@")[1] if email else "")


@pytest.mark.parametrize("raw", ["shanghai", "Shanghai", "沪", "SH", "上海市", "上海", "310000", " 上海 ", "SHANGHAI"])
def test_shanghai_spellings_give_one_code(raw: str) -> None:
    assert normalise_region(raw) == "310000"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("杭州", "330100"),
        ("杭州市", "330100"),
        ("hangzhou", "330100"),
        ("苏州市", "320500"),
        ("330100", "330100"),
        ("浙江省杭州市西湖区", "330100"),
        ("深圳", "440300"),
        ("shenzhen", "440300"),
        ("吉林", "220000"),
        ("吉林市", "220200"),
        ("延边", "222400"),
        ("内蒙古自治区", "150000"),
        ("香港", "810000"),
    ],
)
def test_cities_give_their_prefecture_code(raw: str, code: str) -> None:
    assert normalise_region(raw) == code


@pytest.mark.parametrize("raw", ["火星", "", "suzhou", "taizhou", "999999", "shxyz"])
def test_unknown_or_ambiguous_regions_are_not_guessed(raw: str) -> None:
    assert normalise_region(raw) == ""


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("🌸張偉🌸", "张伟"),
        ("A-张伟-销售部", "张伟"),
        ("张伟（华东区）", "张伟"),
        ("AAA张伟", "张伟"),
        ("张 伟", "张伟"),
        ("❤️王芳❤️", "王芳"),
        ("张伟👍🏻", "张伟"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("Zhang  Wei", "zhang wei"),
    ],
)
def test_decorated_names_give_the_name(raw: str, text: str) -> None:
    name = normalise_name(raw)
    assert (name.text, name.kind) == (text, "full")


@pytest.mark.parametrize(
    ("raw", "surname"),
    [("周先生", "周"), ("王女士", "王"), ("张总", "张"), ("老李", "李"), ("欧阳先生", "欧阳"), ("李某", "李")],
)
def test_placeholders_are_a_surname_not_a_name(raw: str, surname: str) -> None:
    name = normalise_name(raw)
    assert (name.kind, name.surname) == ("placeholder", surname)
    assert not name.identifies


@pytest.mark.parametrize("raw", ["阳光男孩", "Lily", "🌸🌸", "燕燕", "小成", "阿强"])
def test_nicknames_do_not_identify(raw: str) -> None:
    assert not normalise_name(raw).identifies


@pytest.mark.parametrize(
    "raw",
    ["上海市第六人民医院", "上海第六人民医院", "上海第六人民醫院", "第六人民医院（上海）", "第六人民医院(上海市)"],
)
def test_one_hospital_written_many_ways_has_one_key(raw: str) -> None:
    assert normalise_company(raw).key == "310000|第六人民医院|"


@pytest.mark.parametrize(
    "raw",
    [
        "上海华为技术有限公司",
        "华为技术（上海）有限公司",
        "华为技术(上海)有限公司",
        "華為技術（上海）有限公司",
        "上海市华为技术股份有限公司",
    ],
)
def test_legal_forms_and_region_placement_do_not_matter(raw: str) -> None:
    assert normalise_company(raw).key == "310000|华为技术|"


def test_a_qualifier_naming_another_region_is_another_entity() -> None:
    keys = {
        normalise_company(raw).key for raw in ("华为技术(上海)有限公司", "华为技术(北京)有限公司", "华为技术有限公司")
    }
    assert len(keys) == 3
    assert normalise_company("北京第六人民医院").key != normalise_company("上海第六人民医院").key


def test_a_region_in_brackets_is_told_from_a_leading_one() -> None:
    assert normalise_company("华为技术（上海）有限公司").bracketed
    assert normalise_company("华为技术 (上海市) 有限公司杭州分公司").bracketed
    assert not normalise_company("上海华为技术有限公司").bracketed
    assert not normalise_company("华为技术(集团)有限公司").bracketed  # noise, not a region


@pytest.mark.parametrize(
    ("raw", "branch"),
    [
        ("腾讯计算机系统有限公司杭州分公司", "330100分公司"),
        ("腾讯计算机系统有限公司杭州市分公司", "330100分公司"),
        ("腾讯计算机系统有限公司（杭州分公司）", "330100分公司"),
        ("中国银行上海分行", "310000分行"),
    ],
)
def test_branches_are_kept_apart_from_the_head_office(raw: str, branch: str) -> None:
    company = normalise_company(raw)
    assert company.branch == branch
    head = normalise_company("腾讯计算机系统有限公司" if "腾讯" in raw else "中国银行")
    assert company.core == head.core
    assert company.key != head.key


@pytest.mark.parametrize(
    ("raw", "core"),
    [
        ("中山大学", "中山大学"),
        ("阿里巴巴（中国）网络技术有限公司", "阿里巴巴网络技术"),
        ("Huawei Technologies Co., Ltd.", "huawei technologies"),
        ("上海医药（集团）有限公司", "上海医药"),
    ],
)
def test_trade_names_that_look_like_places_are_kept(raw: str, core: str) -> None:
    assert normalise_company(raw).core == core


def test_latin_names_keep_a_leading_region_as_region() -> None:
    company = normalise_company("Shanghai Yiyao Co., Ltd.")
    assert (company.region_code, company.core, company.legal_form) == ("310000", "yiyao", "co ltd")


def _valid_code(base: str = "91310000MA1FL8XQ3") -> str:
    return base + uscc.calc_check_digit(base)


def test_credit_code_check_character() -> None:
    code = _valid_code()
    assert normalise_credit_code(code.lower()) == code
    assert normalise_credit_code(f" {code[:6]} {code[6:]} ") == code
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert normalise_credit_code(wrong) == ""
    assert normalise_credit_code("") == ""
    assert credit_code_region(code) == "310000"


@pytest.mark.parametrize(
    ("raw", "section"),
    [
        ("制造业", "C"),
        ("c", "C"),
        ("Healthcare", "Q"),
        ("三甲医院", "Q"),
        ("互联网/软件", "I"),
        ("卫生和社会工作", "Q"),
        ("金融业", "J"),
        ("Real Estate", "K"),
        ("Restaurant chain", "H"),
        ("教育培训", "P"),
        ("物流", "G"),
        ("xyz", ""),
        ("", ""),
    ],
)
def test_industries_map_to_gbt4754_sections(raw: str, section: str) -> None:
    assert normalise_industry(raw) == section


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"name": "测试"}, "测试"),
        ({"company": "Demo Corp"}, "demo"),
        ({"name": "ｔｅｓｔ"}, "test"),
        ({"company": "测试公司2"}, "测试"),
        ({"email": "test@example.com"}, "example.com"),
        ({"name": "xxx"}, "xxx"),
        ({"phone": "13800000000"}, "13800000000"),
        ({"name": "ceshi"}, "ceshi"),
        ({"name": "Ceshi01"}, "ceshi"),
        ({"name": "tset"}, "tset"),
        ({"name": "不要删"}, "不要删"),
        ({"name": "勿删-王伟"}, "勿删"),
        ({"name": "测试一下"}, "测试"),
        ({"name": "asdf"}, "asdf"),
        ({"name": "asdfasdf"}, "keyboard mash"),
        ({"name": "zxcv123"}, "keyboard mash"),
        ({"name": "张三"}, "张三"),
        ({"name": "李四", "phone": "1"}, "李四"),
        ({"name": "王五", "phone": "1"}, "too few digits"),
        ({"name": "A-王五"}, "王五"),
        ({"company": "asdf有限公司"}, "asdf"),
        ({"company": "某某公司"}, "某某"),
        ({"company": "Qwerty Co., Ltd."}, "qwerty"),
    ],
)
def test_junk_is_flagged_with_the_reason(fields: dict[str, str], needle: str) -> None:
    reasons = junk_reasons(**fields)
    assert reasons
    assert any(needle in reason for reason in reasons)


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "张伟", "phone": "13812345678"},
        {"company": "Latest Tech"},
        {"company": "上海第六人民医院"},
        {},
        {"name": "张三丰", "phone": "13708879284"},
        {"name": "王五金"},
        {"name": "李四光"},
        {"name": "Yui"},
        {"name": "Tessa"},
        {"name": "Poi"},
        {"name": "王伟", "phone": "13708879284（微信同号）"},
        {"company": "王五金店"},
        {"company": "上海华为技术有限公司"},
        {"company": "Contest Media"},
        {"phone": "021-64370045"},
    ],
)
def test_real_records_are_not_junk(fields: dict[str, str]) -> None:
    assert junk_reasons(**fields) == ()


@pytest.mark.parametrize(
    ("english", "han"),
    [
        ("Yuanlian Trading", "元联贸易"),
        ("Shengzhuo Education Technology", "盛卓教育科技"),
        ("Fenghong Construction Engineering", "凤宏建筑工程"),
        ("Shanghai Diliu Renmin Yiyuan", "上海第六人民医院"),
    ],
)
def test_english_and_pinyin_renderings_sound_like_the_han_name(english: str, han: str) -> None:
    assert company_pinyin(english.lower()) == company_pinyin(han)


def test_company_sound_keys_homophones_and_english_ordinals_translate() -> None:
    from customer_master.domain.companies import company_pinyin, company_sound

    assert company_sound("青锋网络科技") == company_sound("青峰网络科技") == "qingfengwangluokeji"
    assert company_sound("abc科技") == "abckeji"
    assert company_pinyin("no 25 middle school") == company_sound("第二十五中学") == "diershiwuzhongxue"
    assert company_pinyin("no 10 people s hospital") == company_sound("第十人民医院")
    assert company_pinyin("xingtong biopharma") == company_sound("兴通生物医药")
