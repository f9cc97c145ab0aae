"""Person names: NFKC, emoji and WeChat decorations stripped, placeholders recognised.

WeChat nicknames and WeCom remarks decorate names: '🌸张伟🌸', 'A-张伟-销售部',
'张伟（华东区）', 'AAA张伟'. Reps type placeholders: '周先生', '王女士', '张总', '老李' —
a surname and a form of address, which is not a name and must never tie two people.
Pet names ('燕燕', '小成', '阿强') say nothing about the surname: they are nicknames.

:func:`normalise_name` returns a :class:`PersonName` whose ``kind`` says what it is:
``full`` (a Han surname and one or two more characters, or two Latin words), ``placeholder``
(surname only, ``surname`` set), ``nickname`` (anything else, e.g. '阳光男孩'), ``empty``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from customer_master.domain.text import is_han, simplify

NameKind = Literal["full", "placeholder", "nickname", "empty"]

# The common single-character surnames (百家姓 and the census' most frequent) and compound ones.
SURNAMES: frozenset[str] = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符"
    "舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农"
    "司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商"
    "刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼"
    "蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈"
    "晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅"
    "利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
) | frozenset(
    (
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "申屠",
        "百里",
        "呼延",
        "澹台",
        "钟离",
    )
)
# The most frequent full names in the mainland (公安部《全国姓名报告》 lists): thousands of people
# carry each, so two records of one at the same large organisation may well be two colleagues.
COMMON_FULL_NAMES: frozenset[str] = frozenset(
    [
        "张伟",
        "王伟",
        "王芳",
        "李伟",
        "李娜",
        "张敏",
        "李静",
        "王静",
        "刘伟",
        "王秀英",
        "张丽",
        "李秀英",
        "王丽",
        "张静",
        "张秀英",
        "李强",
        "王敏",
        "李敏",
        "王磊",
        "刘洋",
        "王艳",
        "王勇",
        "李军",
        "张勇",
        "李杰",
        "张杰",
        "张磊",
        "王强",
        "李娟",
        "王军",
        "张艳",
        "张涛",
        "王涛",
        "李艳",
        "王超",
        "李明",
        "李勇",
        "王娟",
        "刘杰",
        "刘敏",
        "李霞",
        "李丽",
        "张军",
        "王杰",
        "张强",
        "王秀兰",
        "王刚",
        "王平",
        "刘芳",
        "张燕",
        "刘艳",
        "刘军",
        "李平",
        "王辉",
        "王燕",
        "陈静",
        "刘勇",
        "李玲",
        "李桂英",
        "王丹",
        "李刚",
        "李丹",
        "李萍",
        "王鹏",
        "刘涛",
        "陈伟",
        "张华",
        "刘静",
        "李涛",
        "王桂英",
        "张秀兰",
        "李红",
        "李超",
        "刘丽",
        "张桂英",
        "王玉兰",
        "李燕",
        "张鹏",
        "李秀兰",
        "张超",
        "王霞",
        "张玲",
        "陈杰",
        "李辉",
        "张婷",
        "杨勇",
        "王婷",
        "杨静",
        "李鹏",
        "刘强",
        "陈燕",
        "陈勇",
        "杨伟",
        "刘磊",
        "张明",
    ]
)
_COMPOUND = sorted((s for s in SURNAMES if len(s) > 1), key=len, reverse=True)
_COMPOUND_LENGTHS = sorted({len(s) for s in _COMPOUND}, reverse=True)
_COMPOUND_SET = frozenset(_COMPOUND)

# Forms of address that follow a surname in a placeholder ('周先生', '张总', '李姐').
_TITLES = (
    "先生",
    "女士",
    "小姐",
    "太太",
    "总经理",
    "总监",
    "总",
    "董事长",
    "董",
    "经理",
    "老师",
    "老板",
    "工",
    "姐",
    "哥",
    "医生",
    "大夫",
    "主任",
    "院长",
    "校长",
    "同学",
    "阿姨",
    "叔",
    "叔叔",
    "师傅",
    "处长",
    "局长",
    "科长",
    "部长",
    "主管",
    "会计",
    "律师",
    "教授",
    "博士",
    "某",
    "某某",
    "xx",
    "x",
)
_TITLE_RE = "|".join(sorted(map(re.escape, _TITLES), key=len, reverse=True))
_PLACEHOLDER_RE = re.compile(rf"^(?P<surname>\w{{1,2}}?)(?:{_TITLE_RE})$")
# '老李' names a surname; '小成' / '阿强' are as often a given name as a surname, so they are
# nicknames (no surname claim), as is a doubled character ('燕燕', '国国': 叠字 pet names).
_FAMILIAR_RE = re.compile(r"^老(?P<surname>\w{1,2})$")
_DIMINUTIVE_RE = re.compile(r"^(?:小|阿)\w{1,2}$")
# Decorations: bracketed remarks, sort markers ('A', 'AAA', 'a01'), separators.
_BRACKETED = re.compile(r"\([^()]*\)")
_SEPARATORS = re.compile(r"[-_|/\\~@#、,，。.!！?？:：;；+*=—–丨]+")
_SORT_MARKER = re.compile(r"^(?:a+|z+|0+|a?\d{1,3})$", re.IGNORECASE)
_LATIN_NAME = re.compile(r"^[a-z]+(?:[ '][a-z]+)*$")


@dataclass(frozen=True)
class PersonName:
    """A normalised person name; ``text`` is what to store and compare."""

    text: str
    kind: NameKind
    surname: str = ""

    @property
    def identifies(self) -> bool:
        """Only a full name is evidence about who someone is."""
        return self.kind == "full"


def surname_of(text: str) -> str:
    """The surname a Han name opens with, compound ones first; "" if none is known."""
    for length in _COMPOUND_LENGTHS:  # longest first, as one compound of a length can open a text
        if len(text) > length and text[:length] in _COMPOUND_SET:
            return text[:length]
    return text[0] if text and text[0] in SURNAMES else ""


def _placeholder(token: str) -> str:
    for pattern in (_PLACEHOLDER_RE, _FAMILIAR_RE):
        match = pattern.match(token)
        if match and match["surname"] in SURNAMES:
            return match["surname"]
    return ""


def _is_full_han(token: str) -> bool:
    if _DIMINUTIVE_RE.match(token) or (len(token) == 2 and token[0] == token[1]):
        return False
    surname = surname_of(token)
    return bool(surname) and all(is_han(ch) for ch in token) and 1 <= len(token) - len(surname) <= 2


def _pick(tokens: list[str]) -> str:
    """The token most likely to be the name among a decorated nickname's parts."""
    tokens = [t for t in tokens if t and not _SORT_MARKER.match(t)]
    if not tokens:
        return ""
    for token in tokens:
        if _is_full_han(token):
            return token
    for token in tokens:
        if _placeholder(token):
            return token
    latin = [t for t in tokens if t.isascii() and t.isalpha()]
    if len(latin) >= 2 and len(latin) == len(tokens):
        return " ".join(latin)
    han = [t for t in tokens if any(is_han(ch) for ch in t)]
    return max(han or tokens, key=len)


