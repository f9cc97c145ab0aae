"""The routing view of a lead: the fields rules match on and the hints imputation reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LeadInput:
    """One lead as the engine sees it; every field but ``lead_id`` may be empty.

    ``region`` may be a GB/T 2260 code or any spelling of a place (``shanghai``, ``上海市``);
    ``industry`` a GB/T 4754 letter or a section name. ``phone``, ``client_ip``, ``address``,
    ``email_domain`` and ``company`` are hints for imputation only. ``owner_id`` is the
    customer's current owner, if the customer already has one.
    """

    lead_id: str
    customer_id: str = ""
    region: str = ""
    industry: str = ""
    product_interest: str = ""
    source: str = ""
    score: int | None = None
    tier: str = ""
    company: str = ""
    email_domain: str = ""
    phone: str = ""
    client_ip: str = ""
    address: str = ""
    owner_id: str = ""
    dwell_seconds: int = 0
    junk: tuple[str, ...] = ()
    """Why customer-master took the form for a test or placeholder; empty for a real lead."""

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> LeadInput:
        """Build from JSON (``simulate``/``replay`` input); ``email`` gives its domain; unknown keys are errors."""
        known = set(cls.__dataclass_fields__)
        aliases = {"region_code": "region", "product": "product_interest", "owner": "owner_id"}
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = aliases.get(key, key)
            if name in ("type", "at", "submitted_at"):
                continue
            if name == "email" and isinstance(value, str):
                values["email_domain"] = value.rsplit("@", 1)[-1].strip().lower() if "@" in value else ""
                continue
            if name not in known:
                raise ValueError(f"unknown lead field {key!r}; known: {', '.join(sorted(known))}")
            values[name] = value
        if not isinstance(values.get("lead_id"), str) or not values["lead_id"]:
            raise ValueError("a lead needs a lead_id")
        score = values.get("score")
        if score is not None and not isinstance(score, int):
            raise ValueError(f"score must be an integer, got {score!r}")
        junk = values.pop("junk", [])
        if not isinstance(junk, list | tuple) or not all(isinstance(reason, str) for reason in junk):
            raise ValueError(f"lead field junk must be a list of reasons, got {junk!r}")
        for name, value in values.items():
            if name not in ("score", "dwell_seconds") and not isinstance(value, str):
                raise ValueError(f"lead field {name} must be a string, got {value!r}")
        return cls(**values, junk=tuple(junk))
