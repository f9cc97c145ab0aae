"""Message templates; a missing parameter is an error naming it, never a half-filled text."""

from __future__ import annotations

import string
from collections.abc import Mapping

TEMPLATES = {
    "lead_assigned": "【新线索】{company}（地区 {region_code}，意向 {product}）已分配给您，规则 {rule}。"
    "请在 5 分钟内首次联系。线索 {lead_id}",
    "routing_alarm": "【路由告警】{alarm}（规则 {rule}）：{detail}。时间 {at}",
}


class TemplateError(ValueError):
    """Unknown template or missing parameter."""


def render(template: str, params: Mapping[str, str]) -> str:
    """Fill ``template`` with ``params``."""
    try:
        text = TEMPLATES[template]
    except KeyError:
        raise TemplateError(f"unknown template {template!r}; known: {', '.join(sorted(TEMPLATES))}") from None
    needed = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    missing = sorted(needed - params.keys())
    if missing:
        raise TemplateError(f"template {template!r} needs parameter(s): {', '.join(missing)}")
    return text.format_map(dict(params))
