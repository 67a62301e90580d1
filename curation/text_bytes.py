"""A text column as the compiled kernels read it: one UTF-8 byte array and where each text starts
and ends in it. Made once per curate run and remade only where a step rewrites texts, because
each conversion of a gigabyte of Polars strings costs most of a second (benchmarks/curation.py);
the posts' text column then reads the same bytes (`shared`).

Every kernel ignores case (word counts, line keys, shingles) and folds ASCII itself; texts with
other characters are stored lower-cased with Unicode rules, so the kernels need not know them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa


@dataclass(frozen=True)
class TextBytes:
    data: np.ndarray  # uint8
    starts: np.ndarray  # int64, one per text
    ends: np.ndarray

    def __post_init__(self):
        # One array type for every kernel call (read-only), so Numba compiles and caches one version.
        for array in (self.data, self.starts, self.ends):
            array.flags.writeable = False

    @classmethod
    def of(cls, texts: pl.Series) -> TextBytes:
        """A null text reads as empty."""
        return cls.shared(texts)[1]

    @classmethod
    def shared(cls, texts: pl.Series) -> tuple[pl.Series, TextBytes]:
        """The texts' bytes, and a Polars column equal to `texts` that reads the same buffer: a
        caller that keeps the column in place of `texts` holds a gigabyte of text once, not twice.
        Texts with other than ASCII are lower-cased into bytes of their own, after all the others."""
        texts = texts.cast(pl.String)
        n = len(texts)
        wide = (texts.str.len_bytes() != texts.str.len_chars()).fill_null(False).arg_true().to_numpy()
        # The oldest Arrow layout is one byte buffer plus offsets (the newest is string views),
        # and Polars reads it back without a copy.
        lowered = pl.Series(texts.name, texts.gather(wide).str.to_lowercase(), dtype=pl.String)
        array = pl.concat([texts, lowered]).rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
        assert array.type == pa.large_string(), array.type
        _, offsets, data = array.buffers()
        offsets = np.frombuffer(offsets, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
        data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
        starts, ends = offsets[:n].copy(), offsets[1 : n + 1].copy()  # a null spans no bytes: empty
        starts[wide], ends[wide] = offsets[n:-1], offsets[n + 1 :]
        return pl.Series(texts.name, array.slice(0, n)), cls(data, starts, ends)

    def __len__(self) -> int:
        return len(self.starts)

    def rows(self, rows: np.ndarray) -> TextBytes:
        """These texts, in this order; the bytes are shared."""
        return TextBytes(self.data, self.starts[rows], self.ends[rows])
