"""Customer search index: one protocol, a SQLite FTS5 backend and an OpenSearch backend.

Pick a backend from a URL with ``open_search_index``::

    open_search_index("sqlite:///var/search.db")         # relative path var/search.db
    open_search_index("sqlite:////srv/crm/search.db")    # absolute path /srv/crm/search.db
    open_search_index("https://user:pw@search:9200/customers")
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from .opensearch_index import DEFAULT_INDEX, OpenSearchIndex
from .sqlite_index import SqliteSearchIndex
from .tokens import SearchDoc, SearchHit

__all__ = [
    "OpenSearchIndex",
    "SearchDoc",
    "SearchHit",
    "SearchIndex",
    "SqliteSearchIndex",
    "open_search_index",
]

_SQLITE_PREFIX = "sqlite:///"


class SearchIndex(Protocol):
    """What every search backend offers; writes are versioned, so replays are safe."""

    def upsert(self, *, doc_id: str, kind: str, fields: dict[str, str], version: int) -> bool:
        """Index a document; return False (and change nothing) if ``version`` is stale."""
        ...

    def upsert_many(self, docs: list[SearchDoc]) -> int:
        """Upsert ``docs`` in order; return how many were applied (not stale)."""
        ...

    def delete(self, *, doc_id: str) -> None:
        """Remove a document; deleting an unknown id is a no-op."""
        ...

    def search(self, q: str, *, kind: str | None = None, limit: int = 20) -> list[SearchHit]:
        """Return up to ``limit`` documents matching every term of ``q``, best first."""
        ...

    def count(self, kind: str | None = None) -> int:
        """Return the number of documents, of one ``kind`` if given."""
        ...

    def close(self) -> None:
        """Release the backend's connections."""
        ...


def open_search_index(url: str) -> SearchIndex:
    """Open the search index named by ``url``.

    ``sqlite:///path.db`` opens a SqliteSearchIndex (``sqlite:////abs/path.db`` for an
    absolute path); ``http(s)://host:port/index`` an OpenSearchIndex on that index
    (default "customers").  Any other scheme raises ValueError.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return _open_sqlite(url)
    if parts.scheme in ("http", "https"):
        index = parts.path.strip("/") or DEFAULT_INDEX
        if "/" in index:
            raise ValueError(f"OpenSearch URL path must be a single index name, got {index!r}")
        return OpenSearchIndex(f"{parts.scheme}://{parts.netloc}", index)
    raise ValueError(f"unsupported search index URL scheme {parts.scheme!r}")


def _open_sqlite(url: str) -> SqliteSearchIndex:
    """Open the SQLite index at the path after ``sqlite:///``."""
    path = url.removeprefix(_SQLITE_PREFIX)
    if path == url or not path:
        raise ValueError(f"SQLite search URL must look like {_SQLITE_PREFIX}path.db, got {url!r}")
    return SqliteSearchIndex(path)
