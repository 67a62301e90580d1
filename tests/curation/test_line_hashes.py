"""The compiled line keys agree with the Unicode rules they stand in for (boilerplate.line_key)."""

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.boilerplate import line_key
from curation.line_hashes import line_counts, line_hashes
from curation.text_bytes import TextBytes

# ASCII letters of both cases, digits, every kind of ASCII whitespace but the newline, punctuation
ascii_lines = st.text(alphabet="aAbBzZ019 \t\r\x0b\x0c.-'", max_size=30)
lines = st.text(alphabet="aAbZ09 \t.\u00e9\u00c9\u00a0\u0663\u4e2d", max_size=30)  # é É nbsp ٣ 中


def hashed(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    b = TextBytes.of(pl.Series(texts, dtype=pl.String))
    counts = line_counts(b.data, b.starts, b.ends)
    return (counts, *line_hashes(b.data, b.starts, b.ends, counts))


def polars_keys(texts: list[str]) -> list[str]:
    return pl.select(line_key(pl.lit(pl.Series(texts, dtype=pl.String)))).to_series().to_list()


@settings(max_examples=300, deadline=None)
@given(st.lists(ascii_lines, min_size=1, max_size=8))
def test_ascii_lines_hash_as_their_unicode_key_does(texts):
    _, keys, chars, wide = hashed(texts)
    expected = polars_keys(texts)
    _, key_of_key, _, _ = hashed(expected)
    assert not wide.any()
    assert keys.tolist() == key_of_key.tolist()  # normalised once, a key is left as it is
    assert chars.tolist() == [len(k) for k in expected]
    for i, j in zip(range(len(texts)), range(1, len(texts)), strict=False):
        assert (keys[i] == keys[j]) == (expected[i] == expected[j])


@settings(max_examples=200, deadline=None)
@given(st.lists(lines, min_size=1, max_size=4).map("\n".join))
def test_every_line_is_counted_and_non_ascii_ones_are_flagged(text):
    counts, _, chars, wide = hashed([text])
    split = text.split("\n")
    assert counts.tolist() == [len(split)]
    assert wide.tolist() == [any(ord(c) > 127 for c in line) for line in split]
    # normalising with Unicode rules only shortens a line: the kernel's length bounds it
    assert all(len(k) <= n for k, n in zip(polars_keys(split), chars.tolist(), strict=True))


def test_digits_case_and_spacing_do_not_hide_a_repeat():
    _, keys, _, _ = hashed(["  Ad 12 of  the DAY\t", "ad 99 of the day", "ad of the day"])
    assert keys[0] == keys[1] != keys[2]
