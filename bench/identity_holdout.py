"""Identity hold-out: a third, independent generator of labelled Chinese CRM records.

Used once, as unseen data, to score our ``crm dedupe`` engine beside Splink with the scoring,
Splink runner and table of :mod:`identity_quality` (imported, not copied).

World
-----
Organisations come in families: a single firm (~83 %), a group (~12 %: head office plus one to
three subsidiaries named ``字号行业(城市)有限公司`` in other cities, sharing an e-mail domain)
or a pair of unrelated same-name firms in two provinces (~5 %, ``浙江华联贸易`` / ``江苏华联贸易``).
Every firm is its own account with its own valid unified social credit code (GB 32100, check
character from ``stdnum.cn.uscc``), switchboard, domain and office. Contacts per firm: 1 (40 %),
2 (20 %), 3-5 (25 %), 6-15 (12 %), 16-40 (3 %). About 59 % of persons are business contacts,
41 % consumers; 18 % of consumer units are two-person households sharing a home landline and address.
Names come from weighted surnames, with 14 % drawn from a short list of very common full names,
so namesakes (王伟, 李娜 ...) appear in many cities and firms; a name is unique inside a firm.
Persons have one or two mobiles, maybe a personal e-mail, a WeChat unionid (90 %), a WeCom
external user id, a WeChat nickname (often a shared cliché) and maybe an English name; business
contacts get a corporate e-mail (75 %) and an extension; 6 % of multi-record contacts change
firm part-way (same person, records labelled with the firm of the time).

Records per person: 1 (42 %), 2 (24 %), 3 (15 %), 4 (8 %), 5 (4 %), 6-9 (5 %), 10-20 (2 %), over
2021-01 .. 2025-06. Sources, as the reps have them (business / consumer weights; realised shares
at 20 000 records: excel 23 %, wecom 23 %, orders 23 %, webform 19 %, mini-program 12 %):

* ``excel`` (34 / 6): rep spreadsheets, every column present, blanks as "". Real name 62 %,
  placeholder (周先生, 王总, 李经理) 18 %, typo 6 %, Unicode variant 6 %, name and mobile merged in
  one cell 8 %; phone mobile / switchboard / both / blank; 1.5 % mistyped mobiles; company
  92 % in any spelling; e-mail 25 %; free-text region and industry; credit code 6 %.
* ``wecom`` (26 / 18): WeCom contact export. External user id always, unionid 65 %; nickname,
  remark name or ``张伟-华联科技`` remarks; corp name 50 % (short forms); remark mobile 30 %.
* ``webform`` (20 / 16): landing-page forms. Self-typed names and company names (typos,
  English renderings), mobiles in +86 / 0086 / spaced forms, e-mail 65 %, dropdown regions.
* ``orders`` (14 / 34): order-system export. Consignee mobile (masked ``138****5678`` on 8 % of
  consumer orders), address, region codes; business invoices carry the legal name and, 65 %,
  the credit code; unionid on mall orders.
* ``miniprogram`` (6 / 26): WeChat mini-program. Unionid always, mostly nicknames, the
  authorised mobile in E.164 on 55 %.

Plus 5 % junk rows: staff tests and placeholders (测试 / test / demo names, 测试公司 companies,
13800000000 / 12345678901 / repeated-digit phones; test@ e-mails only beside one of those), some
sharing a staff member's mobile or unionid, a few typed under a real firm's short name. Each junk
row is its own person with no account.

Dirt: mobiles with +86 / 0086 / 86 prefixes, spaces, dashes, full-width digits and labels
(手机:), switchboards and home landlines with area codes and extensions (never evidence of a
person); e-mail case, spaces and full-width @; role mailboxes (info@, sales@; not evidence);
names with inner or full-width spaces, Kangxi / compatibility ideographs, emoji, nicknames,
placeholders and homophone typos; company names with or without legal form, 有限公司 vs
有限责任公司, full- vs half-width brackets, 上海 vs 上海市 prefixes, dropped region, short
forms, one-character homophone typos, English / pinyin renderings (on firms with an English
name); regions as 上海 / 上海市 / 沪 / SH / shanghai / Shanghai / 310000 / 中国 上海 / city codes;
credit codes lower-case, spaced or (4 %) mistyped.

Labels
------
Per record: the person, the firm (None for consumers and junk) and the junk flag. They are
knowable by construction and checked before scoring (:func:`verify`): every record of a person
after the first shares evidence with an earlier one — the same mobile, unionid, WeCom id,
e-mail, or the same clear full name on records that name the same firm (a company spelling no
other firm could produce, or a valid credit code) — and
a person's first record carries a mobile, unionid, WeCom id or e-mail; a record that would share
nothing gets one of the person's earlier identifiers added (or, failing that, the primary mobile
on it and on the first record). Each firm stint of a person has a record naming the firm
unambiguously (identifying spelling or valid credit code). Switchboards, home phones, role
mailboxes, addresses, nicknames, placeholders, typo'd names and mistyped numbers never count.

Independence
------------
Written from the task's description only. Read: ``bench/identity_quality.py`` (for the row
columns, the truth attributes ``row`` / ``person`` / ``account`` / ``junk``, and the functions
imported here), the Makefile and pyproject (lint / type settings) and ``stdnum.cn.uscc``. Not
read or searched: ``bench/identity_data.py``, ``bench/identity_unseen.py``, anything under
``services/customer-master/``, ``libs/crmcli/crm_cli/loadgen.py``. Importing
:mod:`identity_quality` executes ``identity_data`` (its import), unread. The subjects of the five
latest commits were seen in passing (one lists matcher fixes); the world was designed from the
task's description, not from them. The data was not changed after seeing scores.

Run: .venv/bin/python bench/identity_holdout.py [--records N] [--seed S] [--no-splink] [--json]
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import identity_quality  # type: ignore[import-not-found]  # run as a script, beside identity_quality
from stdnum.cn import uscc

T = TypeVar("T")
DATASET = "holdout"
SPLINK_THRESHOLD = 0.99  # identity_quality's default
CST = timezone(timedelta(hours=8))
START = datetime(2021, 1, 1, tzinfo=CST)
SPAN_SECONDS = 1641 * 86400  # to 2025-06-30
JUNK_SHARE = 0.05
B2B_FAMILY_SHARE = 0.24  # chance the next world unit is a firm family rather than a consumer
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ORG_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
EXCEL_COLUMNS = ("name", "phone", "company", "email", "region", "industry", "address", "credit_code")


# --------------------------------------------------------------------------- world tables


def _words(spec: str) -> tuple[str, ...]:
    return tuple(spec.split())


def _table(spec: str) -> tuple[tuple[str, str], ...]:
    """'华hua 联lian' -> (('华', 'hua'), ('联', 'lian'))."""
    out = []
    for token in spec.split():
        cut = next(i for i, ch in enumerate(token) if ch.isascii())
        out.append((token[:cut], token[cut:]))
    return tuple(out)


def _pairs(spec: str) -> dict[str, str]:
    """'华:化 联:连' -> {'华': '化', '联': '连'}."""
    return {key: value for key, _, value in (token.partition(":") for token in spec.split())}


@dataclass(frozen=True)
class City:
    """A city with the spellings a region column may carry."""

    name: str
    code: str
    pinyin: str
    area: str
    province: str
    province_code: str
    province_pinyin: str
    abbr: str
    latin: str
    districts: tuple[str, ...]
    weight: float

    @property
    def municipality(self) -> bool:
        return self.name == self.province


CITIES = tuple(
    City(*row)
    for row in (
        ("上海", "310000", "shanghai", "021", "上海", "310000", "shanghai", "沪", "SH", ("浦东新区", "徐汇区"), 18),
        ("北京", "110000", "beijing", "010", "北京", "110000", "beijing", "京", "BJ", ("朝阳区", "海淀区"), 16),
        ("深圳", "440300", "shenzhen", "0755", "广东", "440000", "guangdong", "粤", "GD", ("南山区", "福田区"), 11),
        ("广州", "440100", "guangzhou", "020", "广东", "440000", "guangdong", "粤", "GD", ("天河区", "越秀区"), 8),
        ("杭州", "330100", "hangzhou", "0571", "浙江", "330000", "zhejiang", "浙", "ZJ", ("西湖区", "滨江区"), 8),
        ("宁波", "330200", "ningbo", "0574", "浙江", "330000", "zhejiang", "浙", "ZJ", ("鄞州区", "海曙区"), 3),
        ("南京", "320100", "nanjing", "025", "江苏", "320000", "jiangsu", "苏", "JS", ("鼓楼区", "江宁区"), 5),
        ("苏州", "320500", "suzhou", "0512", "江苏", "320000", "jiangsu", "苏", "JS", ("工业园区", "吴中区"), 5),
        ("成都", "510100", "chengdu", "028", "四川", "510000", "sichuan", "川", "SC", ("武侯区", "锦江区"), 5),
        ("武汉", "420100", "wuhan", "027", "湖北", "420000", "hubei", "鄂", "", ("江汉区", "洪山区"), 4),
        ("青岛", "370200", "qingdao", "0532", "山东", "370000", "shandong", "鲁", "SD", ("市南区", "崂山区"), 3),
        ("济南", "370100", "jinan", "0531", "山东", "370000", "shandong", "鲁", "SD", ("历下区", "槐荫区"), 2),
        ("厦门", "350200", "xiamen", "0592", "福建", "350000", "fujian", "闽", "FJ", ("思明区", "湖里区"), 3),
        ("天津", "120000", "tianjin", "022", "天津", "120000", "tianjin", "津", "TJ", ("和平区", "南开区"), 3),
        ("重庆", "500000", "chongqing", "023", "重庆", "500000", "chongqing", "渝", "CQ", ("渝中区", "江北区"), 3),
        ("长沙", "430100", "changsha", "0731", "湖南", "430000", "hunan", "湘", "", ("岳麓区", "芙蓉区"), 2),
        ("西安", "610100", "xian", "029", "陕西", "610000", "shaanxi", "陕", "", ("雁塔区", "碑林区"), 2),
        ("郑州", "410100", "zhengzhou", "0371", "河南", "410000", "henan", "豫", "", ("金水区", "郑东新区"), 2),
        ("合肥", "340100", "hefei", "0551", "安徽", "340000", "anhui", "皖", "AH", ("蜀山区", "包河区"), 2),
    )
)


@dataclass(frozen=True)
class Industry:
    """An industry word in firm names, its English rendering, domain tag and free-text labels."""

    word: str
    english: str
    tag: str
    labels: tuple[str, ...]
    weight: float


INDUSTRIES = tuple(
    Industry(*row)
    for row in (
        ("科技", "Technology", "tech", ("科技", "IT", "互联网/IT"), 14),
        ("信息技术", "Information Technology", "it", ("IT", "信息技术", "软件"), 10),
        ("网络科技", "Network Technology", "net", ("互联网", "IT/互联网"), 8),
        ("软件", "Software", "soft", ("软件", "IT", "SaaS"), 5),
        ("贸易", "Trading", "trade", ("贸易", "进出口", "批发零售"), 10),
        ("电子", "Electronics", "elec", ("电子", "制造业", "电子元器件"), 7),
        ("机械设备", "Machinery", "mach", ("制造业", "机械", "装备制造"), 6),
        ("医疗器械", "Medical Devices", "med", ("医疗", "医疗器械", "大健康"), 5),
        ("生物科技", "Biotech", "bio", ("生物医药", "医药"), 4),
        ("物流", "Logistics", "logistics", ("物流", "供应链"), 5),
        ("食品", "Food", "food", ("食品", "快消"), 4),
        ("化工", "Chemical", "chem", ("化工", "材料"), 3),
        ("建筑工程", "Construction", "build", ("建筑", "工程"), 3),
        ("教育科技", "Education Technology", "edu", ("教育", "培训"), 4),
        ("咨询", "Consulting", "consult", ("咨询", "企业服务"), 4),
        ("测试技术", "Testing Technology", "testing", ("检测", "技术服务"), 1),
        ("文化传媒", "Media", "media", ("传媒", "广告"), 3),
        ("新能源", "New Energy", "energy", ("新能源", "光伏"), 3),
    )
)

TRADES = _table(
    "华hua 联lian 盛sheng 泰tai 鑫xin 源yuan 恒heng 达da 博bo 瑞rui 安an 中zhong 天tian 宇yu 海hai 明ming "
    "新xin 创chuang 远yuan 德de 正zheng 信xin 诚cheng 通tong 金jin 科ke 汇hui 丰feng 嘉jia 和he 美mei 康kang "
    "辰chen 启qi 星xing 凯kai 弘hong 腾teng 云yun 峰feng 蓝lan 光guang 润run 祥xiang 卓zhuo 越yue 展zhan "
    "拓tuo 思si 维wei 智zhi 捷jie 优you 力li 方fang 东dong 南nan 亿yi 万wan"
)
TRADE_HOMOPHONES = _pairs(
    "华:化 联:连 盛:胜 泰:太 鑫:新 源:元 恒:衡 达:大 博:波 瑞:锐 安:按 中:钟 天:添 宇:雨 海:还 明:名 新:心 "
    "创:窗 远:元 德:得 正:政 信:心 诚:城 通:同 金:今 科:可 汇:会 丰:风 嘉:佳 和:合 美:每 康:慷 辰:晨 "
    "启:起 星:兴 凯:恺 弘:宏 腾:藤 云:芸 峰:锋 蓝:兰 光:广 润:闰 祥:翔 卓:桌 越:悦 展:战 拓:托 思:斯 "
    "维:唯 智:志 捷:杰 优:尤 力:立 方:芳 东:冬 南:楠 亿:忆"
)
FORMS = (("有限公司", 70), ("有限责任公司", 18), ("股份有限公司", 12))

SURNAME_TABLE = (
    "王wang:7.1 李li:7.0 张zhang:6.7 刘liu:5.4 陈chen:4.6 杨yang:3.1 黄huang:2.5 赵zhao:2.3 吴wu:2.1 "
    "周zhou:2.1 徐xu:1.7 孙sun:1.5 马ma:1.5 朱zhu:1.3 胡hu:1.3 郭guo:1.1 何he:1.1 高gao:1.0 林lin:1.0 "
    "罗luo:0.9 郑zheng:0.9 梁liang:0.9 谢xie:0.8 宋song:0.7 唐tang:0.7 许xu:0.7 韩han:0.7 冯feng:0.6 "
    "邓deng:0.6 曹cao:0.6 彭peng:0.5 曾zeng:0.5 肖xiao:0.5 田tian:0.5 董dong:0.4 袁yuan:0.4 潘pan:0.4 "
    "于yu:0.4 蒋jiang:0.4 蔡cai:0.4 欧阳ouyang:0.05"
)
GIVEN_MALE = (
    "伟wei 强qiang 磊lei 军jun 洋yang 勇yong 杰jie 涛tao 明ming 超chao 刚gang 平ping 辉hui 鹏peng 浩hao 宇yu "
    "峰feng 斌bin 建jian 国guo 志zhi 文wen 俊jun 凯kai 晨chen 博bo 子zi 轩xuan 然ran 昊hao 天tian 海hai "
    "东dong 林lin 华hua 亮liang 成cheng 新xin"
)
GIVEN_FEMALE = (
    "娜na 芳fang 静jing 敏min 丽li 秀xiu 英ying 艳yan 婷ting 雪xue 霞xia 燕yan 玲ling 桂gui 萍ping 红hong "
    "梅mei 琳lin 颖ying 欣xin 怡yi 佳jia 倩qian 雨yu 涵han 晓xiao 思si 诗shi 梦meng 瑶yao 丹dan 慧hui "
    "月yue 文wen 晶jing 璐lu 娟juan"
)
COMMON_NAMES = _words(
    "王伟M 王芳F 张伟M 李伟M 王秀英F 李秀英F 李娜F 张秀英F 刘伟M 张敏F 李静F 张丽F 王静F 王丽F 李强M 张静F "
    "李敏F 王敏F 王磊M 刘洋M 王艳F 王勇M 李军M 张勇M 李杰M 张杰M 张磊M 王强M 王军M 陈静F 刘杰M 李娟F"
)
GIVEN_HOMOPHONES = _pairs(
    "伟:玮 强:蔷 磊:垒 军:君 洋:阳 勇:永 杰:捷 涛:滔 明:铭 超:潮 刚:钢 平:萍 辉:晖 鹏:朋 浩:皓 宇:雨 "
    "峰:锋 斌:彬 建:健 国:帼 志:智 俊:骏 凯:恺 晨:辰 轩:萱 昊:皓 海:还 东:冬 林:琳 华:桦 亮:靓 "
    "娜:纳 芳:方 静:晶 敏:民 丽:莉 秀:绣 英:瑛 艳:燕 婷:亭 雪:学 霞:侠 燕:艳 玲:铃 萍:平 红:虹 "
    "梅:玫 琳:林 颖:影 欣:新 怡:仪 佳:家 倩:茜 涵:含 晓:小 思:斯 梦:蒙 瑶:遥 丹:单 慧:惠 娟:鹃"
)
NICKNAMES = _words(
    "阳光 快乐每一天 平安是福 A 随缘 简单 微笑 追梦人 静待花开 海阔天空 小鱼儿 淡定 风轻云淡 花开富贵 "
    "岁月静好 知足常乐 Sunny Lily Andy Amy Jason Kevin Grace Tony Coco . 🌸 一路向北 心若向阳 木子 晴天"
)
ENGLISH_NAMES = _words(
    "Lily Andy Amy Jason Kevin Grace Tony Coco Cindy Jack Leo Emma Vivian Eric Michael Linda Judy Frank Helen David"
)
EMOJI = ("🌸", "🍀", "🌈", "😊", "🐟", "☀️", "🌙", "🎈", "❤️")
MALE_TITLES = (("先生", 60), ("总", 25), ("经理", 10), ("哥", 5))
FEMALE_TITLES = (("女士", 60), ("总", 12), ("经理", 10), ("小姐", 10), ("姐", 8))
ROADS = ("中山", "人民", "建设", "解放", "长江", "延安", "和平", "科技", "创业", "学院", "新华", "滨江")
MOBILE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
    "176 177 178 180 181 182 183 185 186 187 188 189 198 199"
)
PERSONAL_DOMAINS = (
    ("qq.com", 45),
    ("163.com", 20),
    ("126.com", 8),
    ("foxmail.com", 8),
    ("sina.com", 5),
    ("gmail.com", 6),
)
ROLE_MAILBOXES = ("info", "sales", "service", "admin", "hr", "contact")
JUNK_NAMES = _words("测试 测试1 测试123 测试用户 测试客户 test Test TEST test01 demo Demo 演示 演示账号 测试测试")
JUNK_COMPANIES = ("测试公司", "测试有限公司", "test公司", "Test Co., Ltd.", "demo公司", "演示公司", "测试科技有限公司")
JUNK_PHONES = ("13800000000", "12345678901", "11111111111", "00000000000", "13333333333", "15555555555", "13900000000")
JUNK_EMAILS = ("test@test.com", "test@163.com", "demo@example.com", "a@a.com", "123@qq.com", "test@qq.com")


MALE = _table(GIVEN_MALE)
FEMALE = _table(GIVEN_FEMALE)
SURNAME_WEIGHTED = tuple(
    (name_pinyin, float(weight)) for name_pinyin, weight in (token.split(":") for token in SURNAME_TABLE.split())
)
SURNAME_LIST = _table(" ".join(token for token, _ in SURNAME_WEIGHTED))
SURNAME_WEIGHTS = tuple(weight for _, weight in SURNAME_WEIGHTED)
PINYIN = dict(TRADES) | dict(MALE) | dict(FEMALE) | dict(SURNAME_LIST)


def _compat_variants() -> dict[str, str]:
    """Characters with a Kangxi-radical or compatibility-ideograph twin that NFKC folds back."""
    out: dict[str, str] = {}
    for code in (*range(0x2F00, 0x2FD6), *range(0xF900, 0xFADA)):
        folded = unicodedata.normalize("NFKC", chr(code))
        if len(folded) == 1 and folded != chr(code):
            out.setdefault(folded, chr(code))
    return out


COMPAT = _compat_variants()


# --------------------------------------------------------------------------- entities


@dataclass(frozen=True)
class Org:
    """A firm (an account)."""

    oid: str
    trade: str
    industry: Industry
    city: City
    pattern: str  # "prefix" (上海华联科技有限公司), "bracket" (华联科技（上海）有限公司), "plain"
    prefix: str
    form: str
    uscc: str
    switchboard: str
    domain: str
    english: bool
    address: str

    @property
    def core(self) -> str:
        return self.trade + self.industry.word

    @property
    def legal(self) -> str:
        if self.pattern == "prefix":
            return self.prefix + self.core + self.form
        if self.pattern == "bracket":
            return f"{self.core}（{self.city.name}）{self.form}"
        return self.core + self.form


@dataclass
class Stint:
    """A person's time at one firm."""

    org: Org
    email: str | None
    extension: str


