"""Curate as tasks over the posts' shards (users never straddle two), with the cross-user steps
done from compact signatures through DuckDB, which spills to disk: memory is set by the shard
size and `compute.spill_memory`, not by the dump.

    lines     per shard: normalise, words; how many users' posts hold each long line (key,
              users); the normalised posts and their line keys kept for the rules task
              -> shared lines: keys held by `boilerplate_min_users` users in all   (DuckDB)
    rules     per shard: boilerplate out, the one-shard rules (duplicate text, length,
              newsletter); the posts in the articles' order with their reason so far, and the
              MinHash LSH band keys of the posts still kept
              -> near-duplicates: candidate pairs from shared buckets, exact Jaccard on the
                 candidates' texts fetched by shard and row, groups keep their earliest post
                 (DuckDB; curation/near_duplicate_shards.py)
              -> splits: the users who keep enough posts, split by user            (DuckDB)
    finish    per shard: near-duplicates and too_few_posts applied, positions and splits;
              the shard's articles and rejects

Tasks run through common/executor.py and are marked done in `work` (a killed run resumes with the
unfinished ones); each cross-shard result is written once, atomically, and reused on resume.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from common.executor import ExecutorParams, Task, run_tasks
from common.parquet import SCRATCH, part_name, parts, publish, write_batches, write_table
from curation.curate import (
    CurateParams,
    batch_starts,
    check_schema,
    first_reasons,
    last_reasons,
    read_posts,
    read_texts,
    without_boilerplate,
)
from curation.spill import spill_connection
from curation.split import SPLITS, assign_splits

log = logging.getLogger(__name__)
_NEAR = {"post_id": pl.String, "_dup_of": pl.String, "_dup_user": pl.String, "_jaccard": pl.Float64}


@dataclass
class CurateResult:
    """The whole curate of a posts frame, in memory (tests and small inputs)."""

    articles: pl.DataFrame
    rejects: pl.DataFrame
    metrics: dict

    def article_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        """The articles, `rows` at a time (at least one batch, maybe empty), in order."""
        return (self.articles.slice(at, rows) for at in batch_starts(len(self.articles), rows))

    def reject_batches(self, rows: int) -> Iterator[pl.DataFrame]:
        return (self.rejects.slice(at, rows) for at in batch_starts(len(self.rejects), rows))


def curate(posts: pl.DataFrame | pl.LazyFrame, params: CurateParams) -> CurateResult:
    """`run_curate` on one shard in a temporary folder, its tables read back."""
    import tempfile

    check_schema(posts.lazy().collect_schema().names(), "posts")
    with tempfile.TemporaryDirectory(prefix="sag-curate-") as tmp:
        tmp = Path(tmp)
        shard = tmp / "posts" / part_name(0)
        write_table(posts.lazy().collect(), shard)
        metrics = run_curate([shard], params, tmp / "out", tmp / "work", ExecutorParams(workers=1))
        articles, rejects = (pl.read_parquet(tmp / "out" / name) for name in ("articles.parquet", "quarantine.parquet"))
        return CurateResult(articles, rejects, metrics)


def run_curate(shards: list[Path], params: CurateParams, out: Path, work: Path, executor: ExecutorParams) -> dict:
    """`shards`: the posts' shard files (users never straddle two). Writes `out/articles.parquet/`
    and `out/quarantine.parquet/` (one shard each per posts shard); returns the metrics."""
    n, spill_memory = len(shards), executor.spill_memory
    shared = _shared_lines(shards, params, work, executor, spill_memory)
    made = run_tasks(
        [Task(f"{k:05d}", _rules_task, (path, k, params, shared, work)) for k, path in enumerate(shards)],
        work / "done" / "rules",
        executor,
        "curate: rules",
    )
    for done_with in ("normal", "keys"):  # disk: every rules task is done with them
        shutil.rmtree(work / done_with, ignore_errors=True)
    near = _once(work / "near_duplicates.parquet", lambda: _near_duplicates(work, params, executor))
    for done_with in ("banded", "bands", "near"):  # disk: the signatures and routed texts are not read again
        shutil.rmtree(work / done_with, ignore_errors=True)
    splits = _once(work / "splits.parquet", lambda: _splits(work, near, params, spill_memory))
    finished = run_tasks(
        [Task(f"{k:05d}", _finish_task, (k, params, work)) for k in range(n)],
        work / "done" / "finish",
        executor,
        "curate: shards",
    )
    publish([work / "articles" / part_name(k) for k in range(n)], out / "articles.parquet")
    # Named like ingest's table so that `sag sql` shows both as one `quarantine` table (column `stage`).
    publish([work / "rejects" / part_name(k) for k in range(n)], out / "quarantine.parquet")
    return _metrics(made, finished, shared, near, splits, work, out / "articles.parquet", spill_memory)


def _once(path: Path, make) -> Path:
    """A cross-shard result, made unless an earlier (killed) run of the same work finished it."""
    if not path.exists():
        start = time.perf_counter()
        write_table(make(), path)
        log.info("curate: %s in %.1f s", path.stem.replace("_", " "), time.perf_counter() - start)
    return path


def _shared_lines(shards: list[Path], params, work: Path, executor, spill_memory: str) -> Path | None:
    if params.boilerplate_min_users == 0:
        return None
    run_tasks(
        [Task(f"{k:05d}", _lines_task, (path, k, params, work)) for k, path in enumerate(shards)],
        work / "done" / "lines",
        executor,
        "curate: lines",
    )

    def shared() -> pl.DataFrame:
        with spill_connection(work / "spill", spill_memory) as con:
            return con.sql(
                "SELECT _key FROM read_parquet(?) GROUP BY _key HAVING sum(users) >= ? ORDER BY _key",
                params=[_files(work / "lines"), params.boilerplate_min_users],
            ).pl()

    return _once(work / "shared_lines.parquet", shared)


def _lines_task(path: Path, shard: int, params: CurateParams, work: Path) -> dict:
    """How many users' posts hold each long line (`lines/`); the normalised posts (`normal/`) and
    their line keys (`keys/`) are kept for the rules task, which would otherwise make them again."""
    from curation.boilerplate import line_keys, users_per_line

    posts, text_bytes = read_posts(pl.scan_parquet(path), params)
    keys = line_keys(posts.get_column("text"), params.boilerplate_min_chars, text_bytes)
    write_table(users_per_line(keys, posts.get_column("user_id")), work / "lines" / part_name(shard))
    write_table(keys, work / "keys" / part_name(shard), SCRATCH)
    write_table(posts, work / "normal" / part_name(shard), SCRATCH)
    return {}


def _rules_task(path: Path, shard: int, params: CurateParams, shared: Path | None, work: Path) -> dict:
    """The shard's posts, normalised and without boilerplate, in the articles' order with the
    reason of the one-shard rules (`stage/`), and the LSH bands of those still kept (`bands/`,
    and who they are in `banded/`)."""
    from curation.boilerplate import Boilerplate
    from curation.near_duplicate_shards import refs
    from curation.near_duplicates import band_rows

    found = None
    if shared is None:
        posts, text_bytes = read_posts(pl.scan_parquet(path), params)
    else:
        posts, text_bytes = read_texts(pl.scan_parquet(work / "normal" / part_name(shard)), params.batch_rows)
        keys = pl.read_parquet(work / "keys" / part_name(shard))
        found = Boilerplate.of(keys, pl.read_parquet(shared).get_column("_key"), params.boilerplate_max_gap)
    posts, text_bytes, metrics = without_boilerplate(posts, text_bytes, found, params)
    index = first_reasons(posts, params)
    if params.near_duplicate_threshold <= 1:
        # The posts still kept, named by their row in the stage file written below.
        at = index.get_column("reason").is_null().arg_true()
        live = index.get_column("_row").gather(at).to_numpy()
        ref = refs(shard, at.to_numpy())
        who = posts.select("post_id", "user_id", "created_at")[live].with_columns(ref=pl.Series(ref))
        write_table(who, work / "banded" / part_name(shard), SCRATCH)
        bands = band_rows(text_bytes.rows(live), params.near_duplicate_shingle, ref)
        write_table(bands, work / "bands" / part_name(shard), SCRATCH)
    order, reason = index.get_column("_row"), index.get_column("reason")
    step = params.batch_rows
    # Gathered in order a batch at a time: the text is held once, beside one batch.
    batches = (
        posts[order.slice(at, step)].with_columns(reason.slice(at, step)) for at in batch_starts(len(order), step)
    )
    write_batches(batches, work / "stage" / part_name(shard), max(step // 5, 1), SCRATCH)
    return {"posts_in": len(posts), **metrics}


def _near_duplicates(work: Path, params: CurateParams, executor: ExecutorParams) -> pl.DataFrame:
    from curation.near_duplicate_shards import find_near_duplicates

    bands = parts(work / "bands")
    if params.near_duplicate_threshold > 1 or not bands:
        return pl.DataFrame(schema=_NEAR)
    stage = parts(work / "stage")
    threshold, shingle = params.near_duplicate_threshold, params.near_duplicate_shingle
    found = find_near_duplicates(stage, parts(work / "banded"), bands, threshold, shingle, work / "near", executor)
    return found.select(post_id="post_id", _dup_of="of_post_id", _dup_user="of_user_id", _jaccard="jaccard")


def _splits(work: Path, near: Path, params: CurateParams, spill_memory: str) -> pl.DataFrame:
    """user_id -> split for the users who keep at least `min_posts_per_user` posts after every
    rule but the last: the split is cut over the set of all such users (curation/split.py)."""
    with spill_connection(work / "spill", spill_memory) as con:
        users = con.sql(
            "SELECT s.user_id FROM read_parquet(?) s ANTI JOIN read_parquet(?) n ON n.post_id = s.post_id "
            "WHERE s.reason IS NULL GROUP BY s.user_id HAVING count(*) >= greatest(?, 1)",
            params=[_files(work / "stage"), str(near), params.min_posts_per_user],
        ).pl()
    return assign_splits(users.get_column("user_id"), params.split, params.seed)


def _finish_task(shard: int, params: CurateParams, work: Path) -> dict:
    """The shard's articles (kept posts with position and split) and rejects (reason and detail)."""
    frame = pl.read_parquet(work / "stage" / part_name(shard))
    near = pl.read_parquet(work / "near_duplicates.parquet")
    decided = last_reasons(frame.select("user_id", "created_at", "post_id", "n_words", "reason"), near, params)
    kept = decided.get_column("reason").is_null()
    splits = pl.scan_parquet(work / "splits.parquet")
    positions = decided.filter(kept).select("user_id", position=pl.int_range(pl.len(), dtype=pl.Int32).over("user_id"))
    split = positions.lazy().join(splits, on="user_id", how="left", maintain_order="left").collect()
    posts = frame.drop("reason")
    articles = posts.filter(kept).with_columns(split.select("position", "split"))
    articles = articles.select(pl.exclude("removed_lines"), "removed_lines")  # the new column last
    rejects = posts.filter(~kept).with_columns(decided.filter(~kept).select("reason", "detail"), stage=pl.lit("curate"))
    write_table(articles, work / "articles" / part_name(shard))
    write_table(rejects, work / "rejects" / part_name(shard))
    per_split = articles.group_by("split").agg(users=pl.col("user_id").n_unique(), articles=pl.len())
    return {
        "articles": len(articles),
        "rejected_by_reason": dict(Counter(rejects.get_column("reason").to_list())),
        "splits": {row["split"]: [row["users"], row["articles"]] for row in per_split.iter_rows(named=True)},
    }


