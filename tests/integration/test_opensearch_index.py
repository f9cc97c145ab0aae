"""OpenSearchIndex against a real cluster at CRM_TEST_OPENSEARCH_URL (e.g. http://localhost:9200)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from crmkit.search import OpenSearchIndex, SearchDoc

URL = os.environ.get("CRM_TEST_OPENSEARCH_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="no OpenSearch at CRM_TEST_OPENSEARCH_URL")

ZHANG_WEI = {"name": "张伟", "company": "上海市第六人民医院", "department": "骨科"}
ZHANG_SAN = {"name": "张三", "company": "北京协和医院", "department": "骨科"}


@pytest.fixture
def index() -> Iterator[OpenSearchIndex]:
    """Return a fresh index (writes visible at once), dropped afterwards."""
    from opensearchpy import OpenSearch

    name = f"crm-test-{uuid.uuid4().hex}"
    ix = OpenSearchIndex(URL, name, refresh=True, verify_certs=False)
    yield ix
    ix.close()
    admin = OpenSearch(hosts=URL, verify_certs=False)
    admin.indices.delete(index=name)
    admin.close()


def ids(ix: OpenSearchIndex, q: str) -> list[str]:
    """Return the doc ids that ``q`` finds, in rank order."""
    return [hit.doc_id for hit in ix.search(q)]


def test_seed_query(index: OpenSearchIndex) -> None:
    index.upsert(doc_id="zw", kind="customer", fields=ZHANG_WEI, version=1)
    index.upsert(doc_id="zs", kind="customer", fields=ZHANG_SAN, version=1)
    assert ids(index, "张 上海 骨科") == ["zw"]
    assert ids(index, "张伟") == ["zw"]
    assert sorted(ids(index, "骨科")) == ["zs", "zw"]


def test_phone_latin_and_injection(index: OpenSearchIndex) -> None:
    fields = {"phone": "13812345678", "company": "Acme Corp"}
    index.upsert(doc_id="a", kind="customer", fields=fields, version=1)
    assert ids(index, "13812345678") == ["a"]
    assert ids(index, "ACME") == ["a"]
    for q in ['"', "AND", "*", "NEAR(", "a:b OR *"]:
        index.search(q)


def test_versions_delete_count(index: OpenSearchIndex) -> None:
    assert index.upsert(doc_id="d", kind="customer", fields={"name": "张伟"}, version=2)
    assert index.upsert(doc_id="d", kind="customer", fields={"name": "张伟"}, version=2)
    assert not index.upsert(doc_id="d", kind="customer", fields={"name": "李娜"}, version=1)
    docs = [
        SearchDoc(doc_id="d", kind="customer", fields={"name": "李娜"}, version=1),
        SearchDoc(doc_id="e", kind="lead", fields={"name": "王芳"}, version=1),
    ]
    assert index.upsert_many(docs) == 1
    assert ids(index, "张伟") == ["d"]
    assert (index.count(), index.count("lead")) == (2, 1)
    index.delete(doc_id="d")
    index.delete(doc_id="never-indexed")
    assert ids(index, "张伟") == []
