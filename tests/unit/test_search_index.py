"""Unit tests for crmkit.search: tokens, SqliteSearchIndex, OpenSearch bodies, URL factory."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from crmkit import search
from crmkit.search import SearchDoc, SqliteSearchIndex, open_search_index
from crmkit.search.opensearch_index import count_body, document_body, index_body, query_body
from crmkit.search.sqlite_index import FTS_TOKENIZE
from crmkit.search.tokens import index_tokens, is_cjk_token, query_groups
from hypothesis import given, settings
from hypothesis import strategies as st

ZHANG_WEI = {"name": "张伟", "company": "上海市第六人民医院", "department": "骨科"}
ZHANG_SAN = {"name": "张三", "company": "北京协和医院", "department": "骨科"}


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteSearchIndex]:
    """Return an empty index in a fresh file."""
    ix = SqliteSearchIndex(tmp_path / "search.db")
    yield ix
    ix.close()


def ids(ix: SqliteSearchIndex, q: str, **kwargs: Any) -> list[str]:
    """Return the doc ids that ``q`` finds, in rank order."""
    return [hit.doc_id for hit in ix.search(q, **kwargs)]


# --- tokens -----------------------------------------------------------------


def test_cjk_runs_yield_unigrams_and_bigrams() -> None:
    assert index_tokens("张伟") == ["张", "伟", "张伟"]
    assert index_tokens("上海市") == ["上", "海", "市", "上海", "海市"]


def test_words_are_whole_nfkc_lowercased_and_split_from_cjk() -> None:
    assert index_tokens("Zhang-Wei 13812345678") == ["zhang", "wei", "13812345678"]
    assert index_tokens("ＡＢＣ１２３") == ["abc123"]
    assert index_tokens("iPhone手机") == ["iphone", "手", "机", "手机"]


def test_query_groups_per_term() -> None:
    assert query_groups("张 上海 骨科") == [["张"], ["上海"], ["骨科"]]
    assert query_groups("上海市, Acme") == [["上海", "海市"], ["acme"]]
    assert query_groups("哈哈哈") == [["哈哈"]]
    assert query_groups('" * NEAR(') == [["near"]]
    assert query_groups('"') == []


@pytest.mark.parametrize("q", ["", "   ", "\t\n", "\u3000"])
def test_empty_query_raises(q: str) -> None:
    with pytest.raises(ValueError, match="empty search query"):
        query_groups(q)


def test_is_cjk_token() -> None:
    assert is_cjk_token("张伟") and is_cjk_token("か")
    assert not is_cjk_token("abc") and not is_cjk_token("138")


# --- FTS5 tokenizer ---------------------------------------------------------


def test_unicode61_keeps_cjk_bigram_as_one_term() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(tokens, tokenize='{FTS_TOKENIZE}')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, row)")
    conn.execute("INSERT INTO t VALUES (?)", (" ".join(index_tokens("张伟 上海市")),))
    terms = {row[0] for row in conn.execute("SELECT term FROM v")}
    assert terms == {"张", "伟", "张伟", "上", "海", "市", "上海", "海市"}


def test_bigram_query_needs_the_bigram_not_both_chars(index: SqliteSearchIndex) -> None:
    # "伟张" holds 张 and 伟 (and would hold "张 伟" as a phrase if bigrams were split).
    index.upsert(doc_id="reversed", kind="customer", fields={"name": "伟张"}, version=1)
    index.upsert(doc_id="zw", kind="customer", fields={"name": "张伟"}, version=1)
    assert ids(index, "张伟") == ["zw"]


# --- SqliteSearchIndex ------------------------------------------------------


def test_seed_query_finds_zhang_wei_only(index: SqliteSearchIndex) -> None:
    index.upsert(doc_id="zw", kind="customer", fields=ZHANG_WEI, version=1)
    index.upsert(doc_id="zs", kind="customer", fields=ZHANG_SAN, version=1)
    assert ids(index, "张 上海 骨科") == ["zw"]
    assert ids(index, "张伟") == ["zw"]
    assert sorted(ids(index, "骨科")) == ["zs", "zw"]


def test_hit_carries_document(index: SqliteSearchIndex) -> None:
    index.upsert(doc_id="zw", kind="customer", fields=ZHANG_WEI, version=3)
    [hit] = index.search("张伟")
    assert (hit.doc_id, hit.kind, hit.fields) == ("zw", "customer", ZHANG_WEI)
    assert hit.score > 0


def test_phone_digits_are_one_token(index: SqliteSearchIndex) -> None:
    index.upsert(doc_id="p", kind="customer", fields={"phone": "13812345678"}, version=1)
    assert ids(index, "13812345678") == ["p"]
    assert ids(index, "1381234") == []


def test_latin_is_case_insensitive(index: SqliteSearchIndex) -> None:
    index.upsert(doc_id="a", kind="customer", fields={"company": "Acme Corp"}, version=1)
    assert ids(index, "ACME corp") == ["a"]
    assert ids(index, "ａｃｍｅ") == ["a"]


def test_stale_version_is_ignored(index: SqliteSearchIndex) -> None:
    assert index.upsert(doc_id="d", kind="customer", fields={"name": "张伟"}, version=2)
    assert not index.upsert(doc_id="d", kind="customer", fields={"name": "李娜"}, version=1)
    assert ids(index, "张伟") == ["d"]
    assert ids(index, "李娜") == []


def test_same_version_replay_is_applied_idempotently(index: SqliteSearchIndex) -> None:
    for _ in range(2):
        assert index.upsert(doc_id="d", kind="customer", fields={"name": "张伟"}, version=2)
    assert index.count() == 1
    assert ids(index, "张伟") == ["d"]


def test_newer_version_replaces_tokens(index: SqliteSearchIndex) -> None:
    index.upsert(doc_id="d", kind="customer", fields={"name": "张伟"}, version=1)
    index.upsert(doc_id="d", kind="lead", fields={"name": "李娜"}, version=2)
    assert ids(index, "张伟") == []
    assert [(h.doc_id, h.kind) for h in index.search("李娜")] == [("d", "lead")]


def test_delete(index: SqliteSearchIndex) -> None:
    index.upsert(doc_id="d", kind="customer", fields=ZHANG_WEI, version=1)
    index.delete(doc_id="d")
    index.delete(doc_id="never-indexed")
    assert ids(index, "张伟") == []
    assert index.count() == 0


def test_upsert_many_counts_applied_and_skips_stale(index: SqliteSearchIndex) -> None:
    index.upsert(doc_id="old", kind="customer", fields={"name": "王芳"}, version=5)
    docs = [
        SearchDoc(doc_id="zw", kind="customer", fields=ZHANG_WEI, version=1),
        SearchDoc(doc_id="zs", kind="lead", fields=ZHANG_SAN, version=1),
        SearchDoc(doc_id="old", kind="customer", fields={"name": "赵敏"}, version=4),
    ]
    assert index.upsert_many(docs) == 2
    assert (index.count(), index.count("customer"), index.count("lead")) == (3, 2, 1)
    assert ids(index, "王芳") == ["old"]


def test_upsert_many_is_atomic(index: SqliteSearchIndex) -> None:
    bad = SearchDoc(doc_id="bad", kind="customer", fields={"name": None}, version=1)  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        index.upsert_many([SearchDoc(doc_id="ok", kind="customer", fields=ZHANG_WEI, version=1), bad])
    assert index.count() == 0
    assert index.upsert(doc_id="ok", kind="customer", fields=ZHANG_WEI, version=1)


def test_kind_filter_and_limit(index: SqliteSearchIndex) -> None:
    index.upsert_many(
        [SearchDoc(doc_id=f"c{i}", kind="customer", fields={"d": "骨科"}, version=1) for i in range(5)]
        + [SearchDoc(doc_id="l", kind="lead", fields={"d": "骨科"}, version=1)]
    )
    assert ids(index, "骨科", kind="lead") == ["l"]
    assert len(index.search("骨科", limit=3)) == 3
    with pytest.raises(ValueError, match="limit"):
        index.search("骨科", limit=0)


def test_ranking_prefers_more_occurrences(index: SqliteSearchIndex) -> None:
    index.upsert(doc_id="once", kind="c", fields={"a": "骨科", "b": "上海市第六人民医院"}, version=1)
    index.upsert(doc_id="twice", kind="c", fields={"a": "骨科", "b": "骨科"}, version=1)
    assert ids(index, "骨科") == ["twice", "once"]


@pytest.mark.parametrize(
    "q", ['"', "'", "AND", "OR", "NOT", "*", "NEAR(", 'NEAR("a" "b", 1)', "张*", "^骨科", "a:b", "(", ")"]
)
def test_fts_syntax_in_query_never_raises(index: SqliteSearchIndex, q: str) -> None:
    index.upsert(doc_id="zw", kind="customer", fields=ZHANG_WEI, version=1)
    hits = index.search(q)
    assert all(hit.doc_id == "zw" for hit in hits)


@pytest.mark.parametrize("q", ["", "  ", "\n"])
def test_empty_search_raises(index: SqliteSearchIndex, q: str) -> None:
    with pytest.raises(ValueError, match="empty search query"):
        index.search(q)


def test_second_connection_sees_writes(index: SqliteSearchIndex, tmp_path: Path) -> None:
    index.upsert(doc_id="zw", kind="customer", fields=ZHANG_WEI, version=1)
    reader = SqliteSearchIndex(tmp_path / "search.db")
    try:
        assert ids(reader, "张伟") == ["zw"]
        index.delete(doc_id="zw")
        assert ids(reader, "张伟") == []
    finally:
        reader.close()


def test_concurrent_threads(index: SqliteSearchIndex) -> None:
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(50):
                index.upsert(doc_id=f"{worker}-{i}", kind="customer", fields=ZHANG_WEI, version=1)
                index.search("张 上海")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert index.count() == 200


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteSearchIndex]:
    """Return one index reused across hypothesis examples (each overwrites doc "p")."""
    ix = SqliteSearchIndex(tmp_path_factory.mktemp("prop") / "search.db")
    yield ix
    ix.close()


_VERSIONS = count(1)
_HAN_NAME = st.text(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF, categories=["Lo"]),
    min_size=1,
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(name=_HAN_NAME, data=st.data())
def test_any_1_or_2_char_substring_finds_the_name(
    shared_index: SqliteSearchIndex, name: str, data: st.DataObject
) -> None:
    shared_index.upsert(doc_id="p", kind="customer", fields={"name": name}, version=next(_VERSIONS))
    start = data.draw(st.integers(0, len(name) - 1), label="start")
    length = data.draw(st.integers(1, min(2, len(name) - start)), label="length")
    assert ids(shared_index, name[start : start + length]) == ["p"]


# --- OpenSearch request bodies (pure; no cluster needed) -------------------


def test_index_body_declares_ngram_analyzer_and_strict_mapping() -> None:
    body = index_body()
    analysis = body["settings"]["analysis"]
    [(name, tokenizer)] = analysis["tokenizer"].items()
    assert tokenizer == {
        "type": "ngram",
        "min_gram": 1,
        "max_gram": 2,
        "token_chars": ["letter", "digit"],
    }
    [(analyzer_name, analyzer)] = analysis["analyzer"].items()
    assert analyzer["tokenizer"] == name and "lowercase" in analyzer["filter"]
    props = body["mappings"]["properties"]
    assert body["mappings"]["dynamic"] == "strict"
    assert props["text"] == {"type": "text", "analyzer": analyzer_name}
    assert props["words"] == {"type": "keyword"} and props["kind"] == {"type": "keyword"}
    assert props["fields"] == {"type": "object", "enabled": False}


def test_document_body_normalises_text_and_extracts_words() -> None:
    body = document_body("customer", {"name": "张伟", "email": "Zhang.Wei@ACME.com", "x": "zhang"})
    assert body["kind"] == "customer"
    assert body["fields"] == {"name": "张伟", "email": "Zhang.Wei@ACME.com", "x": "zhang"}
    assert body["text"] == "张伟\nzhang.wei@acme.com\nzhang"
    assert body["words"] == ["zhang", "wei", "acme", "com"]


def test_query_body_requires_every_token_exactly() -> None:
    body = query_body("张 上海市 ACME", kind="customer", limit=5)
    assert body["size"] == 5
    assert body["_source"] == ["kind", "fields"]
    assert body["query"] == {
        "bool": {
            "must": [
                {"term": {"text": "张"}},
                {"term": {"text": "上海"}},
                {"term": {"text": "海市"}},
                {"term": {"words": "acme"}},
            ],
            "filter": [{"term": {"kind": "customer"}}],
        }
    }


def test_query_body_without_terms_matches_nothing() -> None:
    assert query_body('"*"')["query"] == {"match_none": {}}
    with pytest.raises(ValueError, match="empty search query"):
        query_body("  ")
    with pytest.raises(ValueError, match="limit"):
        query_body("张", limit=0)


def test_count_body() -> None:
    assert count_body() == {"query": {"match_all": {}}}
    assert count_body("lead") == {"query": {"term": {"kind": "lead"}}}


# --- open_search_index ------------------------------------------------------


def test_open_sqlite_relative_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_search_index("sqlite:///rel.db")
    absolute = open_search_index(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(relative, SqliteSearchIndex) and isinstance(absolute, SqliteSearchIndex)
    relative.close()
    absolute.close()
    assert (tmp_path / "rel.db").exists() and (tmp_path / "abs.db").exists()


@pytest.mark.parametrize(
    ("url", "hosts", "index_name"),
    [
        ("http://localhost:9200", "http://localhost:9200", "customers"),
        ("https://u:p@search:9200/leads/", "https://u:p@search:9200", "leads"),
    ],
)
def test_open_opensearch(monkeypatch: pytest.MonkeyPatch, url: str, hosts: str, index_name: str) -> None:
    calls: list[tuple[str, str]] = []
    opened = object()

    def fake_index(hosts: str, index: str) -> object:
        calls.append((hosts, index))
        return opened

    monkeypatch.setattr(search, "OpenSearchIndex", fake_index)
    assert open_search_index(url) is opened
    assert calls == [(hosts, index_name)]


@pytest.mark.parametrize("url", ["ftp://x/y", "postgres://db/crm", "search.db"])
def test_open_unknown_scheme_names_it(url: str) -> None:
    scheme = url.split("://", maxsplit=1)[0] if "://" in url else ""
    with pytest.raises(ValueError, match=f"scheme '{scheme}'"):
        open_search_index(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [("sqlite://", "must look like"), ("sqlite://host/x.db", "must look like"), ("http://h:9200/a/b", "index name")],
)
def test_open_malformed_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_search_index(url)