@dataclass
class Person:
    """A true person with the identifiers they use."""

    pid: str
    name: str
    surname: str
    gender: str
    city: City
    mobiles: tuple[str, ...]
    email: str | None
    unionid: str | None
    wecom: str
    nickname: str
    english: str | None
    address: str
    count: int
    home: tuple[str, str] | None = None
    stints: list[Stint] = field(default_factory=list)


@dataclass
class Draft:
    """A record being built; ``evidence`` maps the slot holding an identifier to its key."""

    source: str
    fields: dict[str, str]
    evidence: dict[str, str] = field(default_factory=dict)
    name_clear: bool = False
    org_evidence: bool = False


@dataclass(frozen=True)
class HoldoutRecord:
    """One labelled record; ``row``, ``person``, ``account`` and ``junk`` are what identity_quality reads."""

    row: dict[str, str]
    person: str
    account: str | None
    junk: bool
    evidence: tuple[str, ...]
    org_evidence: bool


class World:
    """Random source, the firms, and registries that keep identifiers and legal names unique."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.orgs: list[Org] = []
        self.cores: Counter[str] = Counter()
        self.members: dict[str, set[str]] = {}
        self.spellings: dict[str, set[str]] = {}
        self.taken: set[str] = set()
        self.staff_mobiles = [self.mobile() for _ in range(4)]
        self.staff_unionids = [self.token("o", 27) for _ in range(3)]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, weighted: Sequence[tuple[T, float]]) -> T:
        return self.rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]

    def fresh(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value and value not in self.taken:
                self.taken.add(value)
                return value

    def token(self, prefix: str, length: int) -> str:
        return self.fresh(lambda: prefix + "".join(self.rng.choices(TOKEN_ALPHABET, k=length)))

    def mobile(self) -> str:
        def make() -> str:
            tail = "".join(self.rng.choices("0123456789", k=8))
            return self.rng.choice(MOBILE_PREFIXES) + tail if len(set(tail)) >= 4 else ""

        return self.fresh(make)

    def city(self) -> City:
        return self.pick([(c, c.weight) for c in CITIES])


# --------------------------------------------------------------------------- firms


def _org_code(rng: random.Random) -> str:
    """A 9-character organisation code with its GB 11714 check character."""
    body = "MA" + "".join(rng.choices(ORG_CODE_ALPHABET, k=6)) if rng.random() < 0.5 else f"{rng.randrange(10**8):08d}"
    total = sum(int(ch, 36) * w for ch, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def _credit_code(world: World, city: City) -> str:
    def make() -> str:
        county = city.code[:3] + "1" if city.municipality else city.code[:4]
        head = "91" + county + f"{world.rng.randint(1, 18):02d}" + _org_code(world.rng)
        return head + uscc.calc_check_digit(head)

    return world.fresh(make)


def _office(world: World, city: City) -> str:
    rng = world.rng
    return (
        f"{city.name}市{rng.choice(city.districts)}{rng.choice(ROADS)}路{rng.randint(1, 999)}号{rng.randint(2, 30)}楼"
    )


def _domain(world: World, trade: str, industry: Industry, city: City) -> str:
    base = "".join(PINYIN[ch] for ch in trade)
    for candidate in (base, f"{base}-{industry.tag}", f"{base}{city.pinyin[:2]}", f"{base}group"):
        for tld in ("com", "com.cn", "cn"):
            if f"{candidate}.{tld}" not in world.taken:
                world.taken.add(f"{candidate}.{tld}")
                return f"{candidate}.{tld}"
    return world.fresh(lambda: f"{base}{world.rng.randint(2, 999)}.com")


@dataclass(frozen=True)
class Plan:
    """What a firm is called, before it is registered."""

    trade: str
    industry: Industry
    city: City
    pattern: str
    prefix: str
    form: str

    def legal(self) -> str:
        return Org(
            "", self.trade, self.industry, self.city, self.pattern, self.prefix, self.form, "", "", "", False, ""
        ).legal


def _plan(world: World, trade: str, industry: Industry, city: City, pattern: str, form: str) -> Plan:
    prefix = ""
    if pattern == "prefix":
        prefix = city.name if city.municipality or world.chance(0.6) else city.province
    return Plan(trade, industry, city, pattern, prefix, form)


def _register(world: World, plan: Plan, domain: str) -> Org:
    org = Org(
        oid=f"org{len(world.orgs):05d}",
        trade=plan.trade,
        industry=plan.industry,
        city=plan.city,
        pattern=plan.pattern,
        prefix=plan.prefix,
        form=plan.form,
        uscc=_credit_code(world, plan.city),
        switchboard=world.fresh(lambda: f"{world.rng.randint(2, 8)}{world.rng.randrange(10**7):07d}"),
        domain=domain,
        english=world.chance(0.25),
        address=_office(world, plan.city),
    )
    world.orgs.append(org)
    world.cores[org.core] += 1
    world.members[org.oid] = set()
    world.taken.add(org.legal)
    return org


def _trade(world: World) -> tuple[str, Industry]:
    return "".join(ch for ch, _ in world.rng.sample(TRADES, 2)), world.pick([(i, i.weight) for i in INDUSTRIES])


def _fresh_core(world: World) -> tuple[str, Industry]:
    while True:
        trade, industry = _trade(world)
        if world.cores[trade + industry.word] == 0:
            return trade, industry


def _single(world: World) -> list[Org]:
    while True:
        trade, industry = _trade(world)
        city = world.city()
        pattern = world.pick([("prefix", 55), ("bracket", 20), ("plain", 25)])
        plan = _plan(world, trade, industry, city, pattern, world.pick(FORMS))
        if plan.legal() not in world.taken:
            return [_register(world, plan, _domain(world, trade, industry, city))]


def _group(world: World) -> list[Org]:
    trade, industry = _fresh_core(world)
    cities = world.rng.sample(CITIES, world.rng.randint(2, 4))
    domain = _domain(world, trade, industry, cities[0])
    head_form = "股份有限公司" if world.chance(0.5) else "有限公司"
    head = _plan(world, trade, industry, cities[0], world.pick([("plain", 60), ("prefix", 40)]), head_form)
    branches = [Plan(trade, industry, city, "bracket", "", "有限公司") for city in cities[1:]]
    return [_register(world, plan, domain) for plan in (head, *branches)]


def _siblings(world: World) -> list[Org]:
    trade, industry = _fresh_core(world)
    first = world.city()
    second = world.rng.choice([c for c in CITIES if c.province != first.province])
    plans = [Plan(trade, industry, c, "prefix", c.province, world.pick(FORMS)) for c in (first, second)]
    return [_register(world, plan, _domain(world, trade, industry, plan.city)) for plan in plans]


def org_family(world: World) -> list[Org]:
    """One firm, a group with subsidiaries in other cities, or two same-name firms in two provinces."""
    kind = world.pick([("single", 83), ("group", 12), ("siblings", 5)])
    return {"single": _single, "group": _group, "siblings": _siblings}[kind](world)


# --------------------------------------------------------------------------- company spellings


def spelling_key(text: str) -> str:
    """How a careful reader compares two spellings: ignoring spaces and bracket width."""
    return "".join(text.split()).replace("(", "（").replace(")", "）")


def _city_form(org: Org) -> str:
    if org.pattern == "prefix":
        return org.prefix + ("市" if org.prefix == org.city.name else "省") + org.core + org.form
    if org.pattern == "bracket":
        return f"{org.core}（{org.city.name}市）{org.form}"
    return org.city.name + org.legal


def _spaced(org: Org) -> str:
    if org.pattern == "prefix":
        return f"{org.prefix} {org.core}{org.form}"
    if org.pattern == "bracket":
        return f"{org.core} ({org.city.name}) {org.form}"
    return f"{org.trade} {org.industry.word}{org.form}"


def _typo(org: Org, at: int) -> str:
    swapped = TRADE_HOMOPHONES.get(org.trade[at])
    if swapped is None:
        return org.legal
    return org.legal.replace(org.core, org.trade[:at] + swapped + org.trade[at + 1 :] + org.industry.word, 1)


def _form_swap(org: Org) -> str:
    other = {"有限公司": "有限责任公司", "有限责任公司": "有限公司", "股份有限公司": "有限公司"}[org.form]
    return org.legal.removesuffix(org.form) + other


def _english(world: World, org: Org) -> str:
    trade = "".join(PINYIN[ch] for ch in org.trade).title()
    city = org.city.pinyin.title()
    if world.chance(0.25):
        return world.rng.choice([trade, trade.lower(), f"{trade} {org.industry.english}"])
    if org.pattern == "bracket":
        return f"{trade} {org.industry.english} ({city}) Co., Ltd."
    head = f"{city} " if org.pattern == "prefix" else ""
    return f"{head}{trade} {org.industry.english} Co., Ltd."


def _shorts(org: Org) -> tuple[str, ...]:
    return org.trade, org.trade + org.industry.word[:2], org.core


def spellings(org: Org) -> dict[str, str]:
    """Every Chinese spelling a source may write for ``org``, by variant (typo at either character)."""
    return {
        "full": org.legal,
        "no_suffix": org.legal.removesuffix(org.form),
        "bracket_width": org.legal.replace("（", "(").replace("）", ")"),
        "form_swap": _form_swap(org),
        "city_form": _city_form(org),
        "spaced": _spaced(org),
        "drop_region": org.core + org.form,
        "typo0": _typo(org, 0),
        "typo1": _typo(org, 1),
    }


def index_spellings(world: World) -> None:
    """Which firms each spelling could mean; a spelling names a firm only if it could mean no other."""
    for org in world.orgs:
        for text in (*spellings(org).values(), *_shorts(org)):
            world.spellings.setdefault(spelling_key(text), set()).add(org.oid)


def company_text(world: World, org: Org, variant: str) -> tuple[str, bool]:
    """A spelling of ``org``'s name and whether it names exactly that firm."""
    if variant == "short":
        return world.rng.choice(_shorts(org)), False
    if variant == "english":
        return (_english(world, org), False) if org.english else (org.legal, _names(world, org, org.legal))
    if variant == "typo":
        variant += world.rng.choice("01")
    text = spellings(org)[variant]
    return text, _names(world, org, text)


