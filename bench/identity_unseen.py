"""Identity quality on unseen data: an independent labelled generator, scored by ``identity_quality``.

How the data is made. A seeded :class:`random.Random` builds a small world and then writes what
CRM touchpoints would have recorded about it:

* Organisations in 36 cities of 26 provinces / municipalities: companies (``[city]`` + two-character brand +
  trade + legal form), branch families (``华创科技(北京)有限公司`` / ``华创科技(广州)有限公司``,
  one account each, sometimes with a ``股份有限公司`` head office beside them), hospitals,
  schools, factories and street shops. Each has a switchboard number, an address and a valid
  unified social credit code. Contacts per organisation follow a heavy tail.
* People: ~55 % work somewhere (account = that organisation), the rest are consumers (no
  account). Names come from a weighted surname table and given-name characters; 15 % take one of
  the country's most common full names (王伟, 李娜, 张敏 ...), so namesakes occur in many cities
  and firms. Each has a mobile (8 % a second one), often a WeChat unionid, sometimes an e-mail.
* Each person has 1–6 records from distinct sources first (miniprogram, wecom, form, order,
  import), each showing only what that channel sees: unionid on miniprogram/WeCom, the WeCom
  external id on WeCom only, phones on forms/orders, company mostly on WeCom/forms/imports,
  credit codes on some imports.
* Knowable labels: a person's records must form one connected group for a careful human
  (sharing a mobile, unionid, WeCom id or e-mail, or a clearly identical name at the same
  company); a part that would share nothing gets the person's main mobile added. Without
  this, ~half of the true pairs had no evidence at all and recall measured the data, not the
  matcher. Hospitals and schools always keep their city (``儿童医院`` alone names no one).
* Noise, drawn per field per record: phone formats (+86, 0086, 86-, spaces, dashes, full-width
  digits, prefixes/suffixes such as ``tel:`` or ``(微信同号)``); the organisation's switchboard
  instead of a mobile (shared by colleagues); company with/without legal form, with/without a
  leading city, half/full-width brackets, a one-character homophone typo, traditional
  characters, pinyin or English renderings; names as WeChat nicknames, ``张先生``/``王女士``/
  ``李总`` placeholders, emoji, traditional characters, typos, pinyin, inner spaces; regions as
  ``上海``/``上海市``/``shanghai``/``SH``/``沪``/``310000``/``浙江省杭州市``; e-mail case and
  whitespace; empty fields.
* Junk (~5 % of rows): ``测试``/``test``/``demo``/``asdf``/``张三`` names, ``测试公司``-style
  companies, placeholder phones (13800000000, 12345678901, 11111111111, 13333333333, ...) or no
  phone, and some staff tests typed with a real customer's mobile. Every junk row is its own
  person (any merge involving it is a false pair) and has no account.

Labels per row: ``person`` (true customer), ``account`` (true organisation of that person, on
every one of their rows, ``None`` for consumers and junk) and ``junk``. 12 % of contacts live in
another city than their organisation and give that region.

Independence: this module was written from the domain description alone, WITHOUT reading
``bench/identity_data.py`` (the generator the matcher was tuned on) or anything under
``services/customer-master/customer_master/domain/`` (the matcher and its normalisers). Only
``bench/identity_quality.py``'s wiring (row columns, truth attributes, scoring, Splink, table)
was read; its scoring, Splink and table functions give the figures (its ``run_ours`` was split
into ``dedupe_rows`` + scoring so this module can also list the failing pairs).

Run: .venv/bin/python bench/identity_unseen.py [--records N] [--seed S] [--json] [--no-splink]
     [--examples K]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

SOURCES = ("miniprogram", "wecom", "form", "order", "import")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ---------------------------------------------------------------------------------------------
# Geography: name, province, province short name, code, pinyin, letter code, area code, districts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    """One prefecture-level city (or municipality)."""

    name: str
    province: str
    short: str
    code: str
    pinyin: str
    letters: str
    area: str
    districts: tuple[str, ...]

    @property
    def municipality(self) -> bool:
        return self.province == self.name


CITIES: tuple[City, ...] = (
    City("上海", "上海", "沪", "310000", "shanghai", "SH", "021", ("浦东新区", "徐汇区", "闵行区", "静安区")),
    City("北京", "北京", "京", "110000", "beijing", "BJ", "010", ("朝阳区", "海淀区", "丰台区", "东城区")),
    City("天津", "天津", "津", "120000", "tianjin", "TJ", "022", ("和平区", "南开区", "滨海新区")),
    City("重庆", "重庆", "渝", "500000", "chongqing", "CQ", "023", ("渝中区", "江北区", "九龙坡区")),
    City("广州", "广东", "粤", "440100", "guangzhou", "GZ", "020", ("天河区", "越秀区", "番禺区", "白云区")),
    City("深圳", "广东", "粤", "440300", "shenzhen", "SZ", "0755", ("南山区", "福田区", "宝安区", "龙岗区")),
    City("东莞", "广东", "粤", "441900", "dongguan", "DG", "0769", ("长安镇", "虎门镇", "松山湖")),
    City("佛山", "广东", "粤", "440600", "foshan", "FS", "0757", ("南海区", "顺德区", "禅城区")),
    City("杭州", "浙江", "浙", "330100", "hangzhou", "HZ", "0571", ("西湖区", "滨江区", "余杭区", "拱墅区")),
    City("宁波", "浙江", "浙", "330200", "ningbo", "NB", "0574", ("鄞州区", "海曙区", "北仑区")),
    City("温州", "浙江", "浙", "330300", "wenzhou", "WZ", "0577", ("鹿城区", "瓯海区", "龙湾区")),
    City("南京", "江苏", "苏", "320100", "nanjing", "NJ", "025", ("鼓楼区", "玄武区", "江宁区")),
    City("苏州", "江苏", "苏", "320500", "suzhou", "SZ", "0512", ("工业园区", "姑苏区", "吴中区", "昆山")),
    City("无锡", "江苏", "苏", "320200", "wuxi", "WX", "0510", ("梁溪区", "滨湖区", "新吴区")),
    City("成都", "四川", "川", "510100", "chengdu", "CD", "028", ("武侯区", "锦江区", "高新区", "青羊区")),
    City("武汉", "湖北", "鄂", "420100", "wuhan", "WH", "027", ("江汉区", "武昌区", "洪山区")),
    City("西安", "陕西", "陕", "610100", "xian", "XA", "029", ("雁塔区", "碑林区", "未央区")),
    City("长沙", "湖南", "湘", "430100", "changsha", "CS", "0731", ("岳麓区", "芙蓉区", "天心区")),
    City("郑州", "河南", "豫", "410100", "zhengzhou", "ZZ", "0371", ("金水区", "二七区", "郑东新区")),
    City("济南", "山东", "鲁", "370100", "jinan", "JN", "0531", ("历下区", "市中区", "槐荫区")),
    City("青岛", "山东", "鲁", "370200", "qingdao", "QD", "0532", ("市南区", "崂山区", "黄岛区")),
    City("厦门", "福建", "闽", "350200", "xiamen", "XM", "0592", ("思明区", "湖里区", "集美区")),
    City("福州", "福建", "闽", "350100", "fuzhou", "FZ", "0591", ("鼓楼区", "台江区", "仓山区")),
    City("合肥", "安徽", "皖", "340100", "hefei", "HF", "0551", ("蜀山区", "包河区", "庐阳区")),
    City("昆明", "云南", "滇", "530100", "kunming", "KM", "0871", ("五华区", "盘龙区", "官渡区")),
    City("沈阳", "辽宁", "辽", "210100", "shenyang", "SY", "024", ("和平区", "沈河区", "浑南区")),
    City("大连", "辽宁", "辽", "210200", "dalian", "DL", "0411", ("中山区", "沙河口区", "甘井子区")),
    City("哈尔滨", "黑龙江", "黑", "230100", "haerbin", "HRB", "0451", ("南岗区", "道里区", "香坊区")),
    City("南宁", "广西", "桂", "450100", "nanning", "NN", "0771", ("青秀区", "兴宁区", "西乡塘区")),
    City("贵阳", "贵州", "黔", "520100", "guiyang", "GY", "0851", ("南明区", "云岩区", "观山湖区")),
    City("石家庄", "河北", "冀", "130100", "shijiazhuang", "SJZ", "0311", ("长安区", "桥西区", "裕华区")),
    City("太原", "山西", "晋", "140100", "taiyuan", "TY", "0351", ("小店区", "迎泽区", "杏花岭区")),
    City("南昌", "江西", "赣", "360100", "nanchang", "NC", "0791", ("东湖区", "西湖区", "红谷滩区")),
    City("兰州", "甘肃", "甘", "620100", "lanzhou", "LZ", "0931", ("城关区", "七里河区", "安宁区")),
    City("乌鲁木齐", "新疆", "新", "650100", "wulumuqi", "WLMQ", "0991", ("天山区", "沙依巴克区", "新市区")),
    City("海口", "海南", "琼", "460100", "haikou", "HK", "0898", ("龙华区", "美兰区", "秀英区")),
)
# Bigger cities host more of everything.
CITY_WEIGHTS = (
    14,
    12,
    4,
    4,
    8,
    9,
    3,
    3,
    7,
    3,
    2,
    4,
    5,
    2,
    5,
    4,
    3,
    3,
    3,
    2,
    2,
    2,
    2,
    2,
    1,
    2,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
)
PROVINCE_SUFFIX = {"广西": "壮族自治区", "新疆": "维吾尔自治区"}
ROADS = (
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "科技路",
    "长江路",
    "黄河路",
    "新华路",
    "文化路",
    "创业大道",
    "学府路",
    "和平路",
)

# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------

SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 10),
    ("李", "li", 10),
    ("张", "zhang", 9),
    ("刘", "liu", 7),
    ("陈", "chen", 7),
    ("杨", "yang", 5),
    ("黄", "huang", 4),
    ("赵", "zhao", 4),
    ("吴", "wu", 3.5),
    ("周", "zhou", 3.5),
    ("徐", "xu", 3),
    ("孙", "sun", 3),
    ("马", "ma", 2.5),
    ("朱", "zhu", 2.5),
    ("胡", "hu", 2.5),
    ("郭", "guo", 2.5),
    ("何", "he", 2),
    ("林", "lin", 2),
    ("高", "gao", 2),
    ("罗", "luo", 2),
    ("郑", "zheng", 2),
    ("梁", "liang", 1.5),
    ("谢", "xie", 1.5),
    ("宋", "song", 1.5),
    ("唐", "tang", 1.5),
    ("许", "xu", 1.2),
    ("韩", "han", 1.2),
    ("冯", "feng", 1.2),
    ("邓", "deng", 1.2),
    ("曹", "cao", 1),
    ("彭", "peng", 1),
    ("曾", "zeng", 1),
    ("肖", "xiao", 1),
    ("田", "tian", 1),
    ("董", "dong", 1),
    ("袁", "yuan", 1),
    ("潘", "pan", 0.8),
    ("于", "yu", 0.8),
    ("蒋", "jiang", 0.8),
    ("蔡", "cai", 0.8),
    ("余", "yu", 0.8),
    ("杜", "du", 0.8),
    ("叶", "ye", 0.8),
    ("程", "cheng", 0.8),
    ("魏", "wei", 0.7),
    ("苏", "su", 0.7),
    ("吕", "lv", 0.7),
    ("丁", "ding", 0.7),
    ("任", "ren", 0.6),
    ("沈", "shen", 0.6),
    ("姚", "yao", 0.6),
    ("卢", "lu", 0.6),
    ("姜", "jiang", 0.5),
    ("崔", "cui", 0.5),
    ("钟", "zhong", 0.5),
    ("谭", "tan", 0.5),
    ("陆", "lu", 0.5),
    ("汪", "wang", 0.5),
    ("范", "fan", 0.5),
    ("金", "jin", 0.5),
    ("石", "shi", 0.5),
    ("廖", "liao", 0.5),
    ("贾", "jia", 0.4),
    ("夏", "xia", 0.4),
    ("韦", "wei", 0.4),
    ("欧阳", "ouyang", 0.1),
    ("司马", "sima", 0.05),
    ("上官", "shangguan", 0.05),
)
MALE = (
    "伟wei 强qiang 磊lei 军jun 勇yong 杰jie 涛tao 明ming 超chao 斌bin 鹏peng 辉hui 刚gang 华hua 平ping "
    "飞fei 浩hao 宇yu 鑫xin 俊jun 建jian 国guo 志zhi 海hai 东dong 林lin 波bo 峰feng 晨chen 博bo 文wen "
    "瑞rui 凯kai 子zi 轩xuan 然ran 泽ze 航hang 成cheng 龙long"
)
FEMALE = (
    "芳fang 娜na 敏min 静jing 丽li 艳yan 娟juan 霞xia 秀xiu 玲ling 燕yan 红hong 婷ting 雪xue 琳lin 倩qian "
    "颖ying 慧hui 佳jia 欣xin 怡yi 梦meng 晶jing 璐lu 洁jie 萍ping 琴qin 云yun 莉li 悦yue 诗shi 雨yu "
    "涵han 馨xin 月yue 媛yuan 兰lan 蕾lei 薇wei 丹dan"
)
COMMON_FULL = _words(
    "王伟 李娜 张敏 王芳 李静 张伟 刘洋 王静 李强 张丽 王磊 刘芳 陈杰 "
    "杨勇 李军 王勇 张静 李敏 王敏 刘伟 张磊 王丽 李伟 张芳 陈静"
)
FEMALE_COMMON = {"李娜", "张敏", "王芳", "李静", "王静", "张丽", "刘芳", "张静", "李敏", "王敏", "王丽", "张芳", "陈静"}
NICKNAMES = (
    "阳光",
    "A-专注装修二十年",
    "小太阳",
    "Tony",
    "Lily",
    "静待花开",
    "追梦人",
    "快乐每一天",
    "🌸花开富贵",
    "一路向北",
    "Jason",
    "老王",
    "A0五金批发",
    "平安是福",
    "知足常乐",
    "Grace",
    "随风",
    "微笑向暖",
    "小鱼儿",
    "木子李",
    "风轻云淡",
    "Kevin",
    "Amy",
    "岁月静好",
    "🍀幸运草",
    "宝宝妈",
    "大鹏",
    "A.建材批发",
    "Sunny",
    "晴天",
    "简单",
    "hello",
    "浅笑",
    "小确幸",
    "CC",
    "Michael",
    "海阔天空",
    "淡定",
    "开心就好",
    "✨",
)
EMOJI = ("🌸", "🌟", "😊", "🍀", "🎉", "💰", "👍", "🌹", "☀️", "🐶")

# ---------------------------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------------------------

BRAND = (
    "恒heng 瑞rui 华hua 创chuang 星xing 辰chen 云yun 帆fan 鑫xin 达da 宏hong 远yuan 泰tai 盛sheng 祥xiang "
    "隆long 兴xing 锦jin 峰feng 海hai 安an 通tong 信xin 德de 美mei 佳jia 成cheng 丰feng 富fu 博bo 智zhi "
    "联lian 汇hui 众zhong 天tian 润run 和he 康kang 新xin 明ming 光guang 启qi 航hang 正zheng 元yuan 亿yi "
    "万wan 嘉jia 卓zhuo 越yue 腾teng 飞fei 金jin 银yin 龙long 凤feng 鸿hong 骏jun 永yong 立li 益yi 辉hui "
    "恩en 图tu 微wei 蓝lan 青qing 禾he 源yuan 森sen 优you 速su"
)
# (trade, pinyin, English, industry labels)
TRADES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("科技", "keji", "Technology", ("IT/互联网", "互联网", "信息技术")),
    ("网络科技", "wangluo keji", "Network Technology", ("IT/互联网", "互联网", "Internet")),
    ("信息技术", "xinxi jishu", "Information Technology", ("软件和信息技术服务业", "IT", "信息技术")),
    ("软件", "ruanjian", "Software", ("软件", "IT/互联网", "Software")),
    ("电子", "dianzi", "Electronics", ("电子", "制造业", "Electronics")),
    ("精密机械", "jingmi jixie", "Precision Machinery", ("制造业", "机械", "Manufacturing")),
    ("机械设备", "jixie shebei", "Machinery Equipment", ("制造业", "机械设备", "Manufacturing")),
    ("医疗器械", "yiliao qixie", "Medical Devices", ("医疗", "医疗器械", "Healthcare")),
    ("生物医药", "shengwu yiyao", "Biopharma", ("医药", "生物医药", "Pharma")),
    ("食品", "shipin", "Food", ("食品", "快消", "FMCG")),
    ("贸易", "maoyi", "Trading", ("贸易", "批发零售", "Trading")),
    ("商贸", "shangmao", "Trading", ("商贸", "批发零售", "贸易")),
    ("实业", "shiye", "Industrial", ("制造业", "实业", "综合")),
    ("供应链管理", "gongyinglian guanli", "Supply Chain Management", ("物流", "供应链", "Logistics")),
    ("物流", "wuliu", "Logistics", ("物流", "交通运输", "Logistics")),
    ("建筑工程", "jianzhu gongcheng", "Construction Engineering", ("建筑", "建筑业", "Construction")),
    ("装饰工程", "zhuangshi gongcheng", "Decoration Engineering", ("装修", "建筑装饰", "家装")),
    ("环保科技", "huanbao keji", "Environmental Technology", ("环保", "节能环保", "Environment")),
    ("新材料", "xin cailiao", "New Materials", ("新材料", "化工", "Materials")),
    ("文化传媒", "wenhua chuanmei", "Culture Media", ("传媒", "广告", "Media")),
    ("教育科技", "jiaoyu keji", "Education Technology", ("教育", "在线教育", "Education")),
    ("餐饮管理", "canyin guanli", "Catering Management", ("餐饮", "餐饮服务", "F&B")),
    ("企业管理咨询", "qiye guanli zixun", "Management Consulting", ("咨询", "商务服务", "Consulting")),
    ("汽车零部件", "qiche lingbujian", "Auto Parts", ("汽车", "汽配", "Automotive")),
    ("纺织", "fangzhi", "Textile", ("纺织", "服装纺织", "Textile")),
)
FORMS: tuple[tuple[str, str, float], ...] = (
    ("有限公司", "Co., Ltd.", 0.62),
    ("有限责任公司", "Co., Ltd.", 0.18),
    ("股份有限公司", "Corp.", 0.20),
)
PRODUCTS = (
    ("五金制品", "Hardware Products"),
    ("塑料制品", "Plastic Products"),
    ("服装", "Garment"),
    ("家具", "Furniture"),
    ("陶瓷", "Ceramics"),
    ("包装材料", "Packaging"),
    ("印刷", "Printing"),
    ("电器", "Electric Appliance"),
    ("玩具", "Toy"),
    ("鞋业", "Shoes"),
    ("模具", "Mould"),
    ("灯饰", "Lighting"),
)
SHOPS = (
    "川菜馆",
    "面馆",
    "烧烤店",
    "便利店",
    "母婴店",
    "花店",
    "五金店",
    "水果店",
    "茶叶店",
    "眼镜店",
    "理发店",
    "药房",
)
NUMERALS = "一二三四五六七八九十"

# ---------------------------------------------------------------------------------------------
# Character tables for dirt: traditional forms and one-keystroke homophone typos
# ---------------------------------------------------------------------------------------------

TRADITIONAL = str.maketrans(
    "伟华张东国电机技实业贸易医疗发网络银丽兴达龙凤云阳辉强军红刘陈杨赵黄吴孙马罗郑冯邓许韩钱静杰涛艳兰鹏飞宁远门广"
    "产厂团际饰优乐园区县长苏湾学药农气车轮铁钢锋线纺织维鸿丰宝顺万亿众汇联讯软数据动环节饮馆书体设计装筑劳务咨询财"
    "税会师杂货铺义进务汉庆浏叶谢宋许邓曹彭肖袁潘蒋蔡杜程吕卢钟谭陆汪范贾夏韦欧阳门晨梦晶洁萍琴莉诗涵馨媛蕾颖倩娟霞",
    "偉華張東國電機技實業貿易醫療發網絡銀麗興達龍鳳雲陽輝強軍紅劉陳楊趙黃吳孫馬羅鄭馮鄧許韓錢靜傑濤艷蘭鵬飛寧遠門廣"
    "產廠團際飾優樂園區縣長蘇灣學藥農氣車輪鐵鋼鋒線紡織維鴻豐寶順萬億眾匯聯訊軟數據動環節飲館書體設計裝築勞務諮詢財"
    "稅會師雜貨鋪義進務漢慶瀏葉謝宋許鄧曹彭肖袁潘蔣蔡杜程呂盧鐘譚陸汪范賈夏韋歐陽門晨夢晶潔萍琴莉詩涵馨媛蕾穎倩娟霞",
)
HOMOPHONES: dict[str, str] = {
    "伟": "玮卫炜",
    "娜": "那纳",
    "敏": "民闽",
    "静": "敬晶",
    "丽": "莉俪",
    "芳": "方芬",
    "强": "蔷墙",
    "军": "君均",
    "杰": "洁捷",
    "涛": "韬滔",
    "明": "铭鸣",
    "华": "化桦",
    "磊": "雷垒",
    "勇": "永涌",
    "红": "宏虹",
    "燕": "艳雁",
    "玲": "琳铃",
    "婷": "亭庭",
    "峰": "锋丰",
    "辉": "晖慧",
    "鹏": "朋彭",
    "洋": "阳扬",
    "斌": "彬滨",
    "超": "潮朝",
    "技": "计枝",
    "瑞": "睿锐",
    "恒": "衡横",
    "达": "大答",
    "鑫": "新欣",
    "泰": "太态",
    "宏": "鸿弘",
    "源": "元原",
    "盛": "胜圣",
    "祥": "翔详",
    "隆": "龙珑",
    "兴": "星新",
    "锦": "金景",
    "创": "闯仓",
    "安": "按岸",
    "通": "同桐",
    "信": "新芯",
    "德": "得的",
    "美": "每镁",
    "佳": "家嘉",
    "成": "城诚",
    "丰": "风峰",
    "富": "福付",
    "贸": "茂帽",
    "械": "戒",
    "机": "基鸡",
    "博": "搏",
    "智": "志",
    "联": "连",
    "汇": "会",
    "润": "闰",
    "康": "糠",
    "航": "杭",
}
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# ---------------------------------------------------------------------------------------------
# Junk
# ---------------------------------------------------------------------------------------------

JUNK_NAMES = (
    "测试",
    "test",
    "Test",
    "TEST",
    "demo",
    "测试1",
    "测试用户",
    "asdf",
    "aaa",
    "111",
    "qwer",
    "xxx",
    "ceshi",
    "测试测试",
    "tset",
    "内部测试",
    "不要删",
    "test123",
    "Demo用户",
    "哈哈哈",
)
JUNK_PERSONAS = ("张三", "李四", "王五")
JUNK_COMPANIES = (
    "测试公司",
    "test",
    "demo公司",
    "asdf有限公司",
    "测试科技有限公司",
    "xxx公司",
    "无",
    "某某公司",
    "test company",
    "测试测试",
)
JUNK_PHONES = (
    "13800000000",
    "12345678901",
    "11111111111",
    "13333333333",
    "13800138000",
    "00000000000",
    "12345678",
    "1",
)
JUNK_EMAILS = ("test@test.com", "a@a.com", "123@qq.com", "demo@example.com", "asdf@asdf.com")
MOBILE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 170 173 176 "
    "177 178 180 181 182 183 184 185 186 187 188 189 191 195 198 199"
)
MAIL_HOSTS = ("163.com", "126.com", "qq.com", "sina.com", "gmail.com", "foxmail.com", "hotmail.com", "139.com")


def _pairs_of(spec: str) -> tuple[tuple[str, str], ...]:
    """``"伟wei 强qiang"`` -> ``(("伟", "wei"), ("强", "qiang"))``."""
    return tuple((item[0], item[1:]) for item in spec.split())


MALE_CHARS, FEMALE_CHARS, BRAND_CHARS = _pairs_of(MALE), _pairs_of(FEMALE), _pairs_of(BRAND)
PINYIN: dict[str, str] = {
    **dict(MALE_CHARS),
    **dict(FEMALE_CHARS),
    **{s: p for s, p, _ in SURNAMES},
    "洋": "yang",
}


@dataclass(frozen=True)
class Labelled:
    """One record as ``crm dedupe`` reads it, with its truth and what the generator did to it."""

    row: dict[str, str]
    person: str
    account: str | None
    junk: bool
    tags: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    family: str = ""  # kind and name core of the organisation: siblings (branches, head office) share it


@dataclass
class Org:
    """A real organisation: one account."""

    org_id: str
    kind: str  # company | branch | head | hospital | school | factory | shop
    city: City
    canonical: str
    core: str  # the name without city prefix and legal form
    prefix: str  # leading city as written in the canonical name, '' if none
    form: str  # legal form, '' if none
    branch: str  # city in brackets for a branch, '' if none
    english: str
    pinyin: str
    industry: tuple[str, ...]
    credit_code: str
    switchboard: str  # digits incl. area code
    address: str
    domain: str


@dataclass
class Person:
    """A real customer."""

    person_id: str
    name: str
    female: bool
    pinyin: tuple[str, str]  # surname, given
    city: City
    org: Org | None
    mobiles: list[str]
    email: str
    unionid: str
    wecom: str
    nickname: str
    address: str
    tags: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _token(rng: random.Random, length: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def credit_code(rng: random.Random, city: City) -> str:
    """A unified social credit code (GB 32100-2015) with valid organisation-code and final check digits."""
    region = city.code[:4] + f"{rng.randint(1, 18):02d}"
    body = [rng.choice("0123456789" if _chance(rng, 0.9) else "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8)]
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    org_check = "X" if check == 10 else "0" if check == 11 else str(check)
    head = "91" + region + "".join(body) + org_check
    weighted = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(head, CREDIT_WEIGHTS, strict=True))
    return head + CREDIT_ALPHABET[(31 - weighted % 31) % 31]


def typo(text: str, rng: random.Random) -> str | None:
    """One character swapped for a homophone an input method offers, or None if none applies."""
    spots = [i for i, ch in enumerate(text) if ch in HOMOPHONES]
    if not spots:
        return None
    i = rng.choice(spots)
    return text[:i] + rng.choice(HOMOPHONES[text[i]]) + text[i + 1 :]


def traditional(text: str) -> str | None:
    changed = text.translate(TRADITIONAL)
    return changed if changed != text else None


def city_written(city: City, rng: random.Random) -> str:
    """The city as a company-name prefix: 上海 / 上海市."""
    return city.name + ("市" if _chance(rng, 0.5) else "")


# ---------------------------------------------------------------------------------------------
# World building
# ---------------------------------------------------------------------------------------------


class World:
    """Organisations and people, with unique identifiers drawn from one seeded stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.orgs: list[Org] = []
        self.persons: list[Person] = []
        self._used: set[str] = set()
        self._brands: set[tuple[str, str]] = set()

    # unique values ---------------------------------------------------------------------------
    def _unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self._used:
                self._used.add(value)
                return value

    def mobile(self) -> str:
        while True:
            digits = self.rng.choice(MOBILE_PREFIXES) + _token(self.rng, 8, "0123456789")
            # no vanity or placeholder-like numbers for real people
            if len(set(digits[3:])) > 3 and digits not in JUNK_PHONES and digits not in self._used:
                self._used.add(digits)
                return digits

    def switchboard(self, city: City) -> str:
        length = 7 if city.area in {"0898"} else 8
        return self._unique(lambda: city.area + self.rng.choice("5678") + _token(self.rng, length - 1, "0123456789"))

    def unionid(self) -> str:
        return self._unique(lambda: "o" + _token(self.rng, 27, ID_ALPHABET))

    def wecom_id(self) -> str:
        return self._unique(lambda: "wm" + _token(self.rng, 30, ID_ALPHABET))

    def city(self) -> City:
        return self.rng.choices(CITIES, weights=CITY_WEIGHTS)[0]

    def address(self, city: City, building: bool) -> str:
        rng = self.rng
        district = rng.choice(city.districts)
        road = rng.choice(ROADS)
        tail = (
            f"{rng.randint(1, 30)}栋{rng.randint(1, 28)}0{rng.randint(1, 9)}室"
            if building
            else (f"{rng.randint(1, 20)}号楼{rng.randint(1, 6)}单元{rng.randint(1, 30)}0{rng.randint(1, 4)}")
        )
        province = "" if city.municipality else city.province + PROVINCE_SUFFIX.get(city.province, "省")
        return f"{province}{city.name}市{district}{road}{rng.randint(1, 999)}号{tail}"

    # organisations ---------------------------------------------------------------------------
    def _brand(self, trade: str) -> tuple[str, str]:
        while True:
            a, b = self.rng.sample(BRAND_CHARS, 2)
            if (a[0] + b[0], trade) not in self._brands:
                self._brands.add((a[0] + b[0], trade))
                return a[0] + b[0], a[1] + b[1]

    def _org(
        self,
        kind: str,
        city: City,
        core: str,
        prefix: str,
        form: str,
        branch: str,
        english: str,
        pinyin: str,
        industry: tuple[str, ...],
        domain: str,
    ) -> Org:
        canonical = f"{core}（{branch}）{form}" if branch else f"{prefix}{core}{form}"
        org = Org(
            org_id=f"org-{len(self.orgs):05d}",
            kind=kind,
            city=city,
            canonical=canonical,
            core=core,
            prefix=prefix,
            form=form,
            branch=branch,
            english=english,
            pinyin=pinyin,
            industry=industry,
            credit_code=credit_code(self.rng, city),
            switchboard=self.switchboard(city),
            address=self.address(city, building=True),
            domain=domain,
        )
        self.orgs.append(org)
        return org

    def company(self) -> None:
        rng = self.rng
        city = self.city()
        trade, trade_py, trade_en, industry = rng.choice(TRADES)
        brand, brand_py = self._brand(trade)
        form, form_en, _ = rng.choices(FORMS, weights=[f[2] for f in FORMS])[0]
        prefix = city_written(city, rng) if _chance(rng, 0.55) else ""
        english = f"{city.pinyin.title() + ' ' if prefix else ''}{brand_py.title()} {trade_en} {form_en}"
        domain = f"{brand_py}{rng.choice(['', '-tech', 'group', 'cn', str(rng.randint(1, 99))])}.com"
        self._org("company", city, brand + trade, prefix, form, "", english, f"{brand_py} {trade_py}", industry, domain)

    def branch_family(self) -> None:
        """One brand with branches in 2–4 cities (each a separate account), sometimes a head office."""
        rng = self.rng
        trade, trade_py, trade_en, industry = rng.choice(TRADES)
        brand, brand_py = self._brand(trade)
        cities = rng.sample(CITIES[:20], rng.randint(2, 4))
        domain = f"{brand_py}.com.cn"
        for city in cities:
            english = f"{brand_py.title()} {trade_en} ({city.pinyin.title()}) Co., Ltd."
            self._org(
                "branch",
                city,
                brand + trade,
                "",
                "有限公司",
                city.name,
                english,
                f"{brand_py} {trade_py}",
                industry,
                domain,
            )
        if _chance(rng, 0.5):
            head = cities[0]
            self._org(
                "head",
                head,
                brand + trade,
                "",
                "股份有限公司",
                "",
                f"{brand_py.title()} {trade_en} Corp.",
                f"{brand_py} {trade_py}",
                industry,
                domain,
            )

    def institution(self) -> None:
        rng = self.rng
        city = self.city()
        kind = rng.choices(("hospital", "school", "factory", "shop"), weights=(3, 3, 3, 3))[0]
        prefix = city_written(city, rng)
        if kind == "hospital":
            n = rng.randint(1, 10)
            core, english = rng.choice(
                [
                    (f"第{NUMERALS[n - 1]}人民医院", f"{city.pinyin.title()} No.{n} People's Hospital"),
                    ("中医医院", f"{city.pinyin.title()} Hospital of Traditional Chinese Medicine"),
                    ("妇幼保健院", f"{city.pinyin.title()} Maternal and Child Health Hospital"),
                    ("儿童医院", f"{city.pinyin.title()} Children's Hospital"),
                ]
            )
            industry: tuple[str, ...] = ("医疗", "医疗卫生", "医院")
        elif kind == "school":
            n = rng.randint(1, 30)
            numeral = (
                NUMERALS[n - 1]
                if n <= 10
                else ("十" if n < 20 else NUMERALS[n // 10 - 1] + "十") + (NUMERALS[n % 10 - 1] if n % 10 else "")
            )
            core, english = rng.choice(
                [
                    (f"第{numeral}中学", f"{city.pinyin.title()} No.{n} Middle School"),
                    (f"{rng.choice(city.districts)}实验小学", f"{city.pinyin.title()} Experimental Primary School"),
                    ("外国语学校", f"{city.pinyin.title()} Foreign Language School"),
                    ("职业技术学院", f"{city.pinyin.title()} Vocational and Technical College"),
                ]
            )
            industry = ("教育", "学校", "Education")
        elif kind == "factory":
            product, product_en = rng.choice(PRODUCTS)
            brand, brand_py = self._brand(product)
            core = f"{brand}{product}厂"
            english = f"{city.pinyin.title()} {brand_py.title()} {product_en} Factory"
            industry = ("制造业", "加工制造", "工厂")
        else:
            surname = rng.choice(SURNAMES)[0]
            shop = rng.choice(SHOPS)
            label = rng.choice([f"{surname}记", f"老{surname}", f"{surname}氏"])
            core = f"{rng.choice(city.districts)}{label}{shop}"
            english = f"{label} {shop}"  # shops have no English name; a clerk typed this
            industry = ("零售", "餐饮", "个体工商户")
        if any(o.core == core and o.city == city for o in self.orgs):
            return  # one 北京市职业技术学院 per city: two would be indistinguishable
        pinyin = english.lower()
        self._org(kind, city, core, prefix, "", "", english, pinyin, industry, "")

    # people ----------------------------------------------------------------------------------
    def person(self, org: Org | None) -> Person:
        rng = self.rng
        if _chance(rng, 0.15):
            name = rng.choice(COMMON_FULL)
            female = name in FEMALE_COMMON
            surname, given = name[0], name[1:]
        else:
            surname = rng.choices([s for s, _, _ in SURNAMES], weights=[w for _, _, w in SURNAMES])[0]
            female = _chance(rng, 0.5)
            pool = FEMALE_CHARS if female else MALE_CHARS
            given = "".join(c for c, _ in rng.sample(pool, 1 if _chance(rng, 0.35) else 2))
            name = surname + given
        py = (PINYIN.get(surname, "x"), "".join(PINYIN.get(c, "x") for c in given))
        city = org.city if org is not None and _chance(rng, 0.88) else self.city()
        mobiles = [self.mobile()]
        if _chance(rng, 0.08):
            mobiles.append(self.mobile())
        email = ""
        if org is not None and org.domain and _chance(rng, 0.45):
            email = self._unique(lambda: f"{py[1]}.{py[0]}{rng.choice(['', str(rng.randint(1, 9))])}@{org.domain}")
        elif _chance(rng, 0.35):
            email = self._unique(
                lambda: (
                    rng.choice(
                        [
                            f"{py[0]}{py[1]}{rng.randint(1, 9999)}",
                            str(rng.randint(10_000_000, 3_999_999_999)),
                            f"{py[1]}_{py[0]}{rng.randint(70, 99)}",
                        ]
                    )
                    + "@"
                    + rng.choice(MAIL_HOSTS)
                )
            )
        person = Person(
            person_id=f"p-{len(self.persons):06d}",
            name=name,
            female=female,
            pinyin=py,
            city=city,
            org=org,
            mobiles=mobiles,
            email=email,
            unionid=self.unionid() if _chance(rng, 0.85) else "",
            wecom=self.wecom_id(),
            nickname=rng.choice(NICKNAMES),
            address=self.address(city, building=False),
        )
        self.persons.append(person)
        return person


# ---------------------------------------------------------------------------------------------
# Renderings (the dirt)
# ---------------------------------------------------------------------------------------------


def render_mobile(digits: str, rng: random.Random) -> tuple[str, str]:
    styles: list[tuple[str, Callable[[], str], float]] = [
        ("plain", lambda: digits, 50),
        (
            "+86",
            lambda: rng.choice([f"+86{digits}", f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}", f"+86-{digits}"]),
            8,
        ),
        ("0086", lambda: rng.choice([f"0086{digits}", f"0086 {digits}", f"0086-{digits}"]), 4),
        ("86-", lambda: rng.choice([f"86-{digits}", f"86 {digits}", f"86{digits}"]), 4),
        ("spaces", lambda: f"{digits[:3]} {digits[3:7]} {digits[7:]}", 8),
        ("dashes", lambda: rng.choice([f"{digits[:3]}-{digits[3:7]}-{digits[7:]}", f"{digits[:3]}-{digits[3:]}"]), 7),
        ("fullwidth", lambda: digits.translate(FULLWIDTH_DIGITS), 5),
        (
            "junk-around",
            lambda: rng.choice(
                [
                    f"tel:{digits}",
                    f"{digits}（微信同号）",
                    f" {digits} ",
                    f"手机：{digits}",
                    f"{digits}/",
                    f"{digits} 同微信",
                    f"Tel {digits}",
                ]
            ),
            8,
        ),
    ]
    label, make, _ = rng.choices(styles, weights=[w for *_, w in styles])[0]
    return make(), f"phone:{label}"


def render_landline(org: Org, rng: random.Random) -> tuple[str, str]:
    area, local = org.city.area, org.switchboard[len(org.city.area) :]
    ext = str(rng.randint(800, 8999))
    styles = [
        f"{area}-{local}",
        f"({area}){local}",
        f"{area}{local}",
        f"{area} {local[:4]} {local[4:]}",
        f"+86 {area[1:]} {local}",
        local,
        f"{area}-{local}-{ext}",
        f"{area}-{local}转{ext}",
    ]
    return rng.choices(styles, weights=(30, 8, 12, 8, 5, 10, 10, 10))[0], "phone:switchboard"


def render_email(email: str, rng: random.Random) -> tuple[str, str]:
    if _chance(rng, 0.12):
        local, host = email.split("@")
        email = rng.choice([email.upper(), local.title() + "@" + host.upper(), local + "@" + host.title()])
        tag = "email:case"
    else:
        tag = "email:plain"
    if _chance(rng, 0.10):
        email = rng.choice([f" {email}", f"{email} ", f"  {email}\t"])
        tag += "+space"
    return email, tag


def render_region(city: City, rng: random.Random) -> tuple[str, str]:
    styles: list[tuple[str, str, float]] = [
        ("name", city.name, 30),
        ("name市", city.name + "市", 20),
        ("pinyin", rng.choice([city.pinyin, city.pinyin.title(), city.pinyin.upper()]), 10),
        ("code", city.code, 8),
    ]
    if city.municipality:
        styles += [("short", city.short, 8), ("letters", city.letters, 6)]
    else:
        province = city.province + PROVINCE_SUFFIX.get(city.province, "省")
        styles += [
            ("prov+city", city.province + city.name, 8),
            ("prov省city市", f"{province}{city.name}市", 8),
            ("prov-city", f"{city.province} {city.name}", 3),
        ]
        if city.letters in {"GZ", "HZ", "NJ", "CD", "WH"}:
            styles.append(("letters", city.letters, 3))
    label, value, _ = rng.choices(styles, weights=[w for *_, w in styles])[0]
    return value, f"region:{label}"


def render_company(org: Org, rng: random.Random) -> tuple[str, list[str]]:
    """The organisation's name as one clerk or customer typed it."""
    tags: list[str] = []
    roll = rng.random()
    if roll < 0.05:
        return org.english if _chance(rng, 0.6) else org.english.upper(), ["company:english"]
    if roll < 0.08:
        return rng.choice([org.pinyin, org.pinyin.title(), org.pinyin.replace(" ", "")]), ["company:pinyin"]
    core, prefix, form = org.core, org.prefix, org.form
    if org.kind in {"company", "factory", "head"}:
        if prefix and _chance(rng, 0.35):
            prefix = ""
            tags.append("company:no-city")
        elif not prefix and org.kind != "head" and _chance(rng, 0.15):
            prefix = city_written(org.city, rng)
            tags.append("company:add-city")
    elif org.kind in {"hospital", "school", "shop"} and prefix and _chance(rng, 0.4):
        # 上海市第六人民医院 / 上海第六人民医院: the city stays, only its 市 comes and goes
        prefix = org.city.name if prefix.endswith("市") else org.city.name + "市"
        tags.append("company:city-form")
    if form and _chance(rng, 0.3):
        form = ""
        tags.append("company:no-form")
    if org.branch:
        left, right = ("(", ")") if _chance(rng, 0.5) else ("（", "）")
        tags.append("company:halfwidth" if left == "(" else "company:fullwidth")
        text = f"{core}{left}{org.branch}{right}{form}"
    else:
        text = f"{prefix}{core}{form}"
    if _chance(rng, 0.05) and (changed := typo(text, rng)):
        text = changed
        tags.append("company:typo")
    if _chance(rng, 0.05) and (changed := traditional(text)):
        text = changed
        tags.append("company:traditional")
    if _chance(rng, 0.04):
        text = rng.choice([f" {text}", f"{text} ", text.replace("有限", " 有限")])
        tags.append("company:space")
    return text, tags or ["company:canonical"]


def render_name(person: Person, source: str, rng: random.Random) -> tuple[str, str]:
    """The person's name as the channel recorded it."""
    salutation = "女士" if person.female else "先生"
    surname = person.name[:2] if person.name[:2] in {"欧阳", "司马", "上官"} else person.name[0]
    if source == "miniprogram":
        roll = rng.random()
        if roll < 0.5:
            return person.nickname, "name:nickname"
        if roll < 0.6:
            return surname + salutation, "name:placeholder"
        if roll < 0.65:
            return "", "name:empty"
    elif source == "wecom" and _chance(rng, 0.15):
        return rng.choice([person.nickname, surname + rng.choice([salutation, "总", "经理"])]), "name:wecom-remark"
    elif _chance(rng, 0.07):
        placeholder = surname + rng.choice([salutation, salutation, "总", "经理", "老师"])
        return placeholder, "name:placeholder"
    name, tag = person.name, "name:plain"
    roll = rng.random()
    if roll < 0.05 and (changed := typo(name, rng)):
        name, tag = changed, "name:typo"
    elif roll < 0.10 and (changed := traditional(name)):
        name, tag = changed, "name:traditional"
    elif roll < 0.14:
        emoji = rng.choice(EMOJI)
        name, tag = rng.choice([name + emoji, emoji + name, f"{name} {emoji}"]), "name:emoji"
    elif roll < 0.17:
        sur, given = person.pinyin
        name = rng.choice([f"{sur.title()} {given.title()}", f"{given.title()} {sur.title()}", f"{sur}{given}"])
        tag = "name:pinyin"
    elif roll < 0.20:
        name, tag = " ".join(name) if len(name) == 2 else f" {name} ", "name:spaces"
    return name, tag


def _observed(rng: random.Random) -> str:
    at = datetime(2024, 1, 1) + timedelta(seconds=rng.randint(0, 730 * 86_400))
    return at.strftime("%Y-%m-%dT%H:%M:%S") + ("+08:00" if _chance(rng, 0.7) else "")


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


def _visible(source: str, b2b: bool) -> dict[str, float]:
    """Probability that a channel shows each field."""
    table: dict[str, dict[str, float]] = {
        "miniprogram": {"unionid": 1.0, "phone": 0.4, "region": 0.3, "email": 0.03},
        "wecom": {
            "wecom": 1.0,
            "unionid": 0.6,
            "company": 0.65 if b2b else 0.0,
            "phone": 0.3,
            "region": 0.2,
            "email": 0.1,
        },
        "form": {"phone": 0.95, "email": 0.4, "company": 0.8 if b2b else 0.0, "region": 0.6, "industry": 0.3},
        "order": {"phone": 1.0, "address": 0.9, "region": 0.5, "email": 0.1, "company": 0.3 if b2b else 0.0},
        "import": {
            "phone": 0.7,
            "email": 0.5,
            "company": 0.9 if b2b else 0.0,
            "credit_code": 0.3 if b2b else 0.0,
            "region": 0.7,
            "industry": 0.5,
            "address": 0.3,
        },
    }
    return table[source]


def _phone(person: Person, source: str, rng: random.Random) -> tuple[str, str, str]:
    """A phone as typed, its dirt tag, and which true number it is."""
    if person.org is not None and source in {"form", "import", "wecom"} and _chance(rng, 0.2):
        text, tag = render_landline(person.org, rng)
        return text, tag, "switchboard"
    number = person.mobiles[-1] if len(person.mobiles) > 1 and _chance(rng, 0.5) else person.mobiles[0]
    text, tag = render_mobile(number, rng)
    return text, tag, f"mobile{person.mobiles.index(number)}"


def _address(person: Person, source: str, rng: random.Random) -> str:
    """Home for consumers and for some orders, else the organisation's address."""
    org = person.org
    address = person.address if org is None or (source == "order" and _chance(rng, 0.5)) else org.address
    return address.translate(FULLWIDTH_DIGITS) if _chance(rng, 0.1) else address


LINKS = {"unionid", "wecom", "mobile0", "mobile1", "email"}
CLEAR_NAMES = {"name:plain", "name:emoji", "name:spaces", "name:traditional"}


def _links(tags: list[str], evidence: list[str]) -> set[str]:
    """What ties a record to the person's others for a careful human: identifiers, or name at the company."""
    keys = LINKS & set(evidence)
    if "company" in evidence and CLEAR_NAMES & set(tags):
        keys.add("name@company")
    return keys


def _connect(person: Person, out: list[tuple[dict[str, str], list[str], list[str]]], rng: random.Random) -> None:
    """Make one person's records one connected group: a part that shares nothing with the rest gets the
    person's main mobile (so a label is never unknowable from the data)."""

    def set_mobile(index: int) -> None:
        row, tags, evidence = out[index]
        row["phone"], tag = render_mobile(person.mobiles[0], rng)
        tags[:] = [t for t in tags if not t.startswith("phone:")] + [tag, "link:added-mobile"]
        evidence[:] = [e for e in evidence if e not in {"mobile0", "mobile1", "switchboard"}] + ["mobile0"]

    keys = [_links(tags, evidence) for _, tags, evidence in out]
    joined, frontier = {0}, {0}
    while frontier:
        reach: set[str] = set().union(*(keys[i] for i in frontier))
        frontier = {j for j in range(len(out)) if j not in joined and keys[j] & reach}
        joined |= frontier
    if len(joined) == len(out):
        return
    if not any("mobile0" in keys[i] for i in joined):
        set_mobile(0)
    for j in range(len(out)):
        if j not in joined:
            set_mobile(j)


def _record(person: Person, source: str, rng: random.Random) -> tuple[dict[str, str], list[str], list[str]]:
    """One record of ``person`` as ``source`` saw it: (row without record_id, tags, true identifiers shown)."""
    org = person.org
    show = _visible(source, org is not None)
    row: dict[str, str] = {"source": source, "observed_at": _observed(rng)}
    tags: list[str] = [f"src:{source}"]
    if org is not None and person.city != org.city:
        tags.append("person:lives-elsewhere")
    evidence: list[str] = []
    row["name"], tag = render_name(person, source, rng)
    tags.append(tag)
    if source in {"miniprogram", "wecom"} and person.unionid and _chance(rng, show.get("unionid", 0.0)):
        row["unionid"] = person.unionid
        evidence.append("unionid")
    if source == "wecom":
        row["wecom_external_userid"] = person.wecom
        evidence.append("wecom")
    if _chance(rng, show.get("phone", 0.0)):
        row["phone"], tag, shown = _phone(person, source, rng)
        tags.append(tag)
        evidence.append(shown)
    if person.email and _chance(rng, show.get("email", 0.0)):
        row["email"], tag = render_email(person.email, rng)
        tags.append(tag)
        evidence.append("email")
    if org is not None and _chance(rng, show.get("company", 0.0)):
        row["company"], company_tags = render_company(org, rng)
        tags += company_tags
        evidence.append("company")
        if _chance(rng, show.get("credit_code", 0.0)):
            row["credit_code"] = org.credit_code if _chance(rng, 0.85) else org.credit_code.lower()
            evidence.append("credit_code")
        if _chance(rng, show.get("industry", 0.0)):
            row["industry"] = rng.choice(org.industry)
    if _chance(rng, show.get("region", 0.0)):
        row["region"], tag = render_region(person.city, rng)
        tags.append(tag)
    if _chance(rng, show.get("address", 0.0)):
        row["address"] = _address(person, source, rng)
    return row, tags, evidence


def person_records(person: Person, count: int, rng: random.Random) -> list[tuple[dict[str, str], list[str], list[str]]]:
    """``count`` records of one person: (row without record_id, tags, true identifiers shown)."""
    order = list(SOURCES)
    rng.shuffle(order)
    if person.org is None:  # consumers mostly meet the shop through the mini-program and orders
        order.sort(
            key=lambda s: {"miniprogram": 0, "order": 1, "form": 2, "wecom": 3, "import": 4}[s] + rng.random() * 3
        )
    sources = order[:count] + [rng.choice(SOURCES) for _ in range(count - len(order))]
    out = [_record(person, source, rng) for source in sources]
    _connect(person, out, rng)
    if person.org is not None and not any("company" in ev for _, _, ev in out):
        # a B2B contact the data never ties to a company is a consumer as far as anyone can tell
        row, tags, evidence = out[rng.randrange(len(out))]
        row["company"], company_tags = render_company(person.org, rng)
        tags += company_tags
        evidence.append("company")
    return out


def junk_row(world: World, rng: random.Random) -> tuple[dict[str, str], list[str]]:
    """A test, demo or garbage row."""
    source = rng.choices(SOURCES, weights=(2, 1, 4, 2, 2))[0]
    row: dict[str, str] = {"source": source, "observed_at": _observed(rng)}
    kind = rng.choices(
        ("name+placeholder", "name+nophone", "persona+placeholder", "company", "staff-test"),
        weights=(35, 20, 15, 20, 10),
    )[0]
    tags = [f"junk:{kind}", f"src:{source}"]
    row["name"] = rng.choice(JUNK_PERSONAS) if kind == "persona+placeholder" else rng.choice(JUNK_NAMES)
    if kind in {"name+placeholder", "persona+placeholder"}:
        row["phone"] = rng.choice(JUNK_PHONES)
    elif kind == "company":
        row["company"] = rng.choice(JUNK_COMPANIES)
        if _chance(rng, 0.5):
            row["name"] = rng.choice([*JUNK_PERSONAS, "", "测试"])
        if _chance(rng, 0.6):
            row["phone"] = rng.choice(JUNK_PHONES)
    elif kind == "staff-test" and world.persons:
        row["phone"] = rng.choice(world.persons).mobiles[0]  # a colleague testing with a real customer's mobile
    if _chance(rng, 0.25):
        row["email"] = rng.choice(JUNK_EMAILS)
    if source == "miniprogram":
        row["unionid"] = world.unionid()
    if _chance(rng, 0.2):
        row["region"] = rng.choice(["上海", "北京", "测试", "-", "无"])
    return row, tags


def generate(records: int, seed: int) -> list[Labelled]:
    """``records`` labelled rows, deterministic for ``seed``; rows are shuffled."""
    rng = random.Random(f"identity-unseen:{seed}")
    world = World(rng)
    b2b_persons = int(records / 2.6 * 0.55)
    while len(world.orgs) < max(4, b2b_persons // 3):
        roll = rng.random()
        if roll < 0.62:
            world.company()
        elif roll < 0.72:
            world.branch_family()
        else:
            world.institution()
    size = [min(40.0, rng.paretovariate(1.15)) for _ in world.orgs]  # a few big employers, capped
    drafts: list[tuple[dict[str, str], Labelled]] = []
    junk_target = round(records * 0.05)
    real_target = records - junk_target
    made = 0
    while made < real_target:
        org = rng.choices(world.orgs, weights=size)[0] if _chance(rng, 0.55) else None
        person = world.person(org)
        count = min(rng.choices((1, 2, 3, 4, 5, 6), weights=(30, 25, 20, 12, 8, 5))[0], real_target - made)
        for row, tags, evidence in person_records(person, count, rng):
            account, family = (org.org_id, f"{org.kind}:{org.core}".replace("head:", "branch:")) if org else (None, "")
            drafts.append((row, Labelled(row, person.person_id, account, False, tuple(tags), tuple(evidence), family)))
        made += count
    for n in range(junk_target):
        row, tags = junk_row(world, rng)
        drafts.append((row, Labelled(row, f"junk-{n:05d}", None, True, tuple(tags), ())))
    rng.shuffle(drafts)
    out: list[Labelled] = []
    for index, (row, labelled) in enumerate(drafts):
        full = {"record_id": f"u{seed}-{index:07d}", **{k: v for k, v in row.items() if v != ""}}
        out.append(replace(labelled, row=full))
    return out


# ---------------------------------------------------------------------------------------------
# Failure patterns
# ---------------------------------------------------------------------------------------------

Pair = tuple[int, int]


def _cross_pairs(groups: dict[str, list[int]], other: Sequence[str], limit: int = 2_000_000) -> list[Pair]:
    """Pairs inside each group whose ``other`` label differs (capped)."""
    found: list[Pair] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        for a, b in combinations(members, 2):
            if other[a] != other[b]:
                found.append((a, b))
                if len(found) >= limit:
                    return found
    return found


def _group(labels: Sequence[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        groups[label].append(index)
    return groups


def _fp_kind(a: Labelled, b: Labelled) -> str:
    if a.junk and b.junk:
        return "junk+junk"
    if a.junk or b.junk:
        return "junk+real"
    if "switchboard" in a.evidence and "switchboard" in b.evidence and a.account == b.account:
        return "colleagues via shared switchboard"
    if a.account is not None and a.account == b.account:
        return "colleagues (same organisation)"
    name_a, name_b = a.row.get("name", ""), b.row.get("name", "")
    if name_a and name_a == name_b:
        return "namesakes (identical name, different organisation/consumer)"
    return "other"


def _fn_kind(a: Labelled, b: Labelled) -> str:
    shared = (set(a.evidence) & set(b.evidence)) & LINKS
    if shared:
        return "share " + "+".join(sorted(shared))
    if "company" in a.evidence and "company" in b.evidence and CLEAR_NAMES & set(a.tags) and CLEAR_NAMES & set(b.tags):
        return "same name at the same company, no shared identifier"
    return "linked only through other records of the person"


def _acct_fp_kind(a: Labelled, b: Labelled) -> str:
    if a.account is None or b.account is None:
        return "consumer/junk record given an organisation's account"
    if a.family == b.family:
        return "sibling branch / head office"
    return f"different organisations ({a.family.split(':')[0]} / {b.family.split(':')[0]})"


def _acct_fn_kind(a: Labelled, b: Labelled) -> str:
    missing = sum("company" not in r.evidence for r in (a, b))
    if missing:
        return f"{missing} of the 2 records show no company"
    dirt = sorted({t for r in (a, b) for t in r.tags if t.startswith("company:") and t != "company:canonical"})
    if any("person:lives-elsewhere" in r.tags for r in (a, b)):
        dirt.append("a contact living in another city")
    same_person = "same person" if a.person == b.person else "colleagues"
    return f"{same_person}; company dirt: {' + '.join(dirt) or 'none'}"


def _show(record: Labelled) -> str:
    row = {k: v for k, v in record.row.items() if k not in {"observed_at"}}
    truth = f"person={record.person} account={record.account} junk={record.junk}"
    return f"    {json.dumps(row, ensure_ascii=False)}\n      truth: {truth}; dirt: {', '.join(record.tags)}"


def failures(records: Sequence[Labelled], got: Sequence[dict[str, Any]], examples: int, seed: int) -> dict[str, Any]:
    """Counts of false-positive / false-negative pairs by pattern, and example pairs."""
    rng = random.Random(seed)
    persons = [r.person for r in records]
    predicted = [str(row["customer_id"]) for row in got]
    accounts = [r.account or f"none:{i}" for i, r in enumerate(records)]
    predicted_accounts = [str(row["account_id"] or f"none:{i}") for i, row in enumerate(got)]
    result: dict[str, Any] = {}
    for key, pairs, kind in (
        ("customer_false_positives", _cross_pairs(_group(predicted), persons), _fp_kind),
        ("customer_false_negatives", _cross_pairs(_group(persons), predicted), _fn_kind),
        (
            "account_false_positives",
            _cross_pairs(_group(predicted_accounts), accounts),
            _acct_fp_kind,
        ),
        (
            "account_false_negatives",
            _cross_pairs(_group(accounts), predicted_accounts),
            _acct_fn_kind,
        ),
    ):
        counts = Counter(kind(records[a], records[b]) for a, b in pairs)
        picked = rng.sample(pairs, min(examples, len(pairs)))
        result[key] = {
            "pairs": len(pairs),
            "by_pattern": dict(counts.most_common(12)),
            "examples": [
                {
                    "pattern": kind(records[a], records[b]),
                    "a": _show(records[a]),
                    "b": _show(records[b]),
                    "predicted": [
                        got[a]["customer_id"],
                        got[b]["customer_id"],
                        got[a]["account_id"],
                        got[b]["account_id"],
                        got[a]["junk"],
                        got[b]["junk"],
                    ],
                }
                for a, b in picked
            ],
        }
    junk_missed = [i for i, r in enumerate(records) if r.junk and not got[i]["junk"]]
    junk_wrong = [i for i, r in enumerate(records) if not r.junk and got[i]["junk"]]
    result["junk_missed"] = {
        "records": len(junk_missed),
        "by_pattern": dict(Counter(records[i].tags[0] for i in junk_missed).most_common()),
        "examples": [_show(records[i]) for i in rng.sample(junk_missed, min(examples, len(junk_missed)))],
    }
    result["junk_false_flags"] = {
        "records": len(junk_wrong),
        "by_pattern": dict(
            Counter(t for i in junk_wrong for t in records[i].tags if t.startswith("name:")).most_common()
        ),
        "examples": [_show(records[i]) for i in rng.sample(junk_wrong, min(examples, len(junk_wrong)))],
    }
    return result


def print_failures(report: dict[str, Any], out: Any) -> None:
    for key, block in report.items():
        total = block.get("pairs", block.get("records"))
        print(f"\n== {key}: {total}", file=out)
        for pattern, n in block["by_pattern"].items():
            print(f"  {n:>8}  {pattern}", file=out)
        for n, example in enumerate(block["examples"], 1):
            if isinstance(example, str):
                print(f"  [{n}]\n{example}", file=out)
            else:
                print(
                    f"  [{n}] {example['pattern']}; predicted (cust a, cust b, acct a, acct b, junk a, junk b) = "
                    f"{example['predicted']}",
                    file=out,
                )
                print(example["a"], file=out)
                print(example["b"], file=out)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def main() -> None:
    """Generate, run both engines through ``identity_quality``'s functions, print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--splink-threshold", type=float, default=0.99)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table (failures go to stderr).")
    parser.add_argument("--examples", type=int, default=10, help="Example pairs per failure pattern (0: none).")
    parser.add_argument("--dump", type=Path, help="Also write the labelled records as JSONL here.")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import identity_quality as quality  # type: ignore[import-not-found]  # run as a script, like identity_quality

    records = generate(args.records, args.seed)
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as handle:
            for r in records:
                handle.write(json.dumps({**asdict(r)}, ensure_ascii=False) + "\n")
    dataset = f"unseen/{args.seed}"
    got, seconds = quality.dedupe_rows(records)
    results = [quality.run_ours(records, dataset, (got, seconds))]
    if not args.no_splink:
        results.append(quality.run_splink(records, dataset, args.splink_threshold))
    quality.print_results(results, as_json=args.json)
    if args.examples:
        print_failures(failures(records, got, args.examples, args.seed), sys.stderr if args.json else sys.stdout)


if __name__ == "__main__":
    main()
