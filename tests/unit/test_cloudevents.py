"""CloudEvents binary mode: encoding, decoding and the errors bad input gets."""

from __future__ import annotations

import pytest
from crm.events.touchpoint.v1.touchpoint_pb2 import LeadFormSubmitted
from crm_contracts import load_registry
from crmkit.cloudevents import JSON, PROTOBUF, decode, encode_data, encode_headers
from crmkit.errors import PoisonMessage

REGISTRY = load_registry()
TOPIC = "crm.touchpoint.form.v1"
FORM = LeadFormSubmitted(name="张伟", phone="13812345678", region="上海")


def headers(**overrides: str) -> list[tuple[str, bytes]]:
    base = dict(encode_headers(event_id="e1", source="/web", event_type="crm.form.lead_submitted"))
    base.update({k: v.encode() for k, v in overrides.items()})
    return [(k, v) for k, v in base.items() if v]


@pytest.mark.parametrize("content_type", [PROTOBUF, JSON])
def test_round_trip(content_type: str) -> None:
    event = decode(
        registry=REGISTRY,
        topic=TOPIC,
        value=encode_data(FORM, content_type),
        headers=headers(**{"content-type": content_type}),
    )
    assert event.data == FORM
    assert (event.id, event.source, event.type) == ("e1", "/web", "crm.form.lead_submitted")
    assert event.dedupe_key == "/web#e1"


def test_json_without_content_type_is_sniffed() -> None:
    event = decode(
        registry=REGISTRY, topic=TOPIC, value=b'{"name": "x", "phone": "1"}', headers=headers(**{"content-type": ""})
    )
    assert event.data_as(LeadFormSubmitted).name == "x"


@pytest.mark.parametrize(
    ("value", "hdrs", "message"),
    [
        (b"{", headers(**{"content-type": JSON}), "not valid application/json"),
        (b'{"nmae": "typo", "phone": "1"}', headers(**{"content-type": JSON}), "nmae"),
        (b'{"name": "no contact"}', headers(**{"content-type": JSON}), "needs at least one of: phone, email"),
        (b"\xff\xff", headers(), "not valid application/protobuf"),
        (encode_data(FORM, PROTOBUF), headers(ce_type="crm.form.nope"), "unknown event type 'crm.form.nope'"),
        (encode_data(FORM, PROTOBUF), headers(ce_id=""), "missing CloudEvents header(s): ce_id"),
        (encode_data(FORM, PROTOBUF), headers(ce_specversion="0.3"), "unsupported ce_specversion"),
        (encode_data(FORM, PROTOBUF), headers(ce_time="yesterday"), "ce_time is not an RFC 3339 time"),
        (encode_data(FORM, PROTOBUF), headers(**{"content-type": "text/csv"}), "unsupported content-type"),
        (None, headers(), "empty message value"),
    ],
)
def test_bad_input_names_the_problem(value: bytes | None, hdrs: list[tuple[str, bytes]], message: str) -> None:
    with pytest.raises(PoisonMessage, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode(registry=REGISTRY, topic=TOPIC, value=value, headers=hdrs)
