"""Delivery channels. The embedded default has ``file`` and ``console``; bots and SMS come
with notify's own issue. A channel is at-least-once: lines carry the notification id so a
reader can drop a repeat after a crash between delivery and commit."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from crmkit.timeutil import to_rfc3339, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One rendered message for one recipient."""

    notification_id: str
    recipient: str
    text: str


class Channel(Protocol):
    """Something that delivers a rendered message."""

    def deliver(self, delivery: Delivery) -> str:
        """Deliver; return a detail string; raise on failure."""
        ...


class FileChannel:
    """Appends one JSON line per delivery to a local file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def deliver(self, delivery: Delivery) -> str:
        """Append the delivery."""
        line = json.dumps(
            {
                "notification_id": delivery.notification_id,
                "recipient": delivery.recipient,
                "text": delivery.text,
                "at": to_rfc3339(utcnow()),
            },
            ensure_ascii=False,
        )
        with self._lock, self._path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return f"appended to {self._path}"


class ConsoleChannel:
    """Logs the delivery (the text never contains a phone number: templates carry none)."""

    def deliver(self, delivery: Delivery) -> str:
        """Log the delivery."""
        log.info("notify %s → %s: %s", delivery.notification_id, delivery.recipient, delivery.text)
        return "logged"