def _metrics(made, finished, shared, near: Path, splits: Path, work: Path, articles: Path, spill_memory: str) -> dict:
    by_reason, per_split = Counter(), {s: Counter() for s in SPLITS}
    for result in finished:
        by_reason.update(result["rejected_by_reason"])
        for split, (users, n) in result["splits"].items():
            per_split[split].update(users=users, articles=n)
    words = (
        pl.scan_parquet(articles)
        .select(median=pl.col("n_words").median(), mean=pl.col("n_words").mean(), n=pl.len())
        .collect()
        .row(0, named=True)
    )
    metrics = {
        "posts_in": sum(r["posts_in"] for r in made),
        "articles": sum(r["articles"] for r in finished),
        "rejected": sum(by_reason.values()),
        "users": pl.scan_parquet(splits).select(pl.len()).collect().item(),
        "splits": {s: {"users": per_split[s]["users"], "articles": per_split[s]["articles"]} for s in SPLITS},
        "rejected_by_reason": dict(sorted(by_reason.items())),
        "words_median": float(words["median"]) if words["n"] else 0.0,
        "words_mean": round(float(words["mean"]), 1) if words["n"] else 0.0,
        "boilerplate": {
            "lines_removed": sum(r["lines_removed"] for r in made),
            "articles_changed": sum(r["articles_changed"] for r in made),
            "shared_lines": 0 if shared is None else pl.scan_parquet(shared).select(pl.len()).collect().item(),
        },
        "near_duplicates": _near_duplicate_scopes(work, near, splits, spill_memory),
    }
    assert metrics["posts_in"] == metrics["articles"] + metrics["rejected"], "curate lost posts"
    return metrics


def _near_duplicate_scopes(work: Path, near: Path, splits: Path, spill_memory: str) -> dict:
    """Near-duplicates by scope; `cross_split`: copies whose author sits in another split than the
    kept post's author, i.e. the leaks into evaluation that removing them prevented."""
    with spill_connection(work / "spill", spill_memory) as con:
        row = con.sql(
            "WITH d AS (SELECT s.user_id AS u, n._dup_user AS v FROM read_parquet(?) n "
            "  JOIN read_parquet(?) s USING (post_id)), "
            "sp AS (SELECT * FROM read_parquet(?)) "
            "SELECT count(*) FILTER (WHERE u = v), count(*) FILTER (WHERE u <> v), "
            "  count(*) FILTER (WHERE a.split <> b.split) "
            "FROM d LEFT JOIN sp a ON a.user_id = d.u LEFT JOIN sp b ON b.user_id = d.v",
            params=[str(near), _files(work / "stage"), str(splits)],
        ).fetchall()[0]
    return {"same_user": row[0], "cross_user": row[1], "cross_split": row[2]}


def _files(folder: Path) -> list[str]:
    return [str(p) for p in parts(folder)]