def _names(world: World, org: Org, text: str) -> bool:
    return world.spellings.get(spelling_key(text)) == {org.oid}


IDENTIFYING = ("full", "no_suffix", "bracket_width", "form_swap", "city_form", "spaced")
COMPANY_STYLES = {
    "excel": {"full": 25, "no_suffix": 20, "short": 18, "drop_region": 10, "typo": 7, "city_form": 5,
              "bracket_width": 5, "form_swap": 5, "spaced": 5},
    "webform": {"full": 30, "no_suffix": 18, "short": 12, "drop_region": 10, "typo": 8, "english": 7,
                "form_swap": 5, "bracket_width": 5, "spaced": 5},
    "orders": {"full": 80, "bracket_width": 10, "form_swap": 5, "no_suffix": 5},
    "wecom": {"short": 50, "no_suffix": 25, "full": 25},
}  # fmt: skip


# --------------------------------------------------------------------------- persons


def _name(world: World) -> tuple[str, str, str]:
    """(full name, surname, gender)."""
    if world.chance(0.14):
        token = world.rng.choice(COMMON_NAMES)
        return token[:-1], token[0], token[-1]
    surname = world.rng.choices([s for s, _ in SURNAME_LIST], SURNAME_WEIGHTS)[0]
    gender = "M" if world.chance(0.5) else "F"
    pool = MALE if gender == "M" else FEMALE
    given = "".join(ch for ch, _ in world.rng.sample(pool, 1 if world.chance(0.35) else 2))
    return surname + given, surname, gender


