"""GB/T 2260 administrative-division codes: every province and the larger prefecture cities.

Codes are six digits: two for the province, two for the prefecture, two for the county.
A routing rule names a *prefix* (``31`` = Shanghai, ``3205`` = Suzhou), and a lead's code
matches when it starts with that prefix. The table is deliberately small (all 34
provinces, ~130 prefecture cities): an unknown region is reported, never guessed.
"""

from __future__ import annotations

import unicodedata

# code prefix: (name, pinyin, abbreviations)
PROVINCES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "11": ("北京", "beijing", ("京",)),
    "12": ("天津", "tianjin", ("津",)),
    "13": ("河北", "hebei", ("冀",)),
    "14": ("山西", "shanxi", ("晋",)),
    "15": ("内蒙古", "neimenggu", ("蒙", "innermongolia")),
    "21": ("辽宁", "liaoning", ("辽",)),
    "22": ("吉林", "jilin", ("吉",)),
    "23": ("黑龙江", "heilongjiang", ("黑",)),
    "31": ("上海", "shanghai", ("沪", "sh")),
    "32": ("江苏", "jiangsu", ("苏",)),
    "33": ("浙江", "zhejiang", ("浙",)),
    "34": ("安徽", "anhui", ("皖",)),
    "35": ("福建", "fujian", ("闽",)),
    "36": ("江西", "jiangxi", ("赣",)),
    "37": ("山东", "shandong", ("鲁",)),
    "41": ("河南", "henan", ("豫",)),
    "42": ("湖北", "hubei", ("鄂",)),
    "43": ("湖南", "hunan", ("湘",)),
    "44": ("广东", "guangdong", ("粤", "gd")),
    "45": ("广西", "guangxi", ("桂",)),
    "46": ("海南", "hainan", ("琼",)),
    "50": ("重庆", "chongqing", ("渝",)),
    "51": ("四川", "sichuan", ("川", "蜀")),
    "52": ("贵州", "guizhou", ("黔",)),
    "53": ("云南", "yunnan", ("滇",)),
    "54": ("西藏", "xizang", ("藏", "tibet")),
    "61": ("陕西", "shaanxi", ("陕",)),
    "62": ("甘肃", "gansu", ("甘", "陇")),
    "63": ("青海", "qinghai", ("青",)),
    "64": ("宁夏", "ningxia", ("宁",)),
    "65": ("新疆", "xinjiang", ("新",)),
    "71": ("台湾", "taiwan", ("台",)),
    "81": ("香港", "hongkong", ("港", "hk")),
    "82": ("澳门", "macau", ("澳", "macao")),
}

# prefecture prefix: name (pinyin only where it is unambiguous, see _CITY_PINYIN)
CITIES: dict[str, str] = {
    "1301": "石家庄", "1302": "唐山", "1303": "秦皇岛", "1304": "邯郸", "1306": "保定", "1310": "廊坊",
    "1401": "太原", "1402": "大同",
    "1501": "呼和浩特", "1502": "包头", "1506": "鄂尔多斯",
    "2101": "沈阳", "2102": "大连", "2103": "鞍山",
    "2201": "长春", "2202": "吉林市",
    "2301": "哈尔滨", "2306": "大庆",
    "3201": "南京", "3202": "无锡", "3203": "徐州", "3204": "常州", "3205": "苏州", "3206": "南通",
    "3207": "连云港", "3208": "淮安", "3209": "盐城", "3210": "扬州", "3211": "镇江", "3212": "泰州",
    "3213": "宿迁",
    "3301": "杭州", "3302": "宁波", "3303": "温州", "3304": "嘉兴", "3305": "湖州", "3306": "绍兴",
    "3307": "金华", "3308": "衢州", "3309": "舟山", "3310": "台州", "3311": "丽水",
    "3401": "合肥", "3402": "芜湖", "3403": "蚌埠", "3404": "淮南", "3405": "马鞍山", "3406": "淮北",
    "3407": "铜陵", "3408": "安庆", "3410": "黄山", "3411": "滁州", "3412": "阜阳", "3413": "宿州",
    "3415": "六安", "3416": "亳州", "3417": "池州", "3418": "宣城",
    "3501": "福州", "3502": "厦门", "3503": "莆田", "3504": "三明", "3505": "泉州", "3506": "漳州",
    "3507": "南平", "3508": "龙岩", "3509": "宁德",
    "3601": "南昌", "3602": "景德镇", "3603": "萍乡", "3604": "九江", "3605": "新余", "3606": "鹰潭",
    "3607": "赣州", "3608": "吉安", "3609": "宜春", "3610": "抚州", "3611": "上饶",
    "3701": "济南", "3702": "青岛", "3703": "淄博", "3704": "枣庄", "3705": "东营", "3706": "烟台",
    "3707": "潍坊", "3708": "济宁", "3709": "泰安", "3710": "威海", "3711": "日照", "3713": "临沂",
    "3714": "德州", "3715": "聊城", "3716": "滨州", "3717": "菏泽",
    "4101": "郑州", "4103": "洛阳",
    "4201": "武汉", "4205": "宜昌", "4206": "襄阳",
    "4301": "长沙", "4302": "株洲",
    "4401": "广州", "4402": "韶关", "4403": "深圳", "4404": "珠海", "4405": "汕头", "4406": "佛山",
    "4407": "江门", "4408": "湛江", "4409": "茂名", "4412": "肇庆", "4413": "惠州", "4414": "梅州",
    "4415": "汕尾", "4416": "河源", "4417": "阳江", "4418": "清远", "4419": "东莞", "4420": "中山",
    "4451": "潮州", "4452": "揭阳", "4453": "云浮",
    "4501": "南宁", "4502": "柳州", "4503": "桂林",
    "4601": "海口", "4602": "三亚",
    "5101": "成都", "5107": "绵阳",
    "5201": "贵阳", "5203": "遵义",
    "5301": "昆明", "5306": "昭通",
    "5401": "拉萨",
    "6101": "西安",
    "6201": "兰州",
    "6301": "西宁",
    "6401": "银川",
    "6501": "乌鲁木齐",
}  # fmt: skip

