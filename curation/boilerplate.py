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

import polars as pl


@dataclass(frozen=True)
class Boilerplate:
    text: pl.Series  # the posts' text without boilerplate lines
    removed: pl.Series  # the removed lines joined by "\n", null where nothing was removed
    metrics: dict


def line_key(line: pl.Expr) -> pl.Expr:
    key = line.str.strip_chars().str.to_lowercase().str.replace_all(r"\d", "0")
    # Collapsing whitespace is the costly part: only lines with a double space or a tab need it.
    spaced = key.str.contains("  ", literal=True) | key.str.contains("\t", literal=True)
    return pl.when(spaced).then(key.str.replace_all(r"\s+", " ")).otherwise(key)


def remove_boilerplate(posts: pl.DataFrame, min_users: int, min_chars: int, max_gap: int) -> Boilerplate:
    """`posts` has user_id and text. Lines that at least `min_users` users' posts contain are removed."""
    lines = (
        posts.lazy()
        .select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_post"), "user_id", pl.col("text").str.split("\n"))
        .explode("text")
        .with_columns(_line=pl.int_range(pl.len(), dtype=pl.UInt32).over("_post"))
    )
    # Only lines long enough can be boilerplate; whitespace collapsing only shortens, so filter first.
    long = (
        lines.filter(pl.col("text").str.len_chars() >= min_chars)
        .with_columns(_key=line_key(pl.col("text")))
        .filter(pl.col("_key").str.len_chars() >= min_chars)
        .select("_post", "_line", "user_id", _key=pl.col("_key").hash())
    )
    shared = long.group_by("_key").agg(pl.col("user_id").n_unique().alias("users")).filter(pl.col("users") >= min_users)
    hits = long.join(shared, on="_key", how="semi").select("_post", "_line").collect(engine="streaming")
    metrics = {"lines_removed": 0, "articles_changed": 0, "shared_lines": shared.select(pl.len()).collect().item()}
    if hits.is_empty():
        nothing = pl.repeat(None, len(posts), dtype=pl.String, eager=True).alias("removed_lines")
        return Boilerplate(posts.get_column("text"), nothing, metrics)
    # Only the posts with a hit are taken apart and put together again.
    touched = hits.get_column("_post").unique().sort()
    flagged = (
        lines.join(touched.to_frame().lazy(), on="_post", how="semi")
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
    in_run = ((after - before) <= max_gap + 1) & (words_before | words_after)
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
    text = posts.get_column("text").scatter(rows, kept)
    removed = pl.repeat(None, len(posts), dtype=pl.String, eager=True).scatter(rows, rebuilt.get_column("removed"))
    metrics |= {"lines_removed": int(rebuilt.get_column("n_removed").sum()), "articles_changed": len(rebuilt)}
    return Boilerplate(text.alias("text"), removed.alias("removed_lines"), metrics)