def _romanise(name: str, surname: str) -> tuple[str, str]:
    return PINYIN[surname], "".join(PINYIN[ch] for ch in name[len(surname) :])


def _personal_email(world: World, name: str, surname: str, english: str | None) -> str:
    family, given = _romanise(name, surname)
    domain = world.pick(PERSONAL_DOMAINS)

    def make() -> str:
        if domain == "qq.com":
            return f"{world.rng.randint(10**5, 3 * 10**9)}@qq.com"
        local = world.rng.choice(
            [family + given, given + family, f"{family}{given}{world.rng.randint(1, 99)}", f"{family}_{given}"]
        )
        if english and world.chance(0.3):
            local = f"{english.lower()}{family}{world.rng.randint(1, 999)}"
        return f"{local}@{domain}"

    return world.fresh(make)


def _corporate_email(world: World, person: Person, org: Org) -> str:
    family, given = _romanise(person.name, person.surname)
    styles = [family + given, f"{family}.{given}", f"{given}.{family}", family + given[0], given[0] + family]
    if person.english:
        styles.append(f"{person.english.lower()}.{family}")
    local = world.rng.choice(styles)
    if f"{local}@{org.domain}" not in world.taken:
        world.taken.add(f"{local}@{org.domain}")
        return f"{local}@{org.domain}"
    return world.fresh(lambda: f"{local}{world.rng.randint(2, 99)}@{org.domain}")


