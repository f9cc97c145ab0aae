"""Text clean-up shared by the name and company normalisers: NFKC, emoji, traditional → simplified."""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

# Invisible or pictographic characters: emoji, their modifiers and joiners, private use.
_DROP_CATEGORIES = frozenset({"So", "Sk", "Cf", "Co", "Cs", "Cn", "Me", "Cc"})
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef\u20e3]")
# Brackets of every width and shape → ASCII parentheses (NFKC already maps （） to ()).
_BRACKETS = str.maketrans(
    {
        "【": "(",
        "】": ")",
        "[": "(",
        "]": ")",
        "〔": "(",
        "〕": ")",
        "［": "(",
        "］": ")",
        "「": "(",
        "」": ")",
        "『": "(",
        "』": ")",
        "〈": "(",
        "〉": ")",
        "《": "(",
        "》": ")",
        "{": "(",
        "}": ")",
        "<": "(",
        ">": ")",
        "﹙": "(",
        "﹚": ")",
    }
)


@functools.lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def strip_emoji(text: str) -> str:
    """``text`` without emoji, pictographs, joiners and variation selectors."""
    text = _VARIATION_SELECTORS.sub("", text)
    return "".join(ch for ch in text if unicodedata.category(ch) not in _DROP_CATEGORIES)


# What :func:`simplify` does to each ASCII character (NFKC leaves ASCII alone, no Han to convert):
# drop control and modifier characters, unify brackets. Built from the general path, so it agrees.
_ASCII = str.maketrans({chr(code): strip_emoji(chr(code)).translate(_BRACKETS) or None for code in range(128)})


def simplify(text: str) -> str:
    """NFKC, emoji dropped, brackets unified, traditional Chinese → simplified, spaces collapsed."""
    if text.isascii():  # e-mails, ids, Latin names: one translate, and no cache entry per unique value
        return " ".join(text.translate(_ASCII).split())
    return _simplify(text)


@functools.lru_cache(maxsize=1 << 17)
def _simplify(text: str) -> str:
    text = strip_emoji(unicodedata.normalize("NFKC", text)).translate(_BRACKETS)
    if any("\u3400" <= ch <= "\u9fff" for ch in text):
        for _ in range(3):  # some variants convert in two steps (薴 → 苧 → 苎): stop at a fixpoint
            simpler = _t2s().convert(text)
            if simpler == text:
                break
            text = simpler
    return " ".join(text.split())


def is_han(ch: str) -> bool:
    """Whether ``ch`` is a CJK unified ideograph."""
    return "\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0002ebef"
