"""Random bytes for ids, from ``os.urandom`` a page at a time.

Every emitted event and every new customer takes a random id; on this VM a ``getrandom``
system call costs a few microseconds, more than the rest of making the id. The pool reads
4 KiB at once (one call per ~250 event ids) from the same source and hands out slices.
A forked child starts with an empty pool, so parent and child never share bytes.
"""

from __future__ import annotations

import os
import threading

_PAGE = 4096


class _Pool:
    """Bytes of one ``os.urandom`` page, handed out once each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._page = b""
        self._used = 0

    def take(self, count: int) -> bytes:
        """``count`` fresh random bytes."""
        with self._lock:
            if self._used + count > len(self._page):
                self._page, self._used = os.urandom(max(_PAGE, count)), 0
            start = self._used
            self._used = start + count
            return self._page[start : start + count]

    def forget(self) -> None:
        """Drop what is left (in a forked child)."""
        self._page, self._used = b"", 0
        self._lock = threading.Lock()


_POOL = _Pool()
os.register_at_fork(after_in_child=_POOL.forget)


def random_bytes(count: int) -> bytes:
    """``count`` random bytes from the operating system's source, never handed out twice."""
    return _POOL.take(count)


def random_hex(count: int) -> str:
    """``count`` random bytes as lower-case hex (``2 * count`` characters)."""
    return _POOL.take(count).hex()
