"""Search index on SQLite FTS5, for development, tests and single-node deployments."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .tokens import SearchDoc, SearchHit, index_tokens, query_groups

# unicode61 keeps a run of letters (CJK included) as one token, so the bigram
# "张伟" we store stays a single FTS5 term; our tokens are space-separated.
FTS_TOKENIZE = "unicode61 remove_diacritics 0"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS search_docs (
        doc_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        version INTEGER NOT NULL,
        fields TEXT NOT NULL CHECK (json_valid(fields)),
        updated_at TEXT NOT NULL,
        fts_rowid INTEGER NOT NULL UNIQUE
    )""",
    "CREATE INDEX IF NOT EXISTS search_docs_kind ON search_docs (kind)",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(tokens, tokenize='{FTS_TOKENIZE}')",
)
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_SEARCH = """
    SELECT d.doc_id, d.kind, d.fields, bm25(search_fts) AS rank
    FROM search_fts JOIN search_docs AS d ON d.fts_rowid = search_fts.rowid
    WHERE search_fts MATCH :match AND (:kind IS NULL OR d.kind = :kind)
    ORDER BY rank
    LIMIT :limit
"""
_UPDATE_DOC = f"""
    UPDATE search_docs SET kind = ?, version = ?, fields = ?, updated_at = {_NOW}
    WHERE doc_id = ?
"""
_INSERT_DOC = f"""
    INSERT INTO search_docs (doc_id, kind, version, fields, updated_at, fts_rowid)
    VALUES (?, ?, ?, ?, {_NOW}, ?)
"""


class SqliteSearchIndex:
    """Search index stored in one SQLite file (WAL; one writer, many readers).

    Documents live in ``search_docs``; their tokens (see ``index_tokens``) live
    space-separated in the FTS5 table ``search_fts``, linked by ``fts_rowid``
    (an explicit column, because VACUUM may renumber an implicit rowid).
    Methods are thread-safe: one connection per instance, guarded by a lock.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        """Open (creating tables if missing) the index at ``path``."""
        self._lock = threading.Lock()
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._create_schema()

    def upsert(self, *, doc_id: str, kind: str, fields: dict[str, str], version: int) -> bool:
        """Index a document; return False (and change nothing) if ``version`` is stale.

        A version equal to the stored one is applied again, so replays are idempotent.
        """
        with self._transaction() as conn:
            return _apply(conn, SearchDoc(doc_id=doc_id, kind=kind, fields=fields, version=version))

    def upsert_many(self, docs: list[SearchDoc]) -> int:
        """Upsert ``docs`` in order, in one transaction; return how many were applied."""
        with self._transaction() as conn:
            return sum(_apply(conn, doc) for doc in docs)

    def delete(self, *, doc_id: str) -> None:
        """Remove a document; deleting an unknown id is a no-op."""
        with self._transaction() as conn:
            rows = conn.execute("DELETE FROM search_docs WHERE doc_id = ? RETURNING fts_rowid", (doc_id,)).fetchall()
            conn.executemany("DELETE FROM search_fts WHERE rowid = ?", rows)

    def search(self, q: str, *, kind: str | None = None, limit: int = 20) -> list[SearchHit]:
        """Return up to ``limit`` documents matching every term of ``q``, best first.

        Raises ValueError for an empty query or a ``limit`` below 1.
        """
        if limit < 1:
            raise ValueError(f"search limit must be at least 1, got {limit}")
        match = _fts_match(query_groups(q))
        if not match:
            return []
        with self._lock:
            rows = self._conn.execute(_SEARCH, {"match": match, "kind": kind, "limit": limit}).fetchall()
        return [
            SearchHit(doc_id=doc_id, kind=k, fields=json.loads(fields), score=-rank) for doc_id, k, fields, rank in rows
        ]

    def count(self, kind: str | None = None) -> int:
        """Return the number of documents, of one ``kind`` if given."""
        with self._lock:
            if kind is None:
                row = self._conn.execute("SELECT count(*) FROM search_docs").fetchone()
            else:
                row = self._conn.execute("SELECT count(*) FROM search_docs WHERE kind = ?", (kind,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the connection; the instance is unusable afterwards."""
        with self._lock:
            self._conn.close()

    def _create_schema(self) -> None:
        """Create the tables unless they exist (without taking the write lock if they do)."""
        existing = self._conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('search_docs', 'search_fts')"
        ).fetchone()[0]
        if existing < 2:
            with self._transaction() as conn:
                for statement in _SCHEMA:
                    conn.execute(statement)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and a write transaction; commit on success, else roll back."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")


def _fts_match(groups: list[list[str]]) -> str:
    """Build an FTS5 MATCH expression requiring every token, each quoted as a string.

    Quoting (with ``"`` doubled) makes operators such as AND, NEAR( or * plain text.
    """
    return " ".join('"' + token.replace('"', '""') + '"' for group in groups for token in group)


def _apply(conn: sqlite3.Connection, doc: SearchDoc) -> bool:
    """Write ``doc`` inside the caller's transaction unless its version is stale."""
    stored = conn.execute("SELECT version, fts_rowid FROM search_docs WHERE doc_id = ?", (doc.doc_id,)).fetchone()
    if stored is not None and doc.version < stored[0]:
        return False
    tokens = " ".join(token for value in doc.fields.values() for token in index_tokens(value))
    fields = json.dumps(doc.fields, ensure_ascii=False)
    if stored is None:
        fts_rowid = conn.execute("INSERT INTO search_fts (tokens) VALUES (?)", (tokens,)).lastrowid
        conn.execute(_INSERT_DOC, (doc.doc_id, doc.kind, doc.version, fields, fts_rowid))
    else:
        conn.execute("UPDATE search_fts SET tokens = ? WHERE rowid = ?", (tokens, stored[1]))
        conn.execute(_UPDATE_DOC, (doc.kind, doc.version, fields, doc.doc_id))
    return True
