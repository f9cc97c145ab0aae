"""Company names → a comparable core and a key that keeps separate legal entities apart.

Chinese enterprise names follow 行政区划 + 字号 + 行业 + 组织形式, where the region may
open the name ('上海某某科技有限公司') or stand in brackets after the trade name
('某某科技（上海）有限公司'); both are the same registration. So:

* NFKC, emoji dropped, traditional → simplified, every bracket shape → '(' ')';
* the legal form (有限公司, 有限责任公司, 股份有限公司, Co., Ltd. …) is dropped and reported;
* a leading province/city ('上海市', '上海', '沪') or a bracketed region qualifier
  ('(上海)') becomes ``region_code``; '上海市第六人民医院' and '上海第六人民医院' agree;
* a branch ('杭州分公司', '(浦东分院)', '徐汇支行') becomes ``branch``: a branch is its own
  account, so the ``key`` keeps it;
* a Latin-only name ('Shanghai Sixth People's Hospital') keeps its letters; it can be tied to
  a Han name through :func:`company_pinyin` by the matcher, never by the key.

``key`` = region code, core and branch: equal keys are the same legal entity. Names whose
regions are both known and differ are different entities ('北京第六人民医院' vs
'上海第六人民医院'; '某某(上海)有限公司' vs '某某(北京)有限公司').
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from customer_master.domain.regions import INDEX, NAMES, PROVINCES, region_name, region_prefix
from customer_master.domain.text import is_han, simplify

# Longest first: '股份有限公司' before '有限公司'.
LEGAL_FORMS: tuple[str, ...] = tuple(
    sorted(
        (
            "股份有限公司",
            "有限责任公司",
            "有限公司",
            "股份公司",
            "集团公司",
            "总公司",
            "公司",
            "(有限合伙)",
            "有限合伙",
            "(普通合伙)",
            "普通合伙",
            "合伙企业",
            "个体工商户",
            "工作室",
            "co.,ltd.",
            "co., ltd.",
            "co.,ltd",
            "co., ltd",
            "co. ltd.",
            "co ltd",
            "company limited",
            "limited",
            "ltd.",
            "ltd",
            "inc.",
            "inc",
            "corporation",
            "corp.",
            "corp",
            "llc",
            "gmbh",
            "co.",
        ),
        key=len,
        reverse=True,
    )
)
_BRANCH_WORDS = (
    "分公司",
    "分院",
    "分行",
    "支行",
    "分厂",
    "分部",
    "分店",
    "分校",
    "办事处",
    "营业部",
    "分中心",
    "门店",
    "branch",
    "分所",
)
# Words that end an organisation's own name, so what follows them names a branch.
_HEAD_ENDS = ("银行", "公司", "医院", "集团", "保险", "证券", "酒店", "中心", "大学", "学院", "超市", "药房", "事务所")
# City short names that more often open a trade name than name a place ('阿里巴巴', '中山大学').
AMBIGUOUS_LEADS = frozenset(
    {
        "阿里",
        "中山",
        "大理",
        "吉安",
        "安康",
        "来宾",
        "白银",
        "金昌",
        "普洱",
        "长治",
        "新余",
        "三沙",
        "海东",
        "白山",
        "黄山",
        "红河",
        "玉树",
        "永州",
        "宜春",
        "通化",
    }
)
_BRACKET_RE = re.compile(r"\(([^()]*)\)")
_NOISE = re.compile(r"[\s·.,、'\"&\-_/]+")


def _latin_edge(a: str, b: str) -> bool:
    """Whether joining ``a`` and ``b`` would glue two Latin words together."""
    return bool(a and b) and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum()


def _join(*parts: str) -> str:
    """Concatenate parts, with one space only where two Latin words would otherwise touch."""
    out = ""
    for part in filter(None, parts):
        out += (" " if _latin_edge(out, part) else "") + part
    return out


def _squeeze(text: str) -> str:
    """Drop spaces and punctuation, except one space between Latin words ('co ltd', not 'coltd').

    NFKC again after the drop: marks the punctuation kept apart now meet and take canonical order.
    """
    return unicodedata.normalize("NFKC", _join(*_NOISE.split(text)))


@dataclass(frozen=True)
class CompanyName:
    """A normalised company name."""

    core: str
    region_code: str = ""
    branch: str = ""
    legal_form: str = ""
    bracketed: bool = field(default=False, compare=False)
    """Whether the region stands in brackets after the trade name ('某某科技(上海)'), as a group's subsidiary's does
    (how the name is written, not which entity it names: equal names compare equal either way)."""

    @property
    def key(self) -> str:
        """Equal keys name one legal entity: region, core (spaces ignored) and branch."""
        if not self.core:
            return ""
        return f"{self.region_code}|{self.core.replace(' ', '')}|{self.branch}"

    @property
    def text(self) -> str:
        """A canonical spelling: re-normalising it gives the same key."""
        if not self.core:
            return ""
        code, rest = self.branch[:6], self.branch[6:]
        branch = region_name(code) + rest if code.isdigit() and code in NAMES else self.branch
        region = region_name(self.region_code)
        spellings = (
            _join(region, self.core, self.legal_form, branch),
            _join(f"{self.core}({region})", self.legal_form, branch),
        )
        return next((text for text in spellings if normalise_company(text).key == self.key), spellings[0])

    @property
    def is_latin(self) -> bool:
        """Whether the core has no Han characters (an English or pinyin rendering)."""
        return not any(is_han(ch) for ch in self.core)


def _strip_legal_form(text: str) -> tuple[str, str]:
    found = ""
    changed = True
    while changed:
        changed = False
        for form in LEGAL_FORMS:
            if text.endswith(form) and len(text) > len(form):
                text, found = text[: -len(form)].rstrip(" ,."), found or form
                changed = True
                break
    return text, found


def _split_branch(text: str) -> tuple[str, str, str]:
    """(head, branch key, legal form found inside) for a name ending in a branch word."""
    if not text.endswith(_BRANCH_WORDS):
        return text, "", ""
    for form in LEGAL_FORMS:
        index = text.rfind(form)
        if index > 0 and index + len(form) < len(text):
            return text[:index], _branch_key(text[index + len(form) :]), form
    best = max(text.rfind(end) + len(end) if text.rfind(end) > 0 else -1 for end in _HEAD_ENDS)
    if 0 < best < len(text):
        return text[:best], _branch_key(text[best:]), ""
    return text, "", ""


def _region_of(qualifier: str) -> str:
    """A bracketed qualifier that is exactly a place ('上海', '上海市', 'shanghai') → its code."""
    q = qualifier.strip()
    code = INDEX.get(q, "")
    if code:
        return code
    if q.endswith(("市", "省")) and q[:-1] in INDEX:
        return INDEX[q[:-1]]
    return ""


def _branch_key(branch: str) -> str:
    """'杭州分公司' → '330100分公司' so '杭州市分公司' and '杭州分公司' agree."""
    code, spelling = region_prefix(branch)
    return code + branch[len(spelling) :] if code and spelling != branch else branch


@functools.lru_cache(maxsize=1 << 16)
def normalise_company(raw: str) -> CompanyName:
    """'上海市第六人民医院', '上海第六人民醫院', '第六人民医院（上海）' → one key."""
    text = simplify(raw).lower()
    text = text.replace("( ", "(").replace(" )", ")")
    legal_form = ""
    region_code = ""
    bracketed_code = ""
    branch = ""
    # Bracketed qualifiers: a region, a legal form, a branch, or noise such as '(集团)'.
    for qualifier in _BRACKET_RE.findall(text):
        inner = qualifier.strip()
        code = _region_of(inner)
        if code:
            region_code = region_code or code
            bracketed_code = region_code
        elif any(inner.endswith(word) for word in _BRANCH_WORDS):
            branch = branch or _branch_key(_NOISE.sub("", inner))
        elif inner in ("有限合伙", "普通合伙"):
            legal_form = legal_form or inner
        elif inner not in ("集团", "中国", "china", "总部", "总店", ""):
            continue  # a meaningful qualifier: keep it in the core below
        text = text.replace(f"({qualifier})", " ", 1)
    text = _squeeze(text)
    # 'XX有限公司杭州分公司' / 'XX银行徐汇支行': the branch follows the legal form or the head's name.
    if not branch:
        text, found, legal = _split_branch(text)
        branch, legal_form = found, legal_form or legal
    text, form = _strip_legal_form(text)
    legal_form = legal_form or form
    code, spelling = region_prefix(text)
    if code and spelling not in AMBIGUOUS_LEADS and len(text) - len(spelling) >= 3:
        text = text[len(spelling) :].strip()
        region_code = _finer(region_code, code)
    elif text.isascii():
        words = text.split(" ")
        if len(words) > 1 and (code := INDEX.get(words[0], "")) and len(words[0]) >= 4:
            text, region_code = " ".join(words[1:]), _finer(region_code, code)
    if not any(ch.isalnum() for ch in text):  # only brackets or punctuation left: no name at all
        text = ""
    bracketed = bool(region_code) and region_code == bracketed_code
    return CompanyName(core=text, region_code=region_code, branch=branch, legal_form=legal_form, bracketed=bracketed)


def _finer(a: str, b: str) -> str:
    """Of two codes for one name, the more specific when they agree; the bracketed one otherwise."""
    if not a:
        return b
    if a[:2] == b[:2] and a in PROVINCES:
        return b
    return a


# English trade words as the pinyin of the Chinese trade they translate (registered English names
# render the trade, not its sound: 'Yuanlian Trading' is 元联贸易). Longest phrases first.
ENGLISH_TRADES: dict[str, str] = {
    "information technology": "xinxijishu",
    "environmental protection": "huanbao",
    "new materials": "xincailiao",
    "new material": "xincailiao",
    "new energy": "xinnengyuan",
    "medical devices": "yiliaoqixie",
    "medical device": "yiliaoqixie",
    "medical equipment": "yiliaoqixie",
    "culture media": "wenhuachuanmei",
    "mechanical equipment": "jixieshebei",
    "machinery equipment": "jixieshebei",
    "plastic products": "suliaozhipin",
    "technology": "keji",
    "tech": "keji",
    "trading": "maoyi",
    "trade": "maoyi",
    "commerce": "shangmao",
    "education": "jiaoyu",
    "software": "ruanjian",
    "network": "wangluo",
    "electronics": "dianzi",
    "electronic": "dianzi",
    "medical": "yiliao",
    "pharmaceutical": "yiyao",
    "biotechnology": "shengwukeji",
    "biological": "shengwu",
    "construction engineering": "jianzhugongcheng",
    "construction": "jianzhu",
    "engineering": "gongcheng",
    "materials": "cailiao",
    "machinery": "jixie",
    "equipment": "shebei",
    "consulting": "zixun",
    "logistics": "wuliu",
    "textile": "fangzhi",
    "textiles": "fangzhi",
    "chemical": "huagong",
    "chemicals": "huagong",
    "food": "shipin",
    "energy": "nengyuan",
    "investment": "touzi",
    "industrial": "shiye",
    "industry": "shiye",
    "manufacturing": "zhizao",
    "garments": "fuzhuang",
    "apparel": "fuzhuang",
    "furniture": "jiaju",
    "auto parts": "qichepeijian",
    "hospital": "yiyuan",
    # Institutions and further trades, as registered English names render them.
    "peoples hospital": "renminyiyuan",
    "traditional chinese medicine hospital": "zhongyiyiyuan",
    "hospital of traditional chinese medicine": "zhongyiyiyuan",
    "maternal and child health hospital": "fuyoubaojianyuan",
    "childrens hospital": "ertongyiyuan",
    "middle school": "zhongxue",
    "primary school": "xiaoxue",
    "foreign language school": "waiguoyuxuexiao",
    "vocational and technical college": "zhiyejishuxueyuan",
    "supply chain management": "gongyinglianguanli",
    "enterprise management consulting": "qiyeguanlizixun",
    "management consulting": "guanlizixun",
    "catering management": "canyinguanli",
    "management": "guanli",
    "precision machinery": "jingmijixie",
    "biopharma": "shengwuyiyao",
    "biopharmaceutical": "shengwuyiyao",
    "decoration engineering": "zhuangshigongcheng",
    "decoration": "zhuangshi",
    "environmental technology": "huanbaokeji",
    "garment": "fuzhuang",
    "electric appliance": "dianqi",
    "electrical appliance": "dianqi",
    "catering": "canyin",
    "ceramics": "taoci",
    "toys": "wanju",
    "toy": "wanju",
    "printing": "yinshua",
    "lighting": "zhaoming",
    "factory": "chang",
}
_ENGLISH_TRADES_RE = re.compile(
    r"\b(" + "|".join(map(re.escape, sorted(ENGLISH_TRADES, key=len, reverse=True))) + r")\b"
)


_POSSESSIVE_RE = re.compile(r"'?\s(?=s\b)|'(?=s\b)")
_ORDINAL_RE = re.compile(r"\bno\.?\s*(\d{1,2})\b")  # 'No.6 Middle School' is 第六中学
_DIGITS = ("ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu")


def _number_pinyin(number: int) -> str:
    """1..99 as the pinyin of its Chinese numeral (25 → 'ershiwu' for 二十五; 10 → 'shi')."""
    tens, ones = divmod(number, 10)
    if not tens:
        return _DIGITS[ones]
    return (_DIGITS[tens] if tens > 1 else "") + "shi" + (_DIGITS[ones] if ones else "")


@functools.lru_cache(maxsize=1 << 14)
def company_pinyin(core: str) -> str:
    """A core as toneless pinyin letters (English trades translated), to tie 'shanghai diliu renmin
    yiyuan' or 'Yuanlian Trading' to its Han name."""
    if core.isascii():
        # "People's" reaches here as 'people s' (punctuation is dropped): the possessive is one word.
        translated = _ENGLISH_TRADES_RE.sub(lambda m: ENGLISH_TRADES[m.group(1)], _POSSESSIVE_RE.sub("", core.lower()))
        translated = _ORDINAL_RE.sub(lambda m: "di" + _number_pinyin(int(m.group(1))), translated)
        return "".join(ch for ch in translated if ch.isalnum())
    from pypinyin import lazy_pinyin  # imported on first use: ~0.3 s

    return "".join(lazy_pinyin(core, errors="ignore")).lower()


@functools.lru_cache(maxsize=1)
def _syllables() -> dict[str, str]:
    """Han character → its first reading as toneless pinyin (pypinyin's table, built once: ~0.1 s)."""
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[str, str] = {}
    for codepoint, readings in pinyin_dict.items():
        first = unicodedata.normalize("NFD", readings.split(",")[0])
        table[chr(codepoint)] = "".join(ch for ch in first if not unicodedata.combining(ch))
    return table


def company_sound(core: str) -> str:
    """A core as it sounds: toneless pinyin per Han character (first reading), letters and digits kept
    lower-case, the rest dropped. Cheap (a table look-up per character, no phrase segmentation), so it
    can key every name of a batch: homophone typos ('青锋网络' ~ '青峰网络') share it, as do most
    pinyin renderings; for Latin names use :func:`company_pinyin` (English trades translated)."""
    table = _syllables()
    return "".join(table.get(ch) or (ch if ch.isascii() and ch.isalnum() else "") for ch in core.lower())