def _nickname(world: World, name: str) -> str:
    given = name[-1]
    options = [
        world.rng.choice(NICKNAMES),
        given + given,
        "小" + given,
        world.rng.choice(NICKNAMES) + world.rng.choice(EMOJI),
    ]
    return world.rng.choice(options)


def _home_address(world: World, city: City) -> str:
    rng = world.rng
    return (
        f"{city.name}市{rng.choice(city.districts)}{rng.choice(ROADS)}路{rng.randint(1, 2000)}弄"
        f"{rng.randint(1, 40)}号{rng.randint(101, 2502)}室"
    )


def record_count(world: World) -> int:
    bucket = world.pick([(1, 42), (2, 24), (3, 15), (4, 8), (5, 4), (6, 5), (10, 2)])
    if bucket == 6:
        return world.rng.randint(6, 9)
    return world.rng.randint(10, 20) if bucket == 10 else bucket


def make_person(world: World, pid: str, city: City, org: Org | None = None) -> Person:
    """A person in ``city``, maybe a contact of ``org`` (full names are unique inside a firm)."""
    while True:
        name, surname, gender = _name(world)
        if org is None or name not in world.members[org.oid]:
            break
    english = world.rng.choice(ENGLISH_NAMES) if world.chance(0.25) else None
    person = Person(
        pid=pid,
        name=name,
        surname=surname,
        gender=gender,
        city=city,
        mobiles=(world.mobile(), world.mobile()) if world.chance(0.08) else (world.mobile(),),
        email=_personal_email(world, name, surname, english) if world.chance(0.55) else None,
        unionid=world.token("o", 27) if world.chance(0.9) else None,
        wecom=world.token("wm", 30),
        nickname=_nickname(world, name),
        english=english,
        address=_home_address(world, city),
        count=record_count(world),
    )
    if org is not None:
        join_firm(world, person, org)
    return person


def join_firm(world: World, person: Person, org: Org) -> None:
    """Start a stint at ``org``."""
    email = _corporate_email(world, person, org) if world.chance(0.75) else None
    person.stints.append(Stint(org, email, f"{world.rng.randint(100, 8999)}"))
    world.members[org.oid].add(person.name)


def firm_people(world: World, orgs: list[Org], next_pid: int) -> list[Person]:
    """Contacts for each firm of a family."""
    people: list[Person] = []
    for org in orgs:
        size = world.pick([(1, 40), (2, 20), (3, 25), (6, 12), (16, 3)])
        size = {3: world.rng.randint(3, 5), 6: world.rng.randint(6, 15), 16: world.rng.randint(16, 40)}.get(size, size)
        for _ in range(size):
            city = org.city if world.chance(0.9) else world.city()
            people.append(make_person(world, f"p{next_pid + len(people):06d}", city, org))
    return people


def consumers(world: World, next_pid: int) -> list[Person]:
    """One consumer, or a household of two sharing a home landline and address."""
    city = world.city()
    first = make_person(world, f"p{next_pid:06d}", city)
    if not world.chance(0.18):
        return [first]
    second = make_person(world, f"p{next_pid + 1:06d}", city)
    home = (city.area, world.fresh(lambda: f"{world.rng.randint(2, 8)}{world.rng.randrange(10**7):07d}"))
    first.home = second.home = home
    second.address = first.address
    return [first, second]


def change_job(world: World, person: Person) -> None:
    """A second stint at another firm that has nobody of the same name."""
    current = person.stints[0].org
    while True:
        other = world.rng.choice(world.orgs)
        if other is not current and person.name not in world.members[other.oid]:
            join_firm(world, person, other)
            return


# --------------------------------------------------------------------------- renderings


def mobile_text(world: World, mobile: str, style: str) -> str:
    """A mobile as a given touchpoint writes it."""
    m = mobile
    spaced = f"{m[:3]} {m[3:7]} {m[7:]}"
    forms = {
        "plain": m,
        "spaced": spaced,
        "dashed": f"{m[:3]}-{m[3:7]}-{m[7:]}",
        "+86": "+86" + m,
        "+86 spaced": "+86 " + spaced,
        "0086": world.rng.choice(["0086", "0086-", "0086 "]) + m,
        "86": world.rng.choice(["86", "86-", "(86)"]) + m,
        "(+86)": "(+86)" + m,
        "full-width": m.translate(FULL_WIDTH),
        "label": world.rng.choice(["手机:", "手机：", "手机号:", "电话：", "Mobile: ", "手机 "]) + m,
    }
    return forms[world.pick(list(MOBILE_STYLES[style].items()))]


MOBILE_STYLES: dict[str, dict[str, float]] = {
    "excel": {"plain": 50, "spaced": 10, "dashed": 8, "+86": 4, "0086": 3, "86": 4, "full-width": 6, "label": 15},
    "wecom": {"plain": 60, "spaced": 10, "+86": 10, "86": 5, "full-width": 5, "label": 10},
    "webform": {
        "plain": 65,
        "spaced": 8,
        "dashed": 5,
        "+86": 8,
        "+86 spaced": 5,
        "0086": 3,
        "(+86)": 3,
        "full-width": 3,
    },
    "orders": {"plain": 88, "+86": 6, "86": 3, "dashed": 3},
    "miniprogram": {"+86": 55, "plain": 45},
}


def mistyped(world: World, mobile: str) -> str:
    at = world.rng.randint(3, 10)
    digit = world.rng.choice([d for d in "0123456789" if d != mobile[at]])
    return mobile[:at] + digit + mobile[at + 1 :]


def landline_text(world: World, area: str, number: str, extension: str | None) -> str:
    """A landline (switchboard or home phone), maybe with an extension."""
    forms = [
        f"{area}-{number}",
        f"{area} {number[:4]} {number[4:]}",
        f"({area}){number}",
        area + number,
        f"+86-{area[1:]}-{number}",
        f"0086 {area[1:]} {number}",
        f"总机:{area}-{number}",
    ]
    text = world.rng.choices(forms, [40, 12, 12, 14, 8, 4, 10])[0]
    if extension and world.chance(0.5):
        text += world.rng.choice([f"转{extension}", f"-{extension}", f" ext.{extension}", f"-{extension}#"])
    return text


