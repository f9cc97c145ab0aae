"""GB/T 4754-2017 industry sections (门类 A–T) and the hints that point to one.

A lead's ``industry`` may arrive as a section letter, the section's name or a common
alias (``制造业``, ``信息技术``, ``healthcare``); :func:`normalise_industry` folds all of
these to the letter. The keyword and domain tables feed imputation, each with a
confidence: a hospital's name says ``Q`` far more surely than ``科技`` says ``I``.
"""

from __future__ import annotations

import unicodedata

SECTIONS: dict[str, str] = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}

_ALIASES: dict[str, str] = {
    "农业": "A", "agriculture": "A", "采矿": "B", "mining": "B", "制造": "C", "manufacturing": "C",
    "能源": "D", "电力": "D", "energy": "D", "utilities": "D", "建筑": "E", "construction": "E",
    "批发": "F", "零售": "F", "电商": "F", "retail": "F", "wholesale": "F", "ecommerce": "F",
    "物流": "G", "交通运输": "G", "logistics": "G", "transport": "G", "餐饮": "H", "酒店": "H",
    "hospitality": "H", "信息技术": "I", "软件": "I", "互联网": "I", "it": "I", "software": "I",
    "internet": "I", "informationtechnology": "I", "金融": "J", "银行": "J", "保险": "J", "finance": "J",
    "房地产": "K", "realestate": "K", "商务服务": "L", "businessservices": "L", "科研": "M",
    "research": "M", "环保": "N", "居民服务": "O", "教育培训": "P", "education": "P", "卫生": "Q",
    "医疗": "Q", "医疗卫生": "Q", "healthcare": "Q", "health": "Q", "文化": "R", "娱乐": "R",
    "media": "R", "公共管理": "S", "government": "S",
}  # fmt: skip

# company-name keyword → (section, confidence); longer keywords are tried first.
COMPANY_KEYWORDS: dict[str, tuple[str, float]] = {
    "人民医院": ("Q", 0.95), "医院": ("Q", 0.9), "诊所": ("Q", 0.85), "卫生院": ("Q", 0.9),
    "大学": ("P", 0.9), "学院": ("P", 0.85), "中学": ("P", 0.9), "小学": ("P", 0.9), "学校": ("P", 0.9),
    "教育": ("P", 0.8), "培训": ("P", 0.75), "银行": ("J", 0.95), "保险": ("J", 0.9), "证券": ("J", 0.9),
    "基金": ("J", 0.8), "置业": ("K", 0.85), "房地产": ("K", 0.9), "地产": ("K", 0.8),
    "制造": ("C", 0.85), "机械": ("C", 0.8), "装备": ("C", 0.8), "电子": ("C", 0.75), "化工": ("C", 0.8),
    "制药": ("C", 0.85), "食品": ("C", 0.75), "汽车配件": ("C", 0.85), "工业": ("C", 0.75),
    "软件": ("I", 0.85), "信息技术": ("I", 0.85), "网络科技": ("I", 0.8), "云计算": ("I", 0.85),
    "数据": ("I", 0.7), "科技": ("I", 0.6), "建设": ("E", 0.8), "建筑": ("E", 0.85), "工程": ("E", 0.65),
    "物流": ("G", 0.85), "运输": ("G", 0.85), "快递": ("G", 0.9), "酒店": ("H", 0.9), "餐饮": ("H", 0.9),
    "贸易": ("F", 0.8), "商贸": ("F", 0.8), "超市": ("F", 0.85), "电子商务": ("F", 0.8), "百货": ("F", 0.85),
    "咨询": ("L", 0.75), "广告": ("L", 0.8), "律师事务所": ("L", 0.9), "会计师事务所": ("L", 0.9),
    "研究院": ("M", 0.85), "研究所": ("M", 0.85), "设计院": ("M", 0.8), "检测": ("M", 0.75),
    "电力": ("D", 0.85), "燃气": ("D", 0.9), "水务": ("D", 0.85), "能源": ("D", 0.7),
    "矿业": ("B", 0.9), "煤业": ("B", 0.9), "农业": ("A", 0.85), "养殖": ("A", 0.85), "牧业": ("A", 0.85),
    "传媒": ("R", 0.8), "影视": ("R", 0.85), "文化": ("R", 0.6), "政府": ("S", 0.9), "委员会": ("S", 0.75),
}  # fmt: skip

