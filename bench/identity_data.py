"""Labelled synthetic customer records with the seeds' dirt, for identity-quality benchmarks.

Every record carries its true person id, true account id (None for a consumer or junk) and
a junk label. The dirt follows seed 002 §客户数据混乱 and what upstream touchpoints send:

* phones as '+86 138-1234-5678', '0086…', full-width digits, spaces; company switchboards
  ('021-6437 0045', '… 转 8001') shared by colleagues, who must stay apart;
* namesakes (same name, different people), placeholders ('周先生', '王总'), WeChat
  decorations ('🌸张伟🌸', 'A-张伟-销售部'), nicknames, traditional characters, pinyin, one-char typos;
* companies written 上海XX科技有限公司 / XX科技(上海)有限公司 / 上海市…, legal-form variants
  (有限公司 / 有限责任公司, 股份有限公司 / 股份公司), typos, traditional characters, pinyin and
  English renderings; sibling companies with one trade name in other provinces (other accounts);
  hospitals without a legal form;
* identifiers only on some touchpoints (unionid on mini-program rows, WeCom external id on
  WeCom rows, e-mail on forms);
* junk: 测试 / test / demo names and companies, 13800000000, 12345678901, repeated digits,
  test@ e-mails — and real companies whose trade includes 测试 ('软件测试'), which are not junk.

Two styles: :data:`DEV` (tuning) and :data:`HELD_OUT` (other surnames, given names, trade
names, cities and proportions) — the held-out set is never looked at while tuning.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

COMMON_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
TRADITIONAL = str.maketrans(
    "伟丽军刚华兰杨陈刘赵吴孙马郭罗东书龙云开电发业务网医药贸实丰进远达运长门乐宁",
    "偉麗軍剛華蘭楊陳劉趙吳孫馬郭羅東書龍雲開電發業務網醫藥貿實豐進遠達運長門樂寧",
)
# Characters a tired typist swaps in (one-character typos).
TYPO = {"伟": "玮", "华": "化", "明": "名", "信": "新", "科": "料", "技": "枝", "远": "源", "丽": "莉", "军": "君"}
INDUSTRY_EN = {
    "科技": "Technology",
    "贸易": "Trading",
    "医疗器械": "Medical Devices",
    "信息技术": "Information Technology",
    "物流": "Logistics",
    "生物医药": "Biopharma",
    "软件测试": "Software Testing",
    "电子": "Electronics",
    "建材": "Building Materials",
    "食品": "Food",
}
CITY_PINYIN = {
    "上海": ("shanghai", "021"),
    "北京": ("beijing", "010"),
    "广州": ("guangzhou", "020"),
    "深圳": ("shenzhen", "0755"),
    "杭州": ("hangzhou", "0571"),
    "成都": ("chengdu", "028"),
    "南京": ("nanjing", "025"),
    "武汉": ("wuhan", "027"),
    "西安": ("xian", "029"),
    "天津": ("tianjin", "022"),
}
NICKNAMES = ["阳光男孩", "快乐每一天", "静待花开", "追梦人", "Lucky", "小太阳", "一路向北", "岁月静好"]
TITLES = ["先生", "女士", "总", "经理"]
MOBILE_PREFIXES = ["130", "131", "135", "136", "137", "139", "150", "151", "158", "159", "177", "186", "188", "199"]
SOURCES = ("miniprogram", "wecom", "order", "form")


@dataclass(frozen=True)
class Style:
    """Vocabulary and proportions of one generated population."""

    name: str
    surnames: str
    given: str
    trades: tuple[str, ...]
    industries: tuple[str, ...]
    cities: tuple[str, ...]
    company_share: float  # persons who work for an organisation
    colleagues: float  # mean extra persons per account
    sibling_share: float  # accounts that reuse a trade name in another city
    hospital_share: float
    namesake_share: float  # persons who take an existing person's name
    junk_share: float
    typo_share: float
    traditional_share: float
    latin_company_share: float
    switchboard_share: float
    nickname_share: float
    placeholder_share: float


DEV = Style(
    name="dev",
    surnames=COMMON_SURNAMES,
    given="伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰",
    trades=("华信", "博远", "恒通", "中科", "瑞丰", "天成", "新锐", "远航", "同创", "嘉和", "金石", "云帆"),
    industries=("科技", "贸易", "医疗器械", "信息技术", "物流", "生物医药", "软件测试"),
    cities=("上海", "北京", "广州", "深圳", "杭州", "成都"),
    company_share=0.7,
    colleagues=2.0,
    sibling_share=0.25,
    hospital_share=0.08,
    namesake_share=0.05,
    junk_share=0.04,
    typo_share=0.06,
    traditional_share=0.12,
    latin_company_share=0.06,
    switchboard_share=0.15,
    nickname_share=0.06,
    placeholder_share=0.08,
)
HELD_OUT = Style(
    name="held-out",
    surnames="郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁欧阳司马",
    given="子涵欣怡梓萱浩宇俊杰嘉怡思远宇轩雨桐晨曦一鸣佳琪志强海燕国栋",
    trades=("长风", "达实", "鼎盛", "汇通", "联创", "明德", "启航", "盛世", "东方", "宏业", "星辰", "宁远"),
    industries=("电子", "建材", "食品", "物流", "科技", "医疗器械", "软件测试"),
    cities=("南京", "武汉", "西安", "天津", "上海", "杭州", "深圳"),
    company_share=0.55,
    colleagues=3.0,
    sibling_share=0.35,
    hospital_share=0.12,
    namesake_share=0.09,
    junk_share=0.07,
    typo_share=0.1,
    traditional_share=0.2,
    latin_company_share=0.1,
    switchboard_share=0.25,
    nickname_share=0.1,
    placeholder_share=0.12,
)
STYLES = {style.name: style for style in (DEV, HELD_OUT)}


@dataclass(frozen=True)
class Labelled:
    """One record (raw fields, as ``crm dedupe`` reads them) and its true labels."""

    row: dict[str, str]
    person: str
    account: str | None
    junk: bool


@dataclass(frozen=True)
class _Account:
    id: str
    city: str
    trade: str
    industry: str
    legal_form: str  # "" for a hospital
    switchboard: str
    domain: str


@dataclass(frozen=True)
class _Person:
    id: str
    name: str
    mobile: str
    unionid: str
    wecom: str
    email: str
    account: _Account | None
    extension: str


def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(word.capitalize() for word in lazy_pinyin(text))


def _typo(rng: random.Random, text: str) -> str:
    spots = [i for i, ch in enumerate(text) if ch in TYPO]
    if not spots:
        return text
    i = rng.choice(spots)
    return text[:i] + TYPO[text[i]] + text[i + 1 :]


def _mobile_variant(rng: random.Random, mobile: str) -> str:
    full_width = mobile.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return rng.choice(
        [
            mobile,
            mobile,
            f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
            f"0086{mobile}",
            f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
            f"+86{mobile}",
            full_width,
            f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        ]
    )


def _company_text(rng: random.Random, style: Style, account: _Account) -> str:
    """One way a rep or a form writes the account's name."""
    city, core = account.city, account.trade + account.industry
    if not account.legal_form:  # a hospital: 上海市第六人民医院 and friends
        return rng.choice([f"{city}市{core}", f"{city}{core}", f"{core}（{city}）", f"{city}{core}"])
    if rng.random() < style.latin_company_share:
        pinyin_city = CITY_PINYIN[city][0].capitalize()
        if rng.random() < 0.5:
            return f"{pinyin_city} {_pinyin(account.trade)} {INDUSTRY_EN[account.industry]} Co., Ltd."
        return f"{pinyin_city} {_pinyin(core)} Co., Ltd."
    forms = {"有限公司": ["有限公司", "有限责任公司"], "股份有限公司": ["股份有限公司", "股份公司"]}
    legal = rng.choice(forms[account.legal_form] + [account.legal_form] * 2)
    if rng.random() < style.typo_share:
        core = _typo(rng, core)
    text = rng.choice(
        [f"{city}{core}{legal}", f"{core}（{city}）{legal}", f"{city}市{core}{legal}", f"{core}({city}){legal}"]
    )
    if rng.random() < style.traditional_share:
        text = text.translate(TRADITIONAL)
    return text