@functools.lru_cache(maxsize=1 << 17)
def normalise_name(raw: str) -> PersonName:
    """'🌸張偉🌸' → 张伟 (full); '周先生' → placeholder, surname 周; 'A-Zhang Wei' → 'zhang wei'."""
    text = simplify(raw).lower()
    text = _BRACKETED.sub(" ", text).replace("(", " ").replace(")", " ")
    text = text.replace("•", "·").replace("・", "·")
    parts = [" ".join(p.split()) for p in _SEPARATORS.split(text)]
    # Inside one part, Han characters never carry spaces ('张 伟' → '张伟'); Latin words keep one.
    tokens: list[str] = []
    for part in parts:
        words = part.split(" ")
        if all(any(is_han(ch) for ch in w) for w in words if w):
            tokens.append("".join(words))
        elif len(words) > 1 and all(w.isascii() and w.isalpha() for w in words):
            tokens.append(" ".join(words))
        else:
            tokens.extend(words)
    # A sort marker glued to a Han name: 'aaa张伟' → '张伟'.
    tokens = [re.sub(r"^[a-z0-9]+(?=[\u3400-\u9fff])", "", t) if not t.isascii() else t for t in tokens]
    name = _pick(tokens)
    if not name:
        return PersonName("", "empty")
    if surname := _placeholder(name):
        return PersonName(name, "placeholder", surname)
    if _is_full_han(name) or "·" in name.strip("·"):
        return PersonName(name, "full", surname_of(name))
    if _LATIN_NAME.match(name) and " " in name:
        return PersonName(name, "full")
    return PersonName(name, "nickname")


@functools.lru_cache(maxsize=1 << 14)
def name_pinyin(text: str) -> str:
    """A Han name as toneless pinyin letters ('张伟' → 'zhangwei'); Latin text → its letters."""
    if text.isascii():
        return "".join(ch for ch in text.lower() if ch.isalpha())
    from pypinyin import lazy_pinyin  # imported on first use: ~0.3 s, only Latin/Han pairs need it

    return "".join(lazy_pinyin(text, errors="ignore")).lower()
