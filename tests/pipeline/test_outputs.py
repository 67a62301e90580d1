import polars as pl

from pipeline.outputs import write_batches


def test_a_table_written_in_batches_reads_back_whole(tmp_path):
    frame = pl.DataFrame({"post_id": [f"p{i}" for i in range(10)], "text": [None, *("t" * i for i in range(1, 10))]})
    write_batches(iter([frame.slice(0, 4), frame.slice(4, 0), frame.slice(4, 6)]), tmp_path / "t.parquet", group_rows=3)
    assert pl.read_parquet(tmp_path / "t.parquet").equals(frame)
    assert not list(tmp_path.glob("*.tmp"))


def test_one_empty_batch_is_an_empty_table_with_its_columns(tmp_path):
    frame = pl.DataFrame(schema={"post_id": pl.String, "n_words": pl.Int32})
    write_batches(iter([frame]), tmp_path / "t.parquet", group_rows=3)
    assert pl.read_parquet(tmp_path / "t.parquet").schema == frame.schema
