"""Hashing pieces the compiled kernels share (curation/shingle_hashes.py, curation/line_hashes.py)."""

from __future__ import annotations

import numpy as np
from numba import njit

FNV_OFFSET = np.uint64(0xCBF29CE484222325)  # FNV-1a, 64 bits: one byte at a time
FNV_PRIME = np.uint64(0x100000001B3)


@njit(inline="always")
def fmix64(h):
    """MurmurHash3's finaliser: every input bit reaches every output bit."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB93FE53B9A63)
    h ^= h >> np.uint64(33)
    return h