def email_text(world: World, email: str) -> str:
    local, domain = email.split("@")
    forms = [
        (email, 70),
        (email.upper(), 5),
        (f"{local.title()}@{domain.title()}", 8),
        (f" {email} ", 7),
        (email + "\u3000", 3),
        (f"{local}＠{domain}", 3),
        (f"{local}@{domain.upper()}", 4),
    ]
    return world.pick(forms)


def region_text(world: World, city: City, style: str) -> str:
    """A region column value for ``city`` in the habits of one source."""
    full = city.name + "市" if city.municipality else f"{city.province}省{city.name}市"
    place = city.name if city.municipality else f"{city.province} {city.name}"
    latin = city.pinyin.title() if city.municipality else f"{city.province_pinyin.title()} {city.pinyin.title()}"
    spellings = {
        "free": (city.name, city.name + "市", city.pinyin, city.pinyin.title(), city.abbr, city.code, full),
        "code": (city.code, city.province_code, full, city.name + "市"),
        "dropdown": (city.name, city.name, city.pinyin.title(), city.province),
        "wechat": (city.pinyin.title(), latin, f"China {latin}", f"中国 {place}"),
    }
    options = spellings[style]
    if style == "free":
        options += (city.latin or city.pinyin.upper(), city.province)
    return world.rng.choice(options)


def uscc_text(world: World, code: str) -> tuple[str, bool]:
    """A credit code as typed; False when mistyped (fails the check character)."""
    if world.chance(0.04):
        at = world.rng.randint(8, 16)
        typo = code[:at] + world.rng.choice([c for c in ORG_CODE_ALPHABET if c != code[at]]) + code[at + 1 :]
        if not uscc.is_valid(typo):
            return typo, False
    forms = [
        (code, 82),
        (code.lower(), 5),
        (f" {code} ", 5),
        (f"{code[:8]} {code[8:]}", 4),
        (f"统一社会信用代码:{code}", 4),
    ]
    return world.pick(forms), True


def clear_name(world: World, name: str) -> str:
    """The real name, maybe with a space, an emoji or a compatibility character."""
    roll = world.rng.random()
    if roll < 0.80:
        return name
    if roll < 0.86:
        return name[0] + world.rng.choice([" ", "\u3000"]) + name[1:]
    if roll < 0.91:
        return world.rng.choice([f" {name}", f"{name} ", f"{name}\t"])
    twins = [i for i, ch in enumerate(name) if ch in COMPAT]
    if roll < 0.95 and twins:
        at = world.rng.choice(twins)
        return name[:at] + COMPAT[name[at]] + name[at + 1 :]
    return name + world.rng.choice(EMOJI)


def placeholder(world: World, person: Person) -> str:
    titles = MALE_TITLES if person.gender == "M" else FEMALE_TITLES
    return person.surname + world.pick(titles)


def typo_name(world: World, person: Person) -> str:
    given = person.name[len(person.surname) :]
    slots = [i for i, ch in enumerate(given) if ch in GIVEN_HOMOPHONES]
    if not slots:
        return placeholder(world, person)
    at = world.rng.choice(slots)
    return person.surname + given[:at] + GIVEN_HOMOPHONES[given[at]] + given[at + 1 :]


def name_text(world: World, person: Person, kind: str) -> tuple[str, bool]:
    """(text, is a clear full name)."""
    if kind == "clear":
        return clear_name(world, person.name), True
    if kind == "placeholder":
        return placeholder(world, person), False
    if kind == "typo":
        return typo_name(world, person), False
    if kind == "english" and person.english:
        return world.rng.choice([f"{person.english} {PINYIN[person.surname].title()}", person.english]), False
    nick = person.nickname if world.chance(0.9) else _nickname(world, person.name)
    return nick, False


# --------------------------------------------------------------------------- source builders


def _use_mobile(world: World, draft: Draft, person: Person, style: str, slot: str = "phone") -> str:
    mobile = person.mobiles[0] if len(person.mobiles) == 1 or world.chance(0.6) else person.mobiles[1]
    draft.evidence[slot] = "m:" + mobile
    return mobile_text(world, mobile, style)


def _landline(world: World, person: Person, stint: Stint | None) -> str:
    if stint is not None:
        return landline_text(world, stint.org.city.area, stint.org.switchboard, stint.extension)
    if person.home is not None:
        return landline_text(world, person.home[0], person.home[1], None)
    return ""


def _put_company(world: World, draft: Draft, org: Org, style: str, *, identifying: bool) -> None:
    """A company spelling; with ``identifying`` one that names the firm (or the credit code beside it)."""
    weights = COMPANY_STYLES[style]
    choices = [(v, w) for v, w in weights.items() if v in IDENTIFYING] if identifying else list(weights.items())
    text, names = company_text(world, org, world.pick(choices))
    if identifying and not names:
        text, names = org.legal, _names(world, org, org.legal)
    draft.fields["company"] = text
    draft.evidence.pop("company", None)
    if names:
        draft.evidence["company"] = "c:" + org.oid
        draft.org_evidence = True
    elif identifying:
        draft.fields["credit_code"] = org.uscc
        draft.org_evidence = True


def _put_email(world: World, draft: Draft, person: Person, stint: Stint | None) -> None:
    choices = [e for e in (person.email, stint.email if stint else None) if e]
    if stint is not None and (not choices or world.chance(0.06)):
        draft.fields["email"] = email_text(world, f"{world.rng.choice(ROLE_MAILBOXES)}@{stint.org.domain}")
        return
    if choices:
        email = world.rng.choice(choices)
        draft.fields["email"] = email_text(world, email)
        draft.evidence["email"] = "e:" + email


def _put_credit_code(world: World, draft: Draft, org: Org) -> None:
    text, valid = uscc_text(world, org.uscc)
    draft.fields["credit_code"] = text
    draft.org_evidence = draft.org_evidence or valid


def _put_name(world: World, draft: Draft, person: Person, weights: dict[str, float]) -> None:
    text, clear = name_text(world, person, world.pick(list(weights.items())))
    draft.fields["name"] = text
    draft.name_clear = clear


def _excel_name_phone(world: World, draft: Draft, person: Person, stint: Stint | None) -> None:
    if world.chance(0.08):
        sep = world.rng.choice([" ", "/", "，", "", "  "])
        draft.fields["name"] = clear_name(world, person.name) + sep + _use_mobile(world, draft, person, "excel", "name")
        draft.name_clear = True
        draft.fields["phone"] = _landline(world, person, stint) if world.chance(0.3) else ""
        return
    _put_name(world, draft, person, {"clear": 62, "placeholder": 18, "typo": 6, "nickname": 2})
    roll = world.rng.random()
    if roll < 0.65 and world.chance(0.015):
        draft.fields["phone"] = mistyped(world, person.mobiles[0])
    elif roll < 0.65:
        draft.fields["phone"] = _use_mobile(world, draft, person, "excel")
    elif roll < 0.83:
        draft.fields["phone"] = _landline(world, person, stint)
    elif roll < 0.88:
        draft.fields["phone"] = _use_mobile(world, draft, person, "excel") + " / " + _landline(world, person, stint)


def build_excel(world: World, person: Person, stint: Stint | None, first: bool) -> Draft:
    """A row of a rep's spreadsheet: every column present, blanks as ""."""
    draft = Draft("excel", dict.fromkeys(EXCEL_COLUMNS, ""))
    _excel_name_phone(world, draft, person, stint)
    if stint is not None and (first or world.chance(0.92)):
        _put_company(world, draft, stint.org, "excel", identifying=first)
    if world.chance(0.25):
        _put_email(world, draft, person, stint)
    if world.chance(0.65):
        draft.fields["region"] = region_text(world, stint.org.city if stint else person.city, "free")
    if stint is not None and world.chance(0.45):
        draft.fields["industry"] = world.rng.choice(stint.org.industry.labels)
    if world.chance(0.2):
        draft.fields["address"] = stint.org.address if stint else person.address
    if stint is not None and world.chance(0.06):
        _put_credit_code(world, draft, stint.org)
    return draft


