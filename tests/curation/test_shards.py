"""A user's shard is FNV-1a over the id's bytes with MurmurHash3's finaliser: the same on every
machine and library version, every post of a user in one shard, users spread evenly."""

import polars as pl

from common.parquet import part_name, parts, publish, write_table
from curation.shards import auto_shards, shard_of

MASK = (1 << 64) - 1


def reference_shard(key: str, shards: int) -> int:
    """The hash written out in plain Python, from its definition."""
    h = 0xCBF29CE484222325
    for byte in key.encode():
        h = ((h ^ byte) * 0x100000001B3) & MASK
    for shift, mult in ((33, 0xFF51AFD7ED558CCD), (33, 0xC4CEB93FE53B9A63), (33, None)):
        h ^= h >> shift
        h = (h * mult) & MASK if mult else h
    return h % shards


def test_the_shard_is_the_hash_of_the_ids_bytes():
    keys = ["", "a", "user42", "3f9c1e0a7b2d4c68", "x" * 300]
    assert shard_of(pl.Series(keys), 7).tolist() == [reference_shard(k, 7) for k in keys]


def test_every_post_of_a_user_lands_in_one_shard_and_users_spread():
    users = pl.Series([f"user{i % 5000}" for i in range(20_000)])
    shard = pl.DataFrame({"user": users, "shard": shard_of(users, 16)})
    assert shard.group_by("user").agg(pl.col("shard").n_unique()).get_column("shard").max() == 1
    per_shard = shard.unique("user").group_by("shard").len().get_column("len")
    assert len(per_shard) == 16 and per_shard.min() > 0.8 * 5000 / 16


def test_one_shard_needs_no_hashing_and_auto_sizes_by_the_dump():
    assert shard_of(pl.Series(["a", "b"]), 1).tolist() == [0, 0]
    assert [auto_shards(n) for n in (0, 1, 128 << 20, (128 << 20) + 1, 10 << 30)] == [1, 1, 1, 2, 80]


def test_publish_shows_a_table_whole_or_not_at_all(tmp_path):
    for k in range(3):
        write_table(pl.DataFrame({"k": [k]}), tmp_path / "work" / part_name(k))
    (tmp_path / "posts.parquet").write_text("an old single-file table")
    publish(parts(tmp_path / "work"), tmp_path / "posts.parquet")
    assert pl.read_parquet(tmp_path / "posts.parquet").get_column("k").to_list() == [0, 1, 2]
    assert not (tmp_path / "posts.parquet.tmp").exists()