_CITY_PINYIN: dict[str, str] = {
    "nanjing": "3201", "wuxi": "3202", "suzhou": "3205", "changzhou": "3204", "nantong": "3206",
    "hangzhou": "3301", "ningbo": "3302", "wenzhou": "3303", "jiaxing": "3304", "shaoxing": "3306",
    "hefei": "3401", "fuzhou": "3501", "xiamen": "3502", "quanzhou": "3505", "nanchang": "3601",
    "jinan": "3701", "qingdao": "3702", "yantai": "3706", "zhengzhou": "4101", "wuhan": "4201",
    "changsha": "4301", "guangzhou": "4401", "shenzhen": "4403", "zhuhai": "4404", "foshan": "4406",
    "dongguan": "4419", "zhongshan": "4420", "nanning": "4501", "haikou": "4601", "chengdu": "5101",
    "guiyang": "5201", "kunming": "5301", "xian": "6101", "shenyang": "2101", "dalian": "2102",
    "changchun": "2201", "harbin": "2301", "shijiazhuang": "1301", "taiyuan": "1401", "lanzhou": "6201",
}  # fmt: skip

_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def _fold(raw: str) -> str:
    """NFKC, lower case, no spaces, dots, dashes or underscores."""
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    return "".join(ch for ch in text if ch not in " .-_'")


def _build_index() -> dict[str, str]:
    """Every spelling we accept → its six-digit code."""
    index: dict[str, str] = {}
    for prefix, (name, pinyin, abbreviations) in PROVINCES.items():
        code = prefix + "0000"
        for spelling in (name, pinyin, *abbreviations):
            index[_fold(spelling)] = code
        for suffix in _SUFFIXES:
            index[_fold(name + suffix)] = code
        index[pinyin + "shi"] = code
        index[pinyin + "sheng"] = code
    for prefix, name in CITIES.items():
        code = prefix + "00"
        index[_fold(name)] = code
        index[_fold(name.removesuffix("市") + "市")] = code
    for pinyin, prefix in _CITY_PINYIN.items():
        index[pinyin] = prefix + "00"
        index[pinyin + "shi"] = prefix + "00"
    return index


_INDEX = _build_index()
_NAMES = sorted(((name, code) for name, code in _INDEX.items() if len(name) >= 2), key=lambda item: -len(item[0]))


def code_prefix(code: str) -> str:
    """The significant prefix of a code: ``310000`` → ``31``, ``320500`` → ``3205``."""
    if len(code) == 6 and code.isdigit():
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def is_known_prefix(prefix: str) -> bool:
    """True for a province (2 digits), a city in the table (4) or a county under one (6)."""
    if not prefix.isdigit() or len(prefix) not in (2, 4, 6):
        return False
    if prefix[:2] not in PROVINCES:
        return False
    if len(prefix) == 2:
        return True
    city = prefix[:4]
    return city[2:] == "00" or city in CITIES or prefix[:2] in ("11", "12", "31", "50")


def normalise_region(raw: str) -> str:
    """A region written as a code, name, pinyin or abbreviation → its six-digit code; ``""`` if unknown."""
    text = _fold(raw)
    if not text:
        return ""
    if text.isdigit():
        if len(text) in (2, 4):
            text = text.ljust(6, "0")
        return text if len(text) == 6 and is_known_prefix(code_prefix(text)) else ""
    return _INDEX.get(text, "")


def region_in_text(text: str) -> tuple[str, str]:
    """The most specific region named inside free text (an address, a geocoder place).

    Returns ``(code, matched_name)``; a city wins over its province. ``("", "")`` if none.
    """
    folded = _fold(text)
    best = ("", "")
    for name, code in _NAMES:
        if name.isascii() or name not in folded:
            continue
        if not best[0] or (best[0].endswith("0000") and not code.endswith("0000") and code[:2] == best[0][:2]):
            best = (code, name)
    return best


def region_name(code: str) -> str:
    """A human name for a code or prefix (``3205`` → ``江苏苏州``)."""
    prefix = code_prefix(code)
    province = PROVINCES.get(prefix[:2], ("?", "", ()))[0]
    if len(prefix) >= 4 and prefix[:4] in CITIES:
        return province + CITIES[prefix[:4]]
    return province
