"""Boilerplate lines learned from the corpus: a line that posts of many *different* users share is
not any one author's writing (list footers, sponsor blocks, a company's signature, newsletter
chrome). This is the line-level deduplication of C4/CCNet, keyed per user rather than per page.

A line is compared after lower-casing, collapsing whitespace and turning every digit into 0, so
dates, counts and ad ids do not hide a repeat. Lines shorter than `min_chars` (after that) are
never boilerplate: "Cheers," in many users' posts is a sign-off, a choice of style. A few lines
*between* two boilerplate lines (`max_gap`) go with them: a sponsor block's ad changes from post to
post, its rules above and below do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from curation.line_hashes import line_counts, line_hashes
from curation.text_bytes import TextBytes


@dataclass(frozen=True)
class Removal:
    """Boilerplate taken out of a batch of posts."""

    text: pl.Series  # the posts' text without boilerplate lines
    removed: pl.Series  # the removed lines joined by "\n", null where nothing was removed
    changed: pl.Series  # the posts whose text changed (numbered in the whole column)
    lines_removed: int


@dataclass(frozen=True)
class Boilerplate:
    """The boilerplate lines found in the corpus; `removal` takes them out a batch of posts at a
    time. Done for every post at once, taking posts apart into lines and putting them together
    again held 1.7 GB more when a third of a million posts had a footer (benchmarks/curation.py)."""

    hits: pl.DataFrame  # _post, _line of each line that other users' posts share, by _post
    max_gap: int
    shared_lines: int

    @classmethod
    def of(cls, keys: pl.DataFrame, shared: pl.Series, max_gap: int) -> Boilerplate:
        """`keys` (from `line_keys`) that are among the `shared` ones."""
        hits = keys.filter(pl.col("_key").is_in(shared.implode())).select("_post", "_line").sort("_post", "_line")
        return cls(hits, max_gap, len(shared))

    def removal(self, texts: pl.Series, first: int = 0) -> Removal:
        """For `texts`, the posts' text from post `first` on."""
        posts = self.hits.get_column("_post").to_numpy()
        lo, hi = np.searchsorted(posts, [first, first + len(texts)])
        hits = self.hits.slice(lo, hi - lo).with_columns(pl.col("_post") - first)
        nothing = pl.repeat(None, len(texts), dtype=pl.String, eager=True)
        if hits.is_empty():
            return Removal(texts, nothing, pl.Series([], dtype=pl.Int64), 0)
        # Only the posts with a hit are taken apart and put together again.
        touched = hits.get_column("_post").unique().sort()
        flagged = (
            _lines(texts.gather(touched), touched)
            .join(hits.lazy().with_columns(_hit=pl.lit(True)), on=["_post", "_line"], how="left")
            .with_columns(_hit=pl.col("_hit").fill_null(False))
            .sort("_post", "_line")
            .collect()
        )
        # A run needs an anchor with words: two rules of dashes an author drew around a paragraph do not make one.
        worded = pl.col("_hit") & pl.col("text").str.contains(r"[^\W\d_]")
        before = pl.when("_hit").then("_line").forward_fill().over("_post")
        after = pl.when("_hit").then("_line").backward_fill().over("_post")
        words_before = pl.when("_hit").then(worded).forward_fill().over("_post")
        words_after = pl.when("_hit").then(worded).backward_fill().over("_post")
        in_run = ((after - before) <= self.max_gap + 1) & (words_before | words_after)
        drop = pl.col("_hit") | in_run.fill_null(False)
        rebuilt = (
            flagged.with_columns(_drop=drop)
            .group_by("_post", maintain_order=True)
            .agg(
                kept=pl.col("text").filter(~pl.col("_drop")).str.join("\n"),
                removed=pl.col("text").filter(pl.col("_drop")).str.join("\n"),
                n_removed=pl.col("_drop").sum(),
            )
        )
        # Removing lines can leave blank runs behind: at most one blank line in a row, no blank edges.
        kept = rebuilt.get_column("kept").str.replace_all(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n").str.strip_chars()
        rows = rebuilt.get_column("_post")
        return Removal(
            texts.scatter(rows, kept),
            nothing.scatter(rows, rebuilt.get_column("removed")),
            rows + first,
            int(rebuilt.get_column("n_removed").sum()),
        )


def line_key(line: pl.Expr) -> pl.Expr:
    """The comparison key with Unicode rules, for the lines the compiled kernel leaves (non-ASCII)."""
    return line.str.to_lowercase().str.replace_all(r"\d", "0").str.replace_all(r"\s+", " ").str.strip_chars()


def remove_boilerplate(
    posts: pl.DataFrame, min_users: int, min_chars: int, max_gap: int, text_bytes: TextBytes | None = None
) -> Boilerplate:
    """`posts` has user_id and text (`text_bytes`: the same texts as bytes, when the caller has
    them). Lines that at least `min_users` users' posts contain are boilerplate. The sharded
    curate runs the same three steps with the middle one across every shard."""
    keys = line_keys(posts.get_column("text"), min_chars, text_bytes)
    counts = users_per_line(keys, posts.get_column("user_id"))
    return Boilerplate.of(keys, shared_lines(counts, min_users), max_gap)


def line_keys(texts: pl.Series, min_chars: int, text_bytes: TextBytes | None = None) -> pl.DataFrame:
    """_post, _line, _key of every line of at least `min_chars` (after normalising)."""
    b = TextBytes.of(texts) if text_bytes is None else text_bytes
    counts = line_counts(b.data, b.starts, b.ends)
    keys, chars, wide = line_hashes(b.data, b.starts, b.ends, counts)
    post = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
    line = np.arange(len(post), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    # Normalising only shortens a line, so a line too short now cannot qualify with Unicode rules.
    long = chars >= min_chars
    ascii_lines, wide_lines = np.flatnonzero(long & ~wide), np.flatnonzero(long & wide)
    frames = [pl.DataFrame({"_post": post[ascii_lines], "_line": line[ascii_lines], "_key": keys[ascii_lines]})]
    if len(wide_lines):
        frames.append(_wide_keys(texts, post[wide_lines], line[wide_lines], min_chars))
    return pl.concat(frames)


def users_per_line(keys: pl.DataFrame, user_ids: pl.Series) -> pl.DataFrame:
    """_key, users: how many users' posts hold each line. Users never straddle two shards, so the
    counts of every shard add up to the corpus's."""
    users = user_ids.gather(keys.get_column("_post")).alias("user_id")
    return keys.select("_key", users).group_by("_key").agg(users=pl.col("user_id").n_unique())


def shared_lines(counts: pl.DataFrame, min_users: int) -> pl.Series:
    """The keys of boilerplate lines, from `users_per_line` of one or (concatenated) every shard."""
    total = counts.group_by("_key").agg(pl.col("users").sum())
    return total.filter(pl.col("users") >= min_users).get_column("_key").sort()


def _lines(texts: pl.Series, rows) -> pl.LazyFrame:
    """One row per line: _post (from `rows`), _line (0-based in its post), text."""
    return (
        pl.DataFrame({"_post": pl.Series(rows, dtype=pl.Int64), "text": texts})
        .lazy()
        .with_columns(pl.col("text").str.split("\n"))
        .explode("text")
        .with_columns(_line=pl.int_range(pl.len(), dtype=pl.Int64).over("_post"))
    )


def _wide_keys(texts: pl.Series, post: np.ndarray, line: np.ndarray, min_chars: int) -> pl.DataFrame:
    """_post, _line, _key of the non-ASCII lines: normalised with Unicode rules, then hashed by the
    kernel, which leaves a normalised line unchanged."""
    rows = np.unique(post)
    wanted = pl.DataFrame({"_post": post, "_line": line}).lazy()
    keyed = (
        _lines(texts.gather(rows), rows)
        .join(wanted, on=["_post", "_line"], how="semi")
        .with_columns(text=line_key(pl.col("text")))
        .filter(pl.col("text").str.len_chars() >= min_chars)
        .collect()
    )
    b = TextBytes.of(keyed.get_column("text"))
    keys, _, _ = line_hashes(b.data, b.starts, b.ends, np.ones(len(keyed), dtype=np.int64))
    return keyed.select("_post", "_line", _key=pl.Series(keys, dtype=pl.UInt64))
