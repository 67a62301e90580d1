"""A text column as the compiled kernels read it: one UTF-8 byte array and where each text starts
and ends in it. Made once per curate run and remade only where a step rewrites texts, because
each conversion of a gigabyte of Polars strings costs most of a second (benchmarks/curation.py);
the posts' text column then reads the same bytes (`shared`).

Every kernel ignores case (word counts, line keys, shingles) and folds ASCII itself; texts with
other characters are stored lower-cased with Unicode rules, so the kernels need not know them."""

from __future__ import annotations

import mmap
from collections.abc import Iterable
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
    def shared(cls, texts: pl.Series | Iterable[pl.Series]) -> tuple[pl.Series, TextBytes]:
        """The texts' bytes, and a Polars column equal to `texts` that reads the same buffer: a
        caller that keeps the column in place of `texts` holds a gigabyte of text once, not twice.
        `texts` may come in batches (one column): each is packed and can be let go before the next
        is made, so a caller that reads batches never holds two copies of the whole text.
        Texts with other than ASCII are lower-cased into bytes of their own, after all the others."""
        packed = _Packed()
        lowered = []  # (rows, their texts lower-cased), per batch
        for batch in [texts] if isinstance(texts, pl.Series) else texts:
            batch = batch.cast(pl.String)
            wide = (batch.str.len_bytes() != batch.str.len_chars()).fill_null(False).arg_true()
            lowered.append((wide.to_numpy() + packed.rows, batch.gather(wide).str.to_lowercase()))
            packed.add(batch)
        n = packed.rows
        for _, batch in lowered:
            packed.add(batch)
        name, array, offsets, data = packed.done()
        starts, ends = offsets[:n].copy(), offsets[1 : n + 1].copy()  # a null spans no bytes: empty
        wide = np.concatenate([rows for rows, _ in lowered]) if lowered else np.zeros(0, dtype=np.int64)
        starts[wide], ends[wide] = offsets[n:-1], offsets[n + 1 :]
        return pl.Series(name, array.slice(0, n)), cls(data, starts, ends)

    def __len__(self) -> int:
        return len(self.starts)

    def rows(self, rows: np.ndarray) -> TextBytes:
        """These texts, in this order; the bytes are shared."""
        return TextBytes(self.data, self.starts[rows], self.ends[rows])


class _Packed:
    """Texts appended batch after batch into one byte buffer, as Arrow's oldest string layout
    (one byte buffer plus offsets), which Polars reads back without a copy. The buffer is an
    anonymous mapping grown in place (mremap): growing copies nothing, and pages it never writes
    take no memory."""

    def __init__(self):
        self.buffer = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.offsets = [np.zeros(1, dtype=np.int64)]
        self.valid = []
        self.rows = 0
        self.name = "text"

    def add(self, texts: pl.Series) -> None:
        array = texts.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
        assert array.type == pa.large_string(), array.type
        _, offsets, data = array.buffers()
        offsets = np.frombuffer(offsets, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
        start, size = self.buffer.tell(), int(offsets[-1] - offsets[0])
        if start + size > len(self.buffer):
            self.buffer.resize(max(start + size, len(self.buffer) * 3 // 2))
        if size:
            self.buffer.write(memoryview(data)[offsets[0] : offsets[-1]])
        self.offsets.append(offsets[1:] - offsets[0] + start)
        self.valid.append(texts.is_not_null().to_numpy())
        self.rows += len(texts)
        self.name = texts.name

    def done(self) -> tuple[str, pa.Array, np.ndarray, np.ndarray]:
        """The column's name, the texts as one Arrow array, their offsets and the bytes."""
        size = self.buffer.tell()
        self.buffer.resize(max(size, 1))  # an empty mapping cannot be made
        data = np.frombuffer(self.buffer, dtype=np.uint8)[:size]
        offsets = np.concatenate(self.offsets)
        valid = np.concatenate(self.valid) if self.valid else np.ones(0, dtype=bool)
        nulls = int(len(valid) - valid.sum())
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
        array = pa.LargeStringArray.from_buffers(
            len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data), bitmap, nulls
        )
        return self.name, array, offsets, data
