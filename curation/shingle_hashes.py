"""Word-shingle hashes, MinHash signatures and exact shingle Jaccard, compiled with Numba.

They read a text column's UTF-8 bytes in place (curation/text_bytes.py) and keep a text's shingle
hashes only while it is hashed or compared: at the paper's 400k+ articles (100M+ words) a NumPy
version that exploded every word into arrays first spent most of its time moving memory, 4x
slower, and keeping every candidate text's shingles took 0.9 GB (benchmarks/curation.py).

A word is a run of bytes between ASCII whitespace, ASCII letters lower-cased (TextBytes holds the
texts with other letters already lower-cased). A shingle is `size` words in
a row; a text shorter than that is one shingle of all its words, an empty text has none.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from curation.hash_primitives import FNV_OFFSET, FNV_PRIME, fmix64

_MIX = np.uint64(0x9E3779B97F4A7C15)  # mixes one word hash into the next: shingles are ordered


def _byte_tables() -> tuple[np.ndarray, np.ndarray]:
    """Each byte as hashed (A-Z lower-cased) and whether it is ASCII whitespace."""
    lower = np.arange(256, dtype=np.uint64)
    lower[ord("A") : ord("Z") + 1] += 32
    space = np.zeros(256, dtype=np.bool_)
    space[[9, 10, 11, 12, 13, 32]] = True
    return lower, space


_LOWER, _SPACE = _byte_tables()


@njit
def _words(data, lo, hi, out):
    """Hashes of the words in data[lo:hi] into `out` (room for one more); returns how many.
    No branch on the bytes: a branch per word boundary is mispredicted about as often as it is
    taken, and this loop runs over every byte of the corpus (1.4x faster without)."""
    n = 0
    h = FNV_OFFSET
    in_word = False
    for i in range(lo, hi):
        c = data[i]
        space = _SPACE[c]
        out[n] = h  # kept only when this byte ends a word
        n += space & in_word
        hashed = (h ^ _LOWER[c]) * FNV_PRIME
        h = FNV_OFFSET if space else hashed
        in_word = ~space
    out[n] = h
    n += in_word
    for i in range(n):
        out[i] = fmix64(out[i])
    return n


@njit(inline="always")
def _word_room(lo, hi):
    """Room for the words of data[lo:hi] and one more: a word takes a byte and a separator."""
    return (hi - lo + 1) // 2 + 1


@njit
def _shingles(data, lo, hi, size, words, out):
    """The shingle hashes of data[lo:hi] into `out` (`words`: room for the text's words + 1);
    returns how many."""
    m = _words(data, lo, hi, words)
    if m == 0:
        return 0
    if m < size:
        h = words[0]
        for j in range(1, m):
            h = h * _MIX ^ words[j]
        out[0] = fmix64(h)
        return 1
    for i in range(m - size + 1):
        h = words[i]
        for j in range(1, size):
            h = h * _MIX ^ words[i + j]
        out[i] = fmix64(h)
    return m - size + 1


@njit(parallel=True, cache=True)
def minhash(data, starts, ends, size, a, b):
    """Each text's shingle count and its (texts, len(a)) uint32 MinHash signature, in one pass
    that keeps no shingle. Hash function j is (a[j] * x + b[j]) >> 32 on 64 bits (multiply-shift,
    a[j] odd). A text without shingles keeps all-ones."""
    n, perms = len(starts), len(a)
    counts = np.zeros(n, dtype=np.int64)
    signatures = np.full((n, perms), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    for d in prange(n):
        words = np.empty(_word_room(starts[d], ends[d]), dtype=np.uint64)
        run = np.empty(len(words), dtype=np.uint64)
        k = _shingles(data, starts[d], ends[d], size, words, run)
        counts[d] = k
        low = np.full(perms, np.uint64(0xFFFFFFFF), dtype=np.uint64)
        for i in range(k):
            x = run[i]
            for j in range(perms):
                low[j] = min(low[j], (a[j] * x + b[j]) >> np.uint64(32))
        for j in range(perms):
            signatures[d, j] = np.uint32(low[j])
    return counts, signatures


@njit(inline="always")
def _probe(keys, marks, key, mask, stamp):
    """The slot holding `key` in this pair's table, or the empty slot where it goes. Slots with an
    older stamp count as empty, so the table is never cleared between pairs. Only the low bits of
    `mask` index; shingle hashes are already mixed."""
    slot = key & mask
    while marks[slot] >= stamp and keys[slot] != key:
        slot = (slot + np.uint64(1)) & mask
    return slot


@njit(parallel=True, cache=True)
def pair_jaccard(data, starts, ends, size, first, other):
    """Exact Jaccard of the shingle sets of each (first[p], other[p]) pair of texts, each text's
    shingles made as its pair is compared and kept no longer, counted with an open-addressing hash
    table (no sorting). Pairs are taken in contiguous chunks, one table each; pairs sorted by
    `first` hash a first text once per run of its pairs."""
    out = np.zeros(len(first), dtype=np.float64)
    chunks = 64
    for c in prange(chunks):
        lo, hi = c * len(first) // chunks, (c + 1) * len(first) // chunks
        _jaccard_chunk(data, starts, ends, size, first, other, lo, hi, out)
    return out


@njit
def _jaccard_chunk(data, starts, ends, size, first, other, lo, hi, out):
    words = np.zeros(0, dtype=np.uint64)
    a_run = np.zeros(0, dtype=np.uint64)
    b_run = np.zeros(0, dtype=np.uint64)
    keys = np.zeros(0, dtype=np.uint64)
    marks = np.zeros(0, dtype=np.int64)  # 4 * (pair + 1), plus 1 (in the first text), 2 (other), 3 (both)
    a_text, a_n = -1, 0
    for p in range(lo, hi):
        a, b = first[p], other[p]
        room = max(_word_room(starts[a], ends[a]), _word_room(starts[b], ends[b]))
        if room > len(words):
            words = np.empty(room, dtype=np.uint64)
            b_run = np.empty(room, dtype=np.uint64)
        if a != a_text:
            if room > len(a_run):
                a_run = np.empty(room, dtype=np.uint64)
            a_text, a_n = a, _shingles(data, starts[a], ends[a], size, words, a_run)
        b_n = _shingles(data, starts[b], ends[b], size, words, b_run)
        table = 1
        while table < 2 * (a_n + b_n):
            table *= 2
        if table > len(keys):
            keys = np.zeros(table, dtype=np.uint64)
            marks = np.zeros(table, dtype=np.int64)
        mask = np.uint64(table - 1)
        stamp = (p + 1) * 4
        in_a = in_b = shared = 0
        for i in range(a_n):
            slot = _probe(keys, marks, a_run[i], mask, stamp)
            if marks[slot] < stamp:
                keys[slot], marks[slot] = a_run[i], stamp + 1
                in_a += 1
        for i in range(b_n):
            slot = _probe(keys, marks, b_run[i], mask, stamp)
            if marks[slot] < stamp:
                keys[slot], marks[slot] = b_run[i], stamp + 2
                in_b += 1
            elif marks[slot] == stamp + 1:
                marks[slot] = stamp + 3
                in_b += 1
                shared += 1
        union = in_a + in_b - shared
        out[p] = shared / union if union else 0.0
