"""Regions → GB/T 2260 codes: provinces and every prefecture-level city.

'shanghai', 'Shanghai', '沪', 'SH', '上海市', '310000' → ``310000``; '杭州', '苏州市',
'hangzhou', '330100' → the city's code. Text that *starts* with a place ('上海市第六人民医院',
'浙江省杭州市西湖区') gives the most specific code found at its start. Unknown text gives
"" — a region is never guessed.

Why a compact table rather than cpca: cpca resolves addresses down to the county, but it
pulls pandas and numpy (~130 MB installed), takes ~1 s and ~80 MB on its first call, and
identity only needs the province and city. Its division table (MIT) was used once to
generate :mod:`.regions_table`.
"""

from __future__ import annotations

import functools
import unicodedata

from customer_master.domain.regions_table import CITIES

# GB/T 2260 province-level codes with the spellings upstream systems actually send
# (seed 002 §故障排查: 'shanghai' vs '上海').
PROVINCES: dict[str, tuple[str, ...]] = {
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
    "710000": ("台湾", "台湾省", "taiwan"),
    "810000": ("香港", "香港特别行政区", "hongkong", "hong kong", "hk"),
    "820000": ("澳门", "澳门特别行政区", "macau", "macao"),
}

# Exact spellings (lower case) → code. Cities are added after provinces and never
# overwrite one: '吉林' is the province, '吉林市' the city.
INDEX: dict[str, str] = {alias.lower(): code for code, aliases in PROVINCES.items() for alias in aliases}
for _code, _full, _short, _pinyin in CITIES:
    for _alias in (_full, _short, _pinyin):
        if _alias:
            INDEX.setdefault(_alias, _code)
CODES: frozenset[str] = frozenset(PROVINCES) | frozenset(code for code, *_ in CITIES)
NAMES: dict[str, str] = {code: aliases[0] for code, aliases in PROVINCES.items()} | {
    code: full for code, full, *_ in CITIES
}

# Han spellings that may open a longer text, longest first ('黑龙江省' before '黑龙江').
# One-character abbreviations ('沪', '苏') only count when they are the whole text.
_PREFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        ((alias, code) for alias, code in INDEX.items() if len(alias) >= 2 and not alias.isascii()),
        key=lambda item: -len(item[0]),
    )
)

# Pinyin that may open a longer text ('shanghai pudong'); short ones ('sh') only whole.
_ASCII_PREFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        ((alias.replace(" ", ""), code) for alias, code in INDEX.items() if len(alias) >= 4 and alias.isascii()),
        key=lambda item: -len(item[0]),
    )
)


# The same, by first character (each list keeps the order above): a prefix must open with it.
_PREFIXES_BY_FIRST: dict[str, tuple[tuple[str, str], ...]] = {
    first: tuple(item for item in _PREFIXES if item[0][0] == first) for first in {alias[0] for alias, _ in _PREFIXES}
}


def _clean(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip().lower()


def region_prefix(text: str) -> tuple[str, str]:
    """The place that opens ``text``: (code, the spelling matched), or ("", "").

    '浙江省杭州市西湖区' → ('330100', '浙江省杭州市'): a city right after its own province
    refines it; a city of another province does not.
    """
    for alias, code in _PREFIXES_BY_FIRST.get(text[:1], ()):
        if text.startswith(alias):
            if code in PROVINCES:
                rest = text[len(alias) :]
                for city_alias, city_code in _PREFIXES_BY_FIRST.get(rest[:1], ()):
                    if city_code[:2] == code[:2] and city_code not in PROVINCES and rest.startswith(city_alias):
                        return city_code, alias + city_alias
            return code, alias
    return "", ""


@functools.lru_cache(maxsize=4096)
def normalise_region(raw: str) -> str:
    """A province or city name, abbreviation, pinyin or code → its GB/T 2260 code; "" if unknown."""
    text = _clean(raw)
    if not text:
        return ""
    if text.isdigit() and len(text) == 6:
        if text in CODES:
            return text
        province = text[:2] + "0000"
        return text if province in PROVINCES else ""
    compact = text.replace(" ", "")
    for candidate in (text, compact):
        if candidate in INDEX:
            return INDEX[candidate]
    for alias, code in _ASCII_PREFIXES:
        if compact.startswith(alias):
            return code
    return region_prefix(text)[0]


def region_compatible(a: str, b: str) -> bool:
    """Whether two codes can name the same place: equal, or one is the province of the other."""
    if not a or not b:
        return True
    if a == b:
        return True
    return (a.endswith("0000") and a[:2] == b[:2]) or (b.endswith("0000") and a[:2] == b[:2])


def region_name(code: str) -> str:
    """The Chinese name of a known code ('330100' → '杭州市'), else ""."""
    return NAMES.get(code, "")
