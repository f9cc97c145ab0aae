"""Synthetic touchpoints of all four kinds, shaped like the seeds' data, and a rate-limited producer."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import Producer
from crm.events.common.v1.identity_pb2 import Identity
from crm.events.touchpoint.v1 import touchpoint_pb2 as tp
from crmkit.cloudevents import JSON, PROTOBUF, encode_data, encode_headers
from crmkit.pii import phone_key
from google.protobuf.message import Message

SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "涛", "明", "超"]
REGIONS = ["上海", "shanghai", "310000", "江苏", "zhejiang", "北京", "广东", "四川", ""]
INDUSTRIES = ["卫生", "制造业", "批发和零售业", "信息技术", ""]
COMPANIES = [
    "上海市第六人民医院",
    "杭州云帆科技有限公司",
    "北京协和医院",
    "苏州精工制造股份有限公司",
    "成都茶语餐饮管理有限公司",
]
PRODUCTS = ["骨科耗材", "SaaS", "新品茶饮", "冷链设备"]


@dataclass(frozen=True)
class Person:
    """One synthetic customer and the identifiers upstream systems know them by."""

    name: str
    phone: str
    unionid: str
    openid: str
    external_userid: str
    company: str
    region: str


@dataclass(frozen=True)
class Touch:
    """One touchpoint ready to produce."""

    topic: str
    event_type: str
    key: str
    data: Message
    event_id: str


def people(count: int, *, seed: int) -> list[Person]:
    """``count`` people with unique mobiles and WeChat ids."""
    rng = random.Random(seed)
    result = []
    for i in range(count):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        result.append(
            Person(
                name=name,
                phone=f"13{rng.randint(0, 9)}{seed % 1000:03d}{i:05d}"[:11],
                unionid=f"oU-{seed}-{i}",
                openid=f"oM-{seed}-{i}",
                external_userid=f"wm-{seed}-{i}",
                company=rng.choice(COMPANIES),
                region=rng.choice(REGIONS),
            )
        )
    return result


def _identity(person: Person, rng: random.Random) -> Identity:
    return Identity(unionid=person.unionid, openid=person.openid, phone=person.phone if rng.random() < 0.5 else "")


def touchpoints(
    count: int,
    *,
    seed: int = 7,
    pii_key: str = "embedded-dev-key-change-me",
    form_share: float = 0.25,
    crowd: Sequence[Person] | None = None,
) -> Iterator[Touch]:
    """``count`` touchpoints: forms, page views (many new-product), favourites, WeCom, orders.

    Each comes from a person drawn from ``crowd`` (default: ``count // 4`` fresh people).
    """
    rng = random.Random(seed)
    crowd = crowd or people(max(10, count // 4), seed=seed)
    for n in range(count):
        person = rng.choice(crowd)
        event_id = str(uuid.UUID(int=rng.getrandbits(128)))
        roll = rng.random()
        if roll < form_share:
            data: Message = tp.LeadFormSubmitted(
                name=person.name,
                phone=person.phone,
                company=person.company,
                email=f"u{n}@example.cn",
                region=person.region,
                industry=rng.choice(INDUSTRIES),
                product_interest=rng.choice(PRODUCTS),
                dwell_seconds=rng.randint(5, 300),
                page_url="https://example.cn/forms/demo",
            )
            yield Touch(
                "crm.touchpoint.form.v1",
                "crm.form.lead_submitted",
                phone_key(f"+86{person.phone}", secret=pii_key),
                data,
                event_id,
            )
        elif roll < 0.60:
            data = tp.PageViewed(
                identity=_identity(person, rng),
                page_id=f"p{rng.randint(1, 50)}",
                page_category=rng.choice(["new_product", "new_product", "article", "promotion"]),
            )
            yield Touch("crm.touchpoint.miniprogram.v1", "crm.miniprogram.page_viewed", person.unionid, data, event_id)
        elif roll < 0.70:
            data = tp.ProductFavourited(identity=_identity(person, rng), product_id=f"sku-{rng.randint(1, 30)}")
            yield Touch(
                "crm.touchpoint.miniprogram.v1", "crm.miniprogram.product_favourited", person.unionid, data, event_id
            )
        elif roll < 0.82:
            data = tp.WecomContactAdded(
                identity=Identity(wecom_external_userid=person.external_userid, unionid=person.unionid),
                rep_userid="rep-sh-01",
                name=person.name,
            )
            yield Touch("crm.touchpoint.wecom.v1", "crm.wecom.contact_added", person.external_userid, data, event_id)
        elif roll < 0.92:
            order_id = f"o-{seed}-{n}"
            data = tp.OrderCreated(
                identity=Identity(phone=person.phone),
                order_id=order_id,
                amount_fen=rng.randint(1000, 90000),
                client_ip=f"203.0.113.{rng.randint(1, 254)}",
                channel=rng.choice(["meituan", "eleme", "youzan"]),
            )
            yield Touch("crm.touchpoint.order.v1", "crm.order.created", order_id, data, event_id)
        else:
            order_id = f"o-{seed}-{n}"
            data = tp.OrderPaid(
                identity=Identity(phone=person.phone),
                order_id=order_id,
                amount_fen=rng.randint(1000, 90000),
                fee_fen=rng.randint(0, 100),
            )
            yield Touch("crm.touchpoint.order.v1", "crm.order.paid", order_id, data, event_id)


class TouchpointProducer:
    """Produces touchpoints as CloudEvents (binary mode) with confluent-kafka, the outside client."""

    def __init__(self, bootstrap: str, *, content_type: str = PROTOBUF, linger_ms: int = 50) -> None:
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": False,
                "acks": "all",
                # Tansu's in-memory log costs each fetch time in proportion to the record
                # batches stored (bench/broker_batches.py): an upstream producer should batch.
                "linger.ms": linger_ms,
                "socket.nagle.disable": True,
                "queue.buffering.max.messages": 1_000_000,
            }
        )
        self._content_type = content_type
        self.sent_at: dict[str, float] = {}

    def send(self, touch: Touch, *, source: str = "/demo/loadgen") -> None:
        """Queue one touchpoint; remembers when it was sent for latency figures."""
        headers: list[tuple[str, str | bytes | None]] = [
            *encode_headers(
                event_id=touch.event_id,
                source=source,
                event_type=touch.event_type,
                time=datetime.now(UTC),
                content_type=self._content_type,
            )
        ]
        value = encode_data(touch.data, self._content_type)
        while True:
            try:
                self._producer.produce(touch.topic, key=touch.key.encode(), value=value, headers=headers)
                break
            except BufferError:
                self._producer.poll(0.05)
        self.sent_at[touch.event_id] = time.time()
        self._producer.poll(0)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued touchpoint is acknowledged."""
        remaining = self._producer.flush(timeout)
        if remaining:
            raise RuntimeError(f"{remaining} touchpoints not acknowledged after {timeout:.0f}s")


def produce_at_rate(
    producer: TouchpointProducer,
    touches: list[Touch],
    *,
    rate: float | None,
    on_progress: Callable[[int], None] | None = None,
) -> float:
    """Send ``touches`` at ``rate`` per second (None = as fast as possible); returns seconds taken."""
    began = time.perf_counter()
    for i, touch in enumerate(touches, 1):
        if rate:
            due = began + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        producer.send(touch)
        if on_progress and i % 200 == 0:
            on_progress(i)
    producer.flush()
    if on_progress:
        on_progress(len(touches))
    return time.perf_counter() - began


__all__ = ["JSON", "PROTOBUF", "Person", "Touch", "TouchpointProducer", "people", "produce_at_rate", "touchpoints"]
