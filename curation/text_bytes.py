"""A text column as the compiled kernels read it: one UTF-8 byte array and where each text starts
and ends in it. Made once per curate run and patched where a step rewrites a few texts, because
each conversion of a gigabyte of Polars strings costs most of a second (benchmarks/curation.py).

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
        texts = texts.cast(pl.String).fill_null("")
        wide = (texts.str.len_bytes() != texts.str.len_chars()).arg_true()  # has a non-ASCII character
        if not wide.is_empty():
            texts = texts.scatter(wide, texts.gather(wide).str.to_lowercase())
        # The oldest Arrow layout is one byte buffer plus offsets (the newest is string views).
        array = texts.to_arrow(compat_level=pl.CompatLevel.oldest())
        assert array.type == pa.large_string(), array.type
        _, offsets, data = array.buffers()
        offsets = np.frombuffer(offsets, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
        data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
        return cls(data, offsets[:-1], offsets[1:])

    def __len__(self) -> int:
        return len(self.starts)

    def rows(self, rows: np.ndarray) -> TextBytes:
        """These texts, in this order; the bytes are shared."""
        return TextBytes(self.data, self.starts[rows], self.ends[rows])

    def replaced(self, rows: np.ndarray, texts: pl.Series) -> TextBytes:
        """Texts `rows` replaced by `texts`: their bytes are appended, the others stay where they are."""
        if not len(rows):
            return self
        new = TextBytes.of(texts)
        starts, ends = self.starts.copy(), self.ends.copy()
        starts[rows], ends[rows] = new.starts + len(self.data), new.ends + len(self.data)
        return TextBytes(np.concatenate([self.data, new.data]), starts, ends)
