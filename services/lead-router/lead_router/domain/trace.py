"""The trace of one routing decision (分配溯源): what was known, tried, skipped and chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lead_router.domain.impute import Resolution


@dataclass(frozen=True)
class RuleTry:
    """One rule as tried: matched, or the conditions it failed (``failed``) and why (``why_not``)."""

    rule: str
    line: int
    matched: bool
    failed: tuple[str, ...] = ()
    why_not: tuple[str, ...] = ()
    conditions: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON for the trace."""
        out: dict[str, Any] = {"rule": self.rule, "line": self.line, "matched": self.matched}
        if self.why_not:
            out["why_not"] = list(self.why_not)
        return out


@dataclass(frozen=True)
class CandidateNote:
    """One rep considered at one step of the fallback chain: chosen, or skipped with a reason code."""

    rep: str
    step: str
    skipped: str = ""
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON for the trace."""
        out: dict[str, Any] = {"rep": self.rep, "step": self.step}
        if self.skipped:
            out["skipped"] = self.skipped
        else:
            out["chosen"] = True
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class Trace:
    """Everything one decision looked at; filled in by the engine, then frozen into JSON."""

    triggered_at: datetime
    resolution: Resolution | None = None
    owner: CandidateNote | None = None
    rules: list[RuleTry] = field(default_factory=list)
    candidates: list[CandidateNote] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decision: dict[str, Any] = field(default_factory=dict)
    latency_us: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON served by ``GET /leads/{id}/trace`` and printed by ``crm route simulate``."""
        resolution = self.resolution
        normalised = resolution.normalised if resolution else ()
        return {
            "triggered_at": self.triggered_at.isoformat(),
            "normalised": [{"field": f, "raw": raw, "value": value} for f, raw, value in normalised],
            "imputations": [i.to_dict() for i in (resolution.imputations if resolution else ())],
            "imputation_notes": list(resolution.notes) if resolution else [],
            "owner": self.owner.to_dict() if self.owner else None,
            "rules": [r.to_dict() for r in self.rules],
            "candidates": [c.to_dict() for c in self.candidates],
            "notes": list(self.notes),
            "decision": dict(self.decision),
            "latency_us": self.latency_us,
        }