def build_wecom(world: World, person: Person, stint: Stint | None, first: bool) -> Draft:
    """A WeCom external-contact export row."""
    draft = Draft("wecom", {"wecom_external_userid": person.wecom}, {"wecom": "w:" + person.wecom})
    if person.unionid and world.chance(0.65):
        draft.fields["unionid"] = person.unionid
        draft.evidence["unionid"] = "u:" + person.unionid
    _wecom_name(world, draft, person, stint)
    if stint is not None and (first or world.chance(0.5)):
        _put_company(world, draft, stint.org, "wecom", identifying=first)
    if world.chance(0.3):
        draft.fields["phone"] = _use_mobile(world, draft, person, "wecom")
    if world.chance(0.05):
        _put_email(world, draft, person, stint)
    if world.chance(0.35):
        draft.fields["region"] = region_text(world, person.city, "wechat")
    return draft


def _wecom_name(world: World, draft: Draft, person: Person, stint: Stint | None) -> None:
    if stint is not None and world.chance(0.15):
        short = stint.org.trade + world.rng.choice(["", stint.org.industry.word[:2]])
        remark = world.rng.choice([f"{person.name}-{short}", f"{short} {person.name}", f"{short}{person.surname}总"])
        draft.fields["name"] = remark
        draft.name_clear = False  # a remark is a rep's note, not a name field to compare
        return
    _put_name(world, draft, person, {"nickname": 55, "clear": 33, "placeholder": 6, "english": 6})


def build_webform(world: World, person: Person, stint: Stint | None, first: bool) -> Draft:
    """A landing-page form submission."""
    draft = Draft("webform", {})
    _put_name(world, draft, person, {"clear": 72, "placeholder": 10, "typo": 6, "english": 6, "nickname": 6})
    roll = world.rng.random()
    if roll < 0.88:
        draft.fields["phone"] = _use_mobile(world, draft, person, "webform")
    elif roll < 0.93 and stint is not None:
        draft.fields["phone"] = _landline(world, person, stint)
    if world.chance(0.65):
        _put_email(world, draft, person, stint)
    if stint is not None and (first or world.chance(0.9)):
        _put_company(world, draft, stint.org, "webform", identifying=first)
    if world.chance(0.8):
        draft.fields["region"] = region_text(world, stint.org.city if stint else person.city, "dropdown")
    if stint is not None and world.chance(0.7):
        draft.fields["industry"] = world.rng.choice(stint.org.industry.labels)
    return draft


def build_orders(world: World, person: Person, stint: Stint | None, first: bool) -> Draft:
    """An order-system export row (consignee, address, invoice title)."""
    draft = Draft("orders", {})
    _put_name(world, draft, person, {"clear": 82, "placeholder": 10, "nickname": 5, "typo": 3})
    if stint is None and world.chance(0.08):
        m = person.mobiles[0]
        draft.fields["phone"] = f"{m[:3]}****{m[7:]}"
    elif stint is not None and world.chance(0.15):
        draft.fields["phone"] = _landline(world, person, stint)
    else:
        draft.fields["phone"] = _use_mobile(world, draft, person, "orders")
    at_office = stint is not None and world.chance(0.7)
    city = stint.org.city if stint is not None and at_office else person.city
    if world.chance(0.92):
        draft.fields["address"] = stint.org.address if stint is not None and at_office else person.address
    if world.chance(0.9):
        draft.fields["region"] = region_text(world, city, "code")
    if stint is not None and (first or world.chance(0.55)):
        _put_company(world, draft, stint.org, "orders", identifying=first)
        if world.chance(0.65):
            _put_credit_code(world, draft, stint.org)
    if world.chance(0.2):
        _put_email(world, draft, person, stint)
    if person.unionid and world.chance(0.25):
        draft.fields["unionid"] = person.unionid
        draft.evidence["unionid"] = "u:" + person.unionid
    return draft


def build_miniprogram(world: World, person: Person, stint: Stint | None, first: bool) -> Draft:
    """A WeChat mini-program member (only for WeChat users)."""
    unionid = person.unionid or ""
    draft = Draft("miniprogram", {"unionid": unionid}, {"unionid": "u:" + unionid})
    _put_name(world, draft, person, {"nickname": 75, "clear": 25})
    if world.chance(0.55):
        draft.fields["phone"] = _use_mobile(world, draft, person, "miniprogram")
    if world.chance(0.4):
        draft.fields["region"] = region_text(world, person.city, "wechat")
    return draft


BUILDERS: dict[str, Callable[[World, Person, Stint | None, bool], Draft]] = {
    "excel": build_excel,
    "wecom": build_wecom,
    "webform": build_webform,
    "orders": build_orders,
    "miniprogram": build_miniprogram,
}
B2B_SOURCES = (("excel", 34), ("wecom", 26), ("webform", 20), ("orders", 14), ("miniprogram", 6))
CONSUMER_SOURCES = (("orders", 34), ("miniprogram", 26), ("wecom", 18), ("webform", 16), ("excel", 6))
CARRIES = {"excel": "men", "webform": "men", "orders": "muen", "wecom": "wumen", "miniprogram": "mu"}
SLOTS = {"m": "phone", "u": "unionid", "w": "wecom", "e": "email"}
FIELDS = {"m": "phone", "u": "unionid", "w": "wecom_external_userid", "e": "email"}


def choose_source(world: World, person: Person, stint: Stint | None, first: bool) -> str:
    """A touchpoint; the mini-program only for WeChat users and never to introduce a firm."""
    weights = B2B_SOURCES if stint is not None else CONSUMER_SOURCES
    return world.pick([(s, w) for s, w in weights if s != "miniprogram" or (person.unionid and not first)])


# --------------------------------------------------------------------------- evidence


def keys(draft: Draft, person: Person, stint: Stint | None) -> list[str]:
    """Evidence keys of a draft: identifiers, and the clear full name at a firm the record names."""
    out = sorted({k for slot, k in draft.evidence.items() if slot != "company"})
    if draft.name_clear and stint is not None and draft.org_evidence:
        out.append(f"n:{person.name}|{stint.org.oid}")
    return out


def apply_key(world: World, draft: Draft, person: Person, stint: Stint | None, key: str) -> None:
    """Write the identifier behind ``key`` onto the draft (replacing what that field held)."""
    kind, value = key[0], key[2:]
    if kind == "n":
        assert stint is not None
        draft.fields["name"] = clear_name(world, person.name)
        draft.name_clear = True
        _put_company(world, draft, stint.org, draft.source, identifying=True)
        return
    text = {"m": lambda: mobile_text(world, value, draft.source), "e": lambda: email_text(world, value)}
    draft.fields[FIELDS[kind]] = text[kind]() if kind in text else value
    draft.evidence[SLOTS[kind]] = key


def _usable(key: str, source: str, stint: Stint | None) -> bool:
    if key[0] == "n":
        return stint is not None and key.endswith("|" + stint.org.oid) and "n" in CARRIES[source]
    return key[0] in CARRIES[source]


def link(world: World, drafts: list[Draft], person: Person, stints: list[Stint | None]) -> None:
    """Make the last draft share evidence with an earlier one (and the first carry an identifier)."""
    draft, stint = drafts[-1], stints[-1]
    own = keys(draft, person, stint)
    if len(drafts) == 1:
        if not any(k[0] in "muwe" for k in own):
            apply_key(world, draft, person, stint, "m:" + person.mobiles[0])
        return
    prior = sorted({k for d, s in zip(drafts[:-1], stints[:-1], strict=True) for k in keys(d, person, s)})
    if set(own) & set(prior):
        return
    usable = [k for k in prior if _usable(k, draft.source, stint)]
    world.rng.shuffle(usable)
    for key in usable:
        apply_key(world, draft, person, stint, key)
        if set(keys(draft, person, stint)) & set(prior):
            return
    # no earlier record holds a mobile (it would be usable), so the first record's phone cell is free
    primary = "m:" + person.mobiles[0]
    apply_key(world, draft, person, stint, primary)
    if primary not in keys(drafts[0], person, stints[0]):
        apply_key(world, drafts[0], person, stints[0], primary)


