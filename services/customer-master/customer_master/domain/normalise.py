"""Normalise the fields identity depends on: phones, e-mails, regions."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

# GB/T 2260 province-level codes with the spellings upstream systems actually send
# (seed 002 §故障排查: 'shanghai' vs '上海'). customer-master's identity issue deepens this.
_PROVINCES: dict[str, tuple[str, ...]] = {
    "110000": ("北京", "北京市", "京", "beijing", "bj"),
    "120000": ("天津", "天津市", "津", "tianjin", "tj"),
    "130000": ("河北", "河北省", "冀", "hebei"),
    "140000": ("山西", "山西省", "晋", "shanxi"),
    "150000": ("内蒙古", "内蒙古自治区", "蒙", "neimenggu", "inner mongolia"),
    "210000": ("辽宁", "辽宁省", "辽", "liaoning"),
    "220000": ("吉林", "吉林省", "吉", "jilin"),
    "230000": ("黑龙江", "黑龙江省", "黑", "heilongjiang"),
    "310000": ("上海", "上海市", "沪", "shanghai", "sh"),
    "320000": ("江苏", "江苏省", "苏", "jiangsu", "js"),
    "330000": ("浙江", "浙江省", "浙", "zhejiang", "zj"),
    "340000": ("安徽", "安徽省", "皖", "anhui"),
    "350000": ("福建", "福建省", "闽", "fujian"),
    "360000": ("江西", "江西省", "赣", "jiangxi"),
    "370000": ("山东", "山东省", "鲁", "shandong"),
    "410000": ("河南", "河南省", "豫", "henan"),
    "420000": ("湖北", "湖北省", "鄂", "hubei"),
    "430000": ("湖南", "湖南省", "湘", "hunan"),
    "440000": ("广东", "广东省", "粤", "guangdong", "gd"),
    "450000": ("广西", "广西壮族自治区", "桂", "guangxi"),
    "460000": ("海南", "海南省", "琼", "hainan"),
    "500000": ("重庆", "重庆市", "渝", "chongqing", "cq"),
    "510000": ("四川", "四川省", "川", "sichuan", "sc"),
    "520000": ("贵州", "贵州省", "黔", "guizhou"),
    "530000": ("云南", "云南省", "滇", "yunnan"),
    "540000": ("西藏", "西藏自治区", "藏", "xizang", "tibet"),
    "610000": ("陕西", "陕西省", "陕", "shaanxi"),
    "620000": ("甘肃", "甘肃省", "甘", "gansu"),
    "630000": ("青海", "青海省", "青", "qinghai"),
    "640000": ("宁夏", "宁夏回族自治区", "宁", "ningxia"),
    "650000": ("新疆", "新疆维吾尔自治区", "新", "xinjiang"),
}
_REGION_INDEX = {alias.lower(): code for code, aliases in _PROVINCES.items() for alias in aliases}


@dataclass(frozen=True)
class Phone:
    """A parsed phone number; only a mobile identifies a person on its own."""

    e164: str
    is_mobile: bool


def nfkc(text: str) -> str:
    """Unicode NFKC (full-width digits and letters to half-width), stripped."""
    return unicodedata.normalize("NFKC", text).strip()


@functools.lru_cache(maxsize=1 << 16)
def normalise_phone(raw: str) -> Phone | None:
    """'０１３９ 8765 4321', '+86 138-1234-5678', '008613812345678' → E.164; None if not a number.

    Cached: parsing is the costliest step of resolving a touchpoint and customers come back.
    """
    text = nfkc(raw)
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits.startswith("0") and len(digits) == 12 and digits[1] == "1":
            return normalise_phone(digits[1:])
        return None
    kind = phonenumbers.number_type(number)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, is_mobile=kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE))


def normalise_email(raw: str) -> str:
    """Lower-case, trimmed e-mail; empty when it has no @."""
    text = nfkc(raw).lower()
    return text if "@" in text.strip("@") else ""


def normalise_region(raw: str) -> str:
    """A province name, abbreviation, pinyin or code → its GB/T 2260 code; empty if unknown."""
    text = nfkc(raw).lower()
    if not text:
        return ""
    if text.isdigit() and len(text) == 6:
        province = text[:2] + "0000"
        return text if province in _PROVINCES else ""
    if text in _REGION_INDEX:
        return _REGION_INDEX[text]
    for alias, code in sorted(_REGION_INDEX.items(), key=lambda item: -len(item[0])):
        if len(alias) >= 2 and text.startswith(alias):
            return code
    return ""


def email_domain(email: str) -> str:
    """The domain of a normalised e-mail, or empty."""
    return email.rsplit("@", 1)[1] if "@" in email else ""
