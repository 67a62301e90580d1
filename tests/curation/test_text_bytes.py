import numpy as np
import polars as pl

from curation.text_bytes import TextBytes


def texts_of(b: TextBytes) -> list[str]:
    return [bytes(b.data[s:e]).decode() for s, e in zip(b.starts, b.ends, strict=True)]


def test_bytes_per_text_with_other_scripts_lower_cased():
    b = TextBytes.of(pl.Series(["Hello World", None, "ÉCOLE Öl", ""]))
    assert texts_of(b) == ["Hello World", "", "école öl", ""]  # ASCII is left to the kernels
    assert not b.data.flags.writeable and not b.starts.flags.writeable  # one array type for Numba


def test_rows_share_the_bytes_and_replaced_patches_only_those_texts():
    b = TextBytes.of(pl.Series(["one", "two", "three"]))
    assert texts_of(b.rows(np.array([2, 0]))) == ["three", "one"]
    patched = b.replaced(np.array([1]), pl.Series(["TWO, longer"]))
    assert texts_of(patched) == ["one", "TWO, longer", "three"]
    assert texts_of(b) == ["one", "two", "three"]
    assert b.replaced(np.array([], dtype=np.int64), pl.Series([], dtype=pl.String)) is b