# --------------------------------------------------------------------------- assembly


def _timestamps(world: World, count: int) -> list[str]:
    stamps = sorted(world.rng.randrange(SPAN_SECONDS) for _ in range(count))
    return [(START + timedelta(seconds=s)).isoformat() for s in stamps]


def _stint_per_record(world: World, person: Person) -> list[Stint | None]:
    count = person.count
    if person.stints and count >= 3 and world.chance(0.06):
        change_job(world, person)
    if not person.stints:
        return [None] * count
    cut = world.rng.randint(1, count - 1) if len(person.stints) > 1 else count
    return [person.stints[0] if i < cut else person.stints[-1] for i in range(count)]


def person_records(world: World, person: Person) -> list[HoldoutRecord]:
    """All records of one person, linked by construction."""
    stints = _stint_per_record(world, person)
    drafts: list[Draft] = []
    for i, stint in enumerate(stints):
        first = stint is not None and (i == 0 or stints[i - 1] is not stint)
        drafts.append(BUILDERS[choose_source(world, person, stint, first)](world, person, stint, first))
        if len(stints) > 1:
            link(world, drafts, person, stints[: i + 1])
    stamps = _timestamps(world, len(stints))
    return [_finish(d, person, s, at) for d, s, at in zip(drafts, stints, stamps, strict=True)]


def _finish(draft: Draft, person: Person, stint: Stint | None, observed_at: str) -> HoldoutRecord:
    row = {"record_id": "", "source": draft.source, **draft.fields, "observed_at": observed_at}
    return HoldoutRecord(
        row=row,
        person=person.pid,
        account=stint.org.oid if stint else None,
        junk=False,
        evidence=tuple(keys(draft, person, stint)),
        org_evidence=draft.org_evidence,
    )


def junk_record(world: World, index: int) -> HoldoutRecord:
    """A staff test or placeholder row: its own person, no account."""
    rng = world.rng
    source = world.pick([("webform", 30), ("excel", 25), ("orders", 20), ("miniprogram", 15), ("wecom", 10)])
    markers = set(rng.sample(["name", "company", "phone"], world.pick([(1, 65), (2, 30), (3, 5)])))
    if world.chance(0.25):
        markers.add("email")  # a placeholder e-mail alone could be a real lead's; only beside another marker
    fields = dict.fromkeys(EXCEL_COLUMNS, "") if source == "excel" else {}
    fields["name"] = rng.choice(JUNK_NAMES) if "name" in markers else _junk_plain_name(world)
    fields["phone"] = _junk_phone(world, marked="phone" in markers)
    if "company" in markers:
        fields["company"] = rng.choice(JUNK_COMPANIES)
    elif world.chance(0.1):
        fields["company"] = rng.choice(world.orgs).trade
    if "email" in markers:
        fields["email"] = rng.choice(JUNK_EMAILS)
    if source in ("miniprogram", "wecom"):
        fields["unionid"] = rng.choice(world.staff_unionids) if world.chance(0.5) else world.token("o", 27)
    if source == "wecom":
        fields["wecom_external_userid"] = world.token("wm", 30)
    if world.chance(0.4):
        fields["region"] = region_text(world, world.city(), "free")
    row = {"record_id": "", "source": source, **fields, "observed_at": _timestamps(world, 1)[0]}
    return HoldoutRecord(row, f"junk{index:05d}", None, True, (), False)


def _junk_plain_name(world: World) -> str:
    name, surname, gender = _name(world)
    if world.chance(0.3):
        return surname + ("先生" if gender == "M" else "女士")
    return name


def _junk_phone(world: World, *, marked: bool) -> str:
    if marked:
        return world.rng.choice(JUNK_PHONES)
    roll = world.rng.random()
    if roll < 0.3:
        return world.rng.choice(world.staff_mobiles)
    return world.mobile() if roll < 0.8 else ""


def build_world(world: World, target: int) -> list[Person]:
    """Firm families and consumers until their planned records reach ``target``; then index spellings."""
    people: list[Person] = []
    planned = 0
    while planned < target:
        unit = (
            firm_people(world, org_family(world), len(people))
            if world.chance(B2B_FAMILY_SHARE)
            else consumers(world, len(people))
        )
        people.extend(unit)
        planned += sum(p.count for p in unit)
    index_spellings(world)
    return people


def generate(records: int, seed: int) -> list[HoldoutRecord]:
    """``records`` labelled records, shuffled, with record ids."""
    world = World(seed)
    junk = round(records * JUNK_SHARE)
    out: list[HoldoutRecord] = []
    for person in build_world(world, records - junk):
        out.extend(person_records(world, person))
    out = out[: records - junk] + [junk_record(world, i) for i in range(junk)]
    world.rng.shuffle(out)
    prefix = {"excel": "XL", "wecom": "WC", "webform": "WF", "orders": "OD", "miniprogram": "MP"}
    for number, record in enumerate(out, 1):
        record.row["record_id"] = f"{prefix[record.row['source']]}{number:07d}"
    return out


# --------------------------------------------------------------------------- checks and main


def _connected(evidence: list[tuple[str, ...]]) -> bool:
    """Whether records (as evidence-key tuples) form one component when they share a key."""
    reached, frontier = {0}, [0]
    while frontier:
        here = set(evidence[frontier.pop()])
        for index, other in enumerate(evidence):
            if index not in reached and here & set(other):
                reached.add(index)
                frontier.append(index)
    return len(reached) == len(evidence)


def _person_problems(person: str, group: list[HoldoutRecord]) -> list[str]:
    problems = []
    if any(r.junk for r in group) and (len(group) > 1 or group[0].account is not None):
        problems.append(f"junk {person} not alone or has an account")
    if len(group) > 1 and not _connected([r.evidence for r in group]):
        problems.append(f"person {person}: records share no evidence chain")
    for account in sorted({r.account for r in group if r.account is not None}):
        if not any(r.org_evidence for r in group if r.account == account):
            problems.append(f"person {person}: firm {account} never named")
    return problems


def verify(records: Sequence[HoldoutRecord]) -> list[str]:
    """Label problems: junk with a partner or account, persons not linked, firms never named, shared keys."""
    by_person: dict[str, list[HoldoutRecord]] = {}
    owners: dict[str, set[str]] = {}
    for record in records:
        by_person.setdefault(record.person, []).append(record)
        for key in record.evidence:
            owners.setdefault(key, set()).add(record.person)
    problems = [p for person, group in by_person.items() for p in _person_problems(person, group)]
    problems += [f"evidence {key} shared by {len(who)} persons" for key, who in owners.items() if len(who) > 1]
    return problems


def describe(records: Sequence[HoldoutRecord]) -> dict[str, Any]:
    """Composition of a generated set (for a quick look)."""
    persons = Counter(r.person for r in records if not r.junk)
    return {
        "records": len(records),
        "junk": sum(r.junk for r in records),
        "persons": len(persons),
        "multi_record_persons": sum(1 for n in persons.values() if n > 1),
        "accounts": len({r.account for r in records if r.account}),
        "b2b_records": sum(1 for r in records if r.account),
        "sources": dict(Counter(r.row["source"] for r in records).most_common()),
    }


def main() -> None:
    """Generate the hold-out set, check its labels, run both engines, print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=20250)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    args = parser.parse_args()
    records = generate(args.records, args.seed)
    problems = verify(records)
    if problems:
        sys.exit("label problems:\n" + "\n".join(problems[:20]))
    results: list[Any] = [identity_quality.run_ours(records, DATASET)]
    if not args.no_splink:
        results.append(identity_quality.run_splink(records, DATASET, SPLINK_THRESHOLD))
    identity_quality.print_results(results, as_json=args.json)


if __name__ == "__main__":
    main()