def _name_text(rng: random.Random, style: Style, name: str) -> str:
    """One way a touchpoint shows the person's name."""
    roll = rng.random()
    if roll < style.placeholder_share:
        return name[0] + rng.choice(TITLES) if not name.startswith(("欧阳", "司马")) else name[:2] + "先生"
    roll -= style.placeholder_share
    if roll < style.nickname_share:
        return rng.choice(NICKNAMES)
    roll -= style.nickname_share
    if roll < style.typo_share:
        return _typo(rng, name)
    roll -= style.typo_share
    if roll < style.traditional_share:
        return name.translate(TRADITIONAL)
    return rng.choice(
        [name, name, name, f"🌸{name}🌸", f"A-{name}-销售部", f"{name}（华东区）", f"{name} ", f"AAA{name}"]
    )


def _junk(rng: random.Random, real_mobile: str) -> dict[str, str]:
    return rng.choice(
        [
            {"name": "测试", "phone": real_mobile},
            {"name": "test", "phone": real_mobile},
            {"name": "Demo用户", "phone": real_mobile},
            {"name": "张三", "phone": "13800000000"},
            {"name": "李四", "phone": "12345678901"},
            {"name": "王五", "phone": "13333333333"},
            {"name": "赵六", "phone": "18888888888"},
            {"name": "刘先生", "phone": real_mobile, "company": "测试公司"},
            {"name": "陈七", "phone": real_mobile, "email": "test@test.com"},
            {"name": "aaa", "phone": "11111111111"},
        ]
    )


