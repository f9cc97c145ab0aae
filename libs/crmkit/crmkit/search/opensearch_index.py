"""Search index on OpenSearch (opensearch-py, imported lazily: an optional dependency).

Each document is stored as ``{kind, fields, text, words}``: ``text`` holds the
NFKC-normalised, lowercased field values analysed into 1-2 character n-grams of
letters/digits (the CJK unigrams and bigrams), ``words`` the whole-word tokens
as keywords.  Queries are exact ``term`` clauses built by ``query_groups``, so
no user input ever reaches a query parser.  Stale writes are rejected by the
cluster through ``version_type=external_gte``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .tokens import (
    SearchDoc,
    SearchHit,
    index_tokens,
    is_cjk_token,
    normalize,
    query_groups,
)

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

DEFAULT_INDEX = "customers"
_ANALYZER = "crm_ngram_1_2"
_VERSION_TYPE = "external_gte"
_CONFLICT = 409


def index_body() -> dict[str, Any]:
    """Return the settings and mappings used to create the index."""
    return {
        "settings": {
            "analysis": {
                "tokenizer": {
                    _ANALYZER: {
                        "type": "ngram",
                        "min_gram": 1,
                        "max_gram": 2,
                        "token_chars": ["letter", "digit"],
                    }
                },
                "analyzer": {_ANALYZER: {"type": "custom", "tokenizer": _ANALYZER, "filter": ["lowercase"]}},
            }
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "kind": {"type": "keyword"},
                "fields": {"type": "object", "enabled": False},
                "text": {"type": "text", "analyzer": _ANALYZER},
                "words": {"type": "keyword"},
            },
        },
    }


def document_body(kind: str, fields: dict[str, str]) -> dict[str, Any]:
    """Return the ``_source`` stored for a document."""
    words = (t for value in fields.values() for t in index_tokens(value) if not is_cjk_token(t))
    return {
        "kind": kind,
        "fields": fields,
        "text": "\n".join(normalize(value) for value in fields.values()),
        "words": list(dict.fromkeys(words)),
    }


def query_body(q: str, *, kind: str | None = None, limit: int = 20) -> dict[str, Any]:
    """Return the search request body for ``q``: every query token must match.

    Raises ValueError for an empty query (see ``query_groups``) or a ``limit`` below 1.
    """
    if limit < 1:
        raise ValueError(f"search limit must be at least 1, got {limit}")
    must = [_token_clause(token) for group in query_groups(q) for token in group]
    query: dict[str, Any] = {"bool": {"must": must}} if must else {"match_none": {}}
    if must and kind is not None:
        query["bool"]["filter"] = [{"term": {"kind": kind}}]
    return {"size": limit, "_source": ["kind", "fields"], "query": query}


def count_body(kind: str | None = None) -> dict[str, Any]:
    """Return the count request body, restricted to one ``kind`` if given."""
    return {"query": {"match_all": {}} if kind is None else {"term": {"kind": kind}}}


def _token_clause(token: str) -> dict[str, Any]:
    """Return the exact-match clause for one query token."""
    return {"term": {"text": token}} if is_cjk_token(token) else {"term": {"words": token}}


class OpenSearchIndex:
    """Search index in one OpenSearch index (created with ``index_body`` if missing)."""

    def __init__(
        self,
        hosts: str | list[str],
        index: str = DEFAULT_INDEX,
        *,
        refresh: bool = False,
        **client_options: Any,
    ) -> None:
        """Connect to ``hosts``; ``refresh=True`` makes every write visible before it returns.

        ``client_options`` (http_auth, verify_certs, timeout, ...) go to ``OpenSearch``.
        """
        from opensearchpy import OpenSearch

        self._client: OpenSearch = OpenSearch(hosts=hosts, **client_options)
        self._index = index
        self._refresh = "wait_for" if refresh else "false"
        self._ensure_index()

    def upsert(self, *, doc_id: str, kind: str, fields: dict[str, str], version: int) -> bool:
        """Index a document; return False (and change nothing) if ``version`` is stale."""
        from opensearchpy import ConflictError

        try:
            self._client.index(
                index=self._index,
                id=doc_id,
                body=document_body(kind, fields),
                version=version,
                version_type=_VERSION_TYPE,
                refresh=self._refresh,
            )
        except ConflictError:
            return False
        return True

    def upsert_many(self, docs: list[SearchDoc]) -> int:
        """Upsert ``docs`` with the bulk API; return how many were applied (not stale).

        Raises ``opensearchpy.helpers.BulkIndexError`` if any failed for another reason.
        """
        from opensearchpy.helpers import BulkIndexError, streaming_bulk

        applied, failures = 0, []
        for ok, item in streaming_bulk(
            self._client, map(self._bulk_action, docs), raise_on_error=False, refresh=self._refresh
        ):
            if ok:
                applied += 1
            elif item["index"].get("status") != _CONFLICT:
                failures.append(item["index"])
        if failures:
            raise BulkIndexError(f"{len(failures)} document(s) failed to index", failures)
        return applied

    def delete(self, *, doc_id: str) -> None:
        """Remove a document; deleting an unknown id is a no-op."""
        from opensearchpy import NotFoundError

        try:
            self._client.delete(index=self._index, id=doc_id, refresh=self._refresh)
        except NotFoundError:
            return

    def search(self, q: str, *, kind: str | None = None, limit: int = 20) -> list[SearchHit]:
        """Return up to ``limit`` documents matching every term of ``q``, best first."""
        response = self._client.search(index=self._index, body=query_body(q, kind=kind, limit=limit))
        return [
            SearchHit(
                doc_id=hit["_id"],
                kind=hit["_source"]["kind"],
                fields=hit["_source"]["fields"],
                score=float(hit["_score"]),
            )
            for hit in response["hits"]["hits"]
        ]

    def count(self, kind: str | None = None) -> int:
        """Return the number of documents, of one ``kind`` if given."""
        return int(self._client.count(index=self._index, body=count_body(kind))["count"])

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    def _ensure_index(self) -> None:
        """Create the index unless it exists (tolerating a concurrent creator)."""
        from opensearchpy import RequestError

        if self._client.indices.exists(index=self._index):
            return
        try:
            self._client.indices.create(index=self._index, body=index_body())
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise

    def _bulk_action(self, doc: SearchDoc) -> dict[str, Any]:
        """Return the bulk ``index`` action for one document."""
        return {
            "_op_type": "index",
            "_index": self._index,
            "_id": doc.doc_id,
            "version": doc.version,
            "version_type": _VERSION_TYPE,
            "_source": document_body(doc.kind, doc.fields),
        }
