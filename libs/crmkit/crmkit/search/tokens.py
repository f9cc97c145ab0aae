"""Pure tokenisation shared by every search-index backend.

Text is NFKC-normalised and lowercased.  Runs of CJK characters (Han, kana,
hangul) are indexed as every unigram plus every bigram, so any 1- or 2-character
substring of a name matches; other runs of letters/digits are whole words.
The backend-neutral document and hit records live here too, so both backends
share them without depending on each other.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_CJK_CLASS = (
    "["
    "\u1100-\u11ff"  # Hangul Jamo
    "\u3005-\u3007"  # iteration mark, closing mark, ideographic zero
    "\u3021-\u3029"  # Hangzhou numerals
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3130-\u318f"  # Hangul Compatibility Jamo
    "\u31f0-\u31ff"  # Katakana Phonetic Extensions
    "\u3400-\u4dbf"  # CJK Extension A
    "\u4e00-\u9fff"  # CJK Unified Ideographs
    "\ua960-\ua97f"  # Hangul Jamo Extended-A
    "\uac00-\ud7ff"  # Hangul Syllables, Jamo Extended-B
    "\uf900-\ufaff"  # CJK Compatibility Ideographs
    "\U00020000-\U000323af"  # CJK Extensions B-H, Compatibility Supplement
    "]"
)
# A run of letters/digits (``\w`` minus the underscore); everything else separates.
_ALNUM_RUN = re.compile(r"[^\W_]+")
# Splitting an alnum run on this yields [word, cjk, word, cjk, ..., word].
_CJK_SPLIT = re.compile(f"({_CJK_CLASS}+)")
_CJK_TOKEN = re.compile(f"{_CJK_CLASS}+")


@dataclass(frozen=True)
class SearchDoc:
    """A document to index: every value of ``fields`` is searchable."""

    doc_id: str
    kind: str
    fields: dict[str, str]
    version: int


@dataclass(frozen=True)
class SearchHit:
    """A search result; a higher ``score`` means a better match."""

    doc_id: str
    kind: str
    fields: dict[str, str]
    score: float


def normalize(text: str) -> str:
    """Return ``text`` NFKC-normalised and lowercased, as every backend indexes it."""
    return unicodedata.normalize("NFKC", text).lower()


def is_cjk_token(token: str) -> bool:
    """Tell whether ``token`` is a CJK unigram/bigram rather than a whole word."""
    return _CJK_TOKEN.fullmatch(token) is not None


def index_tokens(text: str) -> list[str]:
    """Return the tokens to index for ``text``, in text order.

    A CJK run yields all its unigrams then all its bigrams ("上海市" → 上, 海, 市,
    上海, 海市); any other letter/digit run yields itself as one word
    ("Zhang", "13812345678").
    """
    tokens: list[str] = []
    for cjk, run in _runs(normalize(text)):
        if cjk:
            tokens.extend(run)
            tokens.extend(_bigrams(run))
        else:
            tokens.append(run)
    return tokens


def query_groups(q: str) -> list[list[str]]:
    """Split a search query into AND-ed terms, each the tokens it requires.

    Terms are separated by whitespace or punctuation.  A 1-character CJK term
    requires that character, a longer CJK term all of its bigrams, a word itself;
    a term mixing scripts ("iPhone手机") requires the tokens of every part.
    Raises ``ValueError("empty search query")`` for an empty or blank query; a
    query made only of punctuation yields no terms.
    """
    if not q.strip():
        raise ValueError("empty search query")
    return [_term_tokens(term) for term in _ALNUM_RUN.findall(normalize(q))]


def _term_tokens(term: str) -> list[str]:
    """Return the distinct tokens that one normalised query term requires."""
    tokens: list[str] = []
    for cjk, run in _runs(term):
        if cjk and len(run) > 1:
            tokens.extend(_bigrams(run))
        else:
            tokens.append(run)
    return list(dict.fromkeys(tokens))


def _runs(normalised: str) -> list[tuple[bool, str]]:
    """Split normalised text into (is_cjk, run) pairs, in text order."""
    runs: list[tuple[bool, str]] = []
    for alnum in _ALNUM_RUN.findall(normalised):
        for i, part in enumerate(_CJK_SPLIT.split(alnum)):
            if part:
                runs.append((i % 2 == 1, part))
    return runs


def _bigrams(run: str) -> list[str]:
    """Return every pair of adjacent characters of ``run``."""
    return [run[i : i + 2] for i in range(len(run) - 1)]