def generate(n: int, style: Style, seed: int) -> list[Labelled]:
    """``n`` labelled records of ``style``; the same ``(n, style, seed)`` gives the same records."""
    rng = random.Random(f"{style.name}:{seed}")
    accounts: list[_Account] = []
    persons: list[_Person] = []
    used_mobiles: set[str] = set()
    taken: set[tuple[str, str, str]] = set()

    def new_mobile() -> str:
        while True:
            mobile = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
            if len(set(mobile[3:])) > 2 and mobile not in used_mobiles:
                used_mobiles.add(mobile)
                return mobile

    def new_account() -> _Account:
        index = len(accounts)
        while True:  # names are unique per registration region: never reuse (city, trade, industry)
            city, legal = rng.choice(style.cities), rng.choice(["有限公司", "有限公司", "股份有限公司"])
            if accounts and rng.random() < style.sibling_share:  # a twin's trade name in another city
                twin = rng.choice(accounts)
                trade, industry, legal = twin.trade, twin.industry, twin.legal_form
            elif rng.random() < style.hospital_share:
                trade, industry, legal = rng.choice(["第一", "第三", "第六", "第九", "中心", "东方"]), "人民医院", ""
            else:
                trade, industry = rng.choice(style.trades) + rng.choice(style.trades)[1], rng.choice(style.industries)
            if (city, trade, industry) not in taken:
                break
        taken.add((city, trade, industry))
        area = CITY_PINYIN[city][1]
        switchboard = f"{area}-{rng.randrange(5, 9)}{rng.randrange(10**6, 10**7)}"[: len(area) + 9]
        domain = f"{_pinyin(trade).replace(' ', '').lower()}{index}.com.cn"
        account = _Account(f"a{index}", city, trade, industry, legal, switchboard, domain)
        accounts.append(account)
        return account

    records: list[Labelled] = []
    while len(records) < n:
        person_index = len(persons)
        pid = f"p{person_index}"
        if rng.random() < style.junk_share:
            row = {"record_id": f"r{len(records):07d}", "source": rng.choice(SOURCES)} | _junk(rng, new_mobile())
            records.append(Labelled(row, f"junk{len(records)}", None, True))
            continue
        if persons and rng.random() < style.namesake_share:
            name = rng.choice(persons).name
        else:
            name = rng.choice(style.surnames) + "".join(rng.choices(style.given, k=rng.choice((1, 2, 2))))
            if name[:2] in ("欧阳", "司马") and len(name) > 4:
                name = name[:3]
        account: _Account | None = None
        if rng.random() < style.company_share:
            colleague = accounts and rng.random() < style.colleagues / (1 + style.colleagues)
            account = rng.choice(accounts) if colleague else new_account()
        email = ""
        if rng.random() < 0.45:
            domain = account.domain if account is not None and rng.random() < 0.6 else rng.choice(["qq.com", "163.com"])
            email = f"u{person_index}x{rng.randrange(1000)}@{domain}"
        person = _Person(
            id=pid,
            name=name,
            mobile=new_mobile(),
            unionid=f"oU{rng.getrandbits(40):010x}" if rng.random() < 0.55 else "",
            wecom=f"wmX{rng.getrandbits(40):010x}" if rng.random() < 0.35 else "",
            email=email,
            account=account,
            extension=str(rng.randrange(8001, 8999)),
        )
        persons.append(person)
        seen: set[tuple[str, str]] = set()
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 5))):
            if len(records) >= n:
                break
            records.append(_touchpoint(rng, style, person, len(records), seen))
    return records


