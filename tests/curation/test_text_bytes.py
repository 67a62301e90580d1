import numpy as np
import polars as pl

from curation.text_bytes import TextBytes


def texts_of(b: TextBytes) -> list[str]:
    return [bytes(b.data[s:e]).decode() for s, e in zip(b.starts, b.ends, strict=True)]


def test_bytes_per_text_with_other_scripts_lower_cased():
    b = TextBytes.of(pl.Series(["Hello World", None, "ÉCOLE Öl", ""]))
    assert texts_of(b) == ["Hello World", "", "école öl", ""]  # ASCII is left to the kernels
    assert not b.data.flags.writeable and not b.starts.flags.writeable  # one array type for Numba


def test_rows_share_the_bytes():
    b = TextBytes.of(pl.Series(["one", "two", "three"]))
    assert texts_of(b.rows(np.array([2, 0]))) == ["three", "one"]
    assert b.rows(np.array([1])).data is b.data


def test_the_shared_column_is_the_texts_and_reads_the_same_bytes():
    texts = pl.Series("text", ["Hello World", None, "ÉCOLE Öl", "", "tail"])
    column, b = TextBytes.shared(texts)
    assert column.equals(texts) and column.name == "text"
    assert texts_of(b) == ["Hello World", "", "école öl", "", "tail"]
    assert bytes(b.data[: len("Hello World")]) == b"Hello World"  # the column's bytes first, as they were


def test_texts_in_batches_are_packed_as_one_column():
    batches = [
        pl.Series("text", ["Hello", None]),
        pl.Series("text", [], dtype=pl.String),
        pl.Series("text", ["ÉCOLE", "b"]),
    ]
    column, b = TextBytes.shared(iter(batches))
    assert column.equals(pl.concat(batches)) and column.name == "text"
    assert texts_of(b) == ["Hello", "", "école", "b"]
