"""Shingle counts, MinHash and the exact Jaccard of the compiled kernels against plain Python sets."""

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.shingle_hashes import minhash, pair_jaccard
from curation.text_bytes import TextBytes

SIZE = 3
words = st.lists(st.sampled_from(["a", "B", "b", "cc", "dd", "e1", "F"]), max_size=12)
texts = words.flatmap(lambda w: st.sampled_from([" ", "\t", "\n  "]).map(lambda sep: sep.join(w)))


def python_shingles(text: str) -> set[tuple[str, ...]]:
    tokens = text.lower().split()
    if 0 < len(tokens) < SIZE:
        return {tuple(tokens)}
    return {tuple(tokens[i : i + SIZE]) for i in range(len(tokens) - SIZE + 1)}


def kernels(batch: list[str]):
    b = TextBytes.of(pl.Series(batch, dtype=pl.String))
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1 << 63, size=16, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    c = rng.integers(0, 1 << 63, size=16, dtype=np.uint64)
    counts, signatures = minhash(b.data, b.starts, b.ends, SIZE, a, c)
    return counts, signatures, lambda first, other: pair_jaccard(b.data, b.starts, b.ends, SIZE, first, other)


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=2, max_size=6))
def test_jaccard_is_the_exact_jaccard_of_the_word_shingles(batch):
    counts, signatures, jaccard = kernels(batch)
    sets = [python_shingles(t) for t in batch]
    tokens = [t.lower().split() for t in batch]
    assert counts.tolist() == [max(len(w) - SIZE + 1, min(len(w), 1)) for w in tokens]
    first = np.zeros(len(batch) - 1, dtype=np.int64)
    other = np.arange(1, len(batch), dtype=np.int64)
    got = jaccard(first, other)
    for j, o in enumerate(other.tolist()):
        union = len(sets[0] | sets[o])
        assert got[j] == (len(sets[0] & sets[o]) / union if union else 0.0)
        if sets[0] == sets[o]:
            assert (signatures[0] == signatures[o]).all()


def test_signatures_agree_about_as_often_as_the_texts_overlap():
    base = [f"w{i}" for i in range(400)]
    edited = base[:300] + [f"x{i}" for i in range(100)]  # 398 shingles each, 298 shared
    counts, signatures, jaccard = kernels([" ".join(base), " ".join(edited), ""])
    exact = jaccard(np.array([0]), np.array([1]))[0]
    assert exact == 298 / (398 + 398 - 298)
    assert abs((signatures[0] == signatures[1]).mean() - exact) < 0.3  # 16 hashes: a rough estimate
    assert counts[2] == 0


def test_tables_reused_across_many_pairs_stay_exact():
    # More pairs than the kernel's 64 chunks: each table and first text's shingles serve several pairs.
    rng = np.random.default_rng(3)
    batch = [" ".join(rng.choice(["a", "b", "c", "d", "e"], size=rng.integers(0, 40)).tolist()) for _ in range(300)]
    _, _, jaccard = kernels(batch)
    other = rng.integers(0, 300, size=1000)
    sets = [python_shingles(t) for t in batch]
    shuffled = rng.integers(0, 300, size=1000)
    for first in (shuffled, np.sort(shuffled)):  # sorted: runs of one first text, hashed once per run
        got = jaccard(first, other)
        for p, (f, o) in enumerate(zip(first.tolist(), other.tolist(), strict=True)):
            union = len(sets[f] | sets[o])
            assert got[p] == (len(sets[f] & sets[o]) / union if union else 0.0)