# e-mail domain → section, for domains that say it outright (the seeds' siemens.com → 制造业).
KNOWN_DOMAINS: dict[str, str] = {
    "siemens.com": "C", "bosch.com": "C", "haier.com": "C", "midea.com": "C", "gree.com.cn": "C",
    "sany.com.cn": "C", "byd.com": "C", "catl.com": "C", "abb.com": "C", "schneider-electric.com": "C",
    "huawei.com": "C", "lenovo.com": "C", "xiaomi.com": "C", "foxconn.com": "C",
    "alibaba-inc.com": "I", "tencent.com": "I", "baidu.com": "I", "bytedance.com": "I", "kingsoft.com": "I",
    "icbc.com.cn": "J", "ccb.com": "J", "boc.cn": "J", "cmbchina.com": "J", "pingan.com.cn": "J",
    "vanke.com": "K", "sf-express.com": "G", "jd.com": "F", "suning.com": "F",
}  # fmt: skip

# Free mail says nothing about the employer.
FREE_MAIL: frozenset[str] = frozenset(
    {"qq.com", "163.com", "126.com", "sina.com", "sohu.com", "gmail.com", "outlook.com", "hotmail.com",
     "foxmail.com", "yeah.net", "139.com", "aliyun.com", "icloud.com", "yahoo.com"}
)  # fmt: skip

# domain suffix → (section, confidence)
DOMAIN_SUFFIXES: dict[str, tuple[str, float]] = {
    ".edu.cn": ("P", 0.9),
    ".edu": ("P", 0.85),
    ".gov.cn": ("S", 0.9),
    ".ac.cn": ("M", 0.85),
}


def _fold(raw: str) -> str:
    """NFKC, lower case, no spaces, dashes, underscores or the 业/行业 endings."""
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    return "".join(ch for ch in text if ch not in " -_&")


_INDEX: dict[str, str] = {}
for _letter, _name in SECTIONS.items():
    _INDEX[_letter.lower()] = _letter
    _INDEX[_fold(_name)] = _letter
for _alias, _letter in _ALIASES.items():
    _INDEX[_fold(_alias)] = _letter
    _INDEX[_fold(_alias) + "业"] = _letter
    _INDEX[_fold(_alias) + "行业"] = _letter


def normalise_industry(raw: str) -> str:
    """A section letter, section name or alias → the GB/T 4754 letter; ``""`` if unknown."""
    return _INDEX.get(_fold(raw), "")


def industry_from_company(company: str) -> tuple[str, float, str]:
    """(section, confidence, keyword) from a company name's strongest keyword; ``("", 0, "")`` if none."""
    text = unicodedata.normalize("NFKC", company)
    best: tuple[str, float, str] = ("", 0.0, "")
    for keyword, (section, confidence) in COMPANY_KEYWORDS.items():
        if keyword in text and (confidence, len(keyword)) > (best[1], len(best[2])):
            best = (section, confidence, keyword)
    return best


def industry_from_domain(domain: str) -> tuple[str, float, str]:
    """(section, confidence, why) from an e-mail domain; free mail and unknown domains give nothing."""
    domain = domain.strip().lower().removeprefix("@")
    if not domain or domain in FREE_MAIL:
        return ("", 0.0, "free mail" if domain else "")
    for known, section in KNOWN_DOMAINS.items():
        if domain == known or domain.endswith("." + known):
            return (section, 0.9, f"known domain {known}")
    for suffix, (section, confidence) in DOMAIN_SUFFIXES.items():
        if domain.endswith(suffix):
            return (section, confidence, f"domain suffix {suffix}")
    return ("", 0.0, "")
