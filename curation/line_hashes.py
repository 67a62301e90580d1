"""Every line of every text hashed the way boilerplate lines are compared, compiled with Numba:
stripped, lower-cased, each digit read as 0 and each run of whitespace as one space. One pass over
the text column's bytes in place; the Polars version split a gigabyte into lines, rewrote each
line twice and hashed it (benchmarks/curation.py).

Only ASCII is normalised here. A line with other characters is flagged; the caller normalises it
with Unicode rules and hashes the result with this same kernel, which leaves a normalised line as
it is, so both paths give one hash for one key.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from curation.hash_primitives import FNV_OFFSET, FNV_PRIME, fmix64


@njit(parallel=True, cache=True)
def line_counts(data, starts, ends):
    """Lines per text: newlines + 1 (an empty text is one empty line, as `str.split("\\n")` has it)."""
    n = len(starts)
    out = np.empty(n, dtype=np.int64)
    for d in prange(n):
        newlines = 0
        for i in range(starts[d], ends[d]):
            newlines += data[i] == 10
        out[d] = newlines + 1
    return out


def _byte_tables() -> tuple[np.ndarray, np.ndarray]:
    """What each byte becomes in a key (A-Z lower-cased, digits 0, whitespace a space) and whether
    it is whitespace (the newline is not: it ends the line)."""
    key = np.arange(256, dtype=np.uint64)
    key[ord("A") : ord("Z") + 1] += 32
    key[ord("0") : ord("9") + 1] = ord("0")
    space = np.zeros(256, dtype=np.bool_)
    space[[9, 11, 12, 13, 32]] = True
    key[space] = 32
    return key, space


_KEY_BYTE, _SPACE = _byte_tables()


@njit(parallel=True, cache=True)
def line_hashes(data, starts, ends, counts):
    """Per line, text after text (`counts` lines each): the key's hash, its length in characters
    and whether the line has a non-ASCII byte. The key is hashed as it is read, without branches
    on the bytes (a branch per word boundary is mispredicted about as often as it is taken): a
    space is hashed after each word, and the hash and length are those at the last word's end."""
    n = len(starts)
    first_line = np.zeros(n + 1, dtype=np.int64)
    first_line[1:] = np.cumsum(counts)
    keys = np.empty(first_line[n], dtype=np.uint64)
    chars = np.zeros(first_line[n], dtype=np.int64)
    other = np.zeros(first_line[n], dtype=np.bool_)
    for d in prange(n):
        line = first_line[d]
        h = h_end = FNV_OFFSET
        length = length_end = 0
        after_word = wide = False
        for i in range(starts[d], ends[d] + 1):
            c = data[i] if i < ends[d] else 10
            if c == 10:
                keys[line], chars[line], other[line] = fmix64(h_end), length_end, wide
                line += 1
                h = h_end = FNV_OFFSET
                length = length_end = 0
                after_word = wide = False
                continue
            space = _SPACE[c]
            hashed = (h ^ _KEY_BYTE[c]) * FNV_PRIME
            take = after_word | ~space  # a run of whitespace counts once, and not at the start
            h = hashed if take else h
            length += take & ((c & 0xC0) != 0x80)  # UTF-8 continuation bytes are not characters
            h_end = h_end if space else h
            length_end = length_end if space else length
            after_word = ~space
            wide |= c >= 128
    return keys, chars, other