def person_key(person: _Person, key: str) -> str:
    """The person's value of an identifier field."""
    return {"unionid": person.unionid, "wecom_external_userid": person.wecom, "email": person.email}[key]


def _touchpoint(rng: random.Random, style: Style, person: _Person, index: int, seen: set[tuple[str, str]]) -> Labelled:
    """One record of ``person`` as one source sends it: identifiers only where that source has them.

    Every record shares at least one identifier with an earlier record of its person (``seen``),
    so the truth is knowable from the data: no engine is asked to guess between namesakes.
    """
    source = rng.choice(SOURCES)
    row = {"record_id": f"r{index:07d}", "source": source, "name": _name_text(rng, style, person.name)}
    phone_rate = {"miniprogram": 0.6, "wecom": 0.5, "order": 1.0, "form": 0.9}[source]
    if source == "miniprogram" and person.unionid:
        row["unionid"] = person.unionid
    if source == "wecom" and person.wecom:
        row["wecom_external_userid"] = person.wecom
    if person.email and (source == "form" or rng.random() < 0.2):
        row["email"] = person.email.upper() if rng.random() < 0.2 else person.email
    account = person.account
    if account is not None and rng.random() < style.switchboard_share:
        extension = rng.choice(["", f"转{person.extension}", f" ext {person.extension}"])
        row["phone"] = account.switchboard + extension
    elif rng.random() < phone_rate:
        row["phone"] = _mobile_variant(rng, person.mobile)
    first = not seen
    keys = {key: person_key(person, key) for key in ("unionid", "wecom_external_userid", "email") if row.get(key)}
    if "phone" in row and not (account is not None and row["phone"].startswith(account.switchboard)):
        keys["phone"] = person.mobile
    if not seen & keys.items():  # no key shared with an earlier touchpoint: borrow one
        key, value = rng.choice(sorted(seen)) if seen else ("phone", person.mobile)
        row[key] = _mobile_variant(rng, value) if key == "phone" else value
        keys[key] = value
    seen.update(keys.items())
    if account is not None and (first or source in ("form", "wecom", "order") or rng.random() < 0.3):
        row["company"] = _company_text(rng, style, account)
        if rng.random() < 0.5:
            row["region"] = rng.choice([account.city, f"{account.city}市", CITY_PINYIN[account.city][0]])
    row = {key: value for key, value in row.items() if value}
    return Labelled(row, person.id, account.id if account is not None else None, False)
