"""Word counts that are right for English and for Chinese/Japanese.

CJK scripts do not separate words with spaces, so each Han, Hiragana or Katakana character counts as
one word (the usual convention for Chinese length limits; close to what a segmenter gives for limits).
Elsewhere a word is a run of letters or digits, with inner apostrophes ("don't" is one word).
Hangul is written with spaces, so it is counted like English.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numba import njit, prange

from curation.text_bytes import TextBytes

_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}"
_LETTER = rf"[[\p{{L}}\p{{N}}\p{{M}}]--[{_CJK}]]"
WORD_PATTERN = rf"{_LETTER}+(?:['’]{_LETTER}+)*|[{_CJK}]"


def count_words(text: pl.Expr) -> pl.Expr:
    """Words per text (0 for null). About 40 ns a word: run it in a streaming query to use every core."""
    return text.str.count_matches(WORD_PATTERN).fill_null(0).cast(pl.Int32)


def word_counts(texts: pl.Series, text_bytes: TextBytes | None = None) -> pl.Series:
    """`count_words` of a whole column, the same numbers: ASCII texts are counted by a compiled scan
    of their bytes (a gigabyte in under a second here, the regex takes seconds), the rest by the regex.
    `text_bytes`: the same texts as bytes, when the caller has them."""
    b = TextBytes.of(texts) if text_bytes is None else text_bytes
    counts = pl.Series(texts.name, _ascii_word_counts(b.data, b.starts, b.ends), dtype=pl.Int32)
    other = (texts.str.len_bytes() != texts.str.len_chars()).fill_null(False).arg_true()
    if other.is_empty():
        return counts
    return counts.scatter(other, pl.select(count_words(pl.lit(texts.gather(other)))).to_series())


@njit(inline="always")
def _alnum(c):
    return (48 <= c <= 57) | (65 <= c <= 90) | (97 <= c <= 122)


@njit(parallel=True, cache=True)
def _ascii_word_counts(data, starts, ends):
    """WORD_PATTERN on ASCII: a word starts at a letter or digit that follows neither another one
    nor an apostrophe right after one (that apostrophe joins: "don't")."""
    n = len(starts)
    out = np.zeros(n, dtype=np.int32)
    for d in prange(n):
        count, previous, before = 0, 0, 0
        for i in range(starts[d], ends[d]):
            c = data[i]
            count += _alnum(c) & ~_alnum(previous) & ~((previous == 39) & _alnum(before))
            before, previous = previous, c
        out[d] = count
    return out
