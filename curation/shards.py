"""Shards: a table as a folder of Parquet files, posts partitioned by a stable hash of `user_id`,
so that per-user work (time order, references, split) never crosses a shard.

    outputs/ingest/posts.parquet/part-00000.parquet ... part-<N-1>.parquet

Polars, DuckDB and Arrow read such a folder as one table. The hash is FNV-1a over the id's bytes,
compiled: the same shard for a user on every machine, Python and library version (a Polars hash
is not promised to be stable across releases).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl
from numba import njit, prange

from curation.hash_primitives import FNV_OFFSET, FNV_PRIME, fmix64
from curation.text_bytes import TextBytes

# A dump is cut into shards of about this much raw text by default (`ingest.shards: auto`): a
# curate task holds about three times its shard (the text, its bytes, a batch being rewritten).
AUTO_SHARD_BYTES = 128 << 20


@njit(parallel=True, cache=True)
def _fnv(data, starts, ends):
    out = np.empty(len(starts), dtype=np.uint64)
    for d in prange(len(starts)):
        h = FNV_OFFSET
        for i in range(starts[d], ends[d]):
            h = (h ^ np.uint64(data[i])) * FNV_PRIME
        out[d] = fmix64(h)
    return out


def shard_of(keys: pl.Series, shards: int) -> np.ndarray:
    """The shard (0..shards-1) of each key; a null key is shard 0."""
    if shards == 1 or len(keys) == 0:
        return np.zeros(len(keys), dtype=np.int64)
    b = TextBytes.of(keys)
    return (_fnv(b.data, b.starts, b.ends) % np.uint64(shards)).astype(np.int64)


def auto_shards(input_bytes: int) -> int:
    return max(1, -(-input_bytes // AUTO_SHARD_BYTES))


def work_folder(stage: str, *identity) -> Path:
    """Where a stage keeps its finished tasks until it succeeds: under the project cache (DVC
    deletes a stage's outputs before it runs it), keyed by everything that decides them, so a
    rerun with other params, input or code starts afresh."""
    from common.cache_dir import cache_dir

    key = hashlib.sha256(json.dumps(identity, default=str, sort_keys=True).encode()).hexdigest()[:16]
    return (cache_dir() / "shards" / stage / key).resolve()


def code_version(*packages: str) -> str:
    """A hash of the project's source in `packages`: work kept for resume is only reused by the
    code that made it."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def files_version(paths: list[Path]) -> str:
    """A hash of the files' names, sizes and modification times: what `make` trusts, without
    reading gigabytes."""
    digest = hashlib.sha256()
    for path in paths:
        stat = path.stat()
        digest.update(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
