"""Curate: posts -> articles, ordered in time per user and split by user.

in:  posts       post_id, user_id, created_at, title, text (+ source)
out: articles    the posts columns + n_words, position (0-based, per user, in time order), split
     rejects     the posts columns + n_words, stage='curate', reason, detail (the `quarantine` table)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from curation.errors import InputError
from curation.reasons import Reason
from curation.split import SPLITS, assign_splits
from curation.words import count_words

POST_SCHEMA = {"post_id": pl.String, "user_id": pl.String, "created_at": pl.Datetime, "title": pl.String, "text": pl.String}
UNICODE_FORMS = ("NFC", "NFKC", "NFD", "NFKD", "none")


@dataclass(frozen=True)
class CurateParams:
    unicode_form: str = "NFC"
    min_words: int = 50
    max_words: int = 2000
    min_posts_per_user: int = 3
    split: dict = field(default_factory=lambda: {"train": 0.8, "align": 0.1, "test": 0.1})
    seed: int = 13

    def __post_init__(self):
        if self.unicode_form not in UNICODE_FORMS:
            raise InputError(f"curate.unicode_form={self.unicode_form!r}; allowed: {', '.join(UNICODE_FORMS)}")
        for name in ("min_words", "max_words", "min_posts_per_user", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"curate.{name}={value!r}; must be a non-negative integer")
        if self.max_words < self.min_words:
            raise InputError(f"curate.max_words={self.max_words} is below curate.min_words={self.min_words}")
        unknown = set(self.split) - set(SPLITS)
        if unknown:
            raise InputError(f"curate.split has unknown split(s) {sorted(unknown)}; allowed: {', '.join(SPLITS)}")
        fractions = list(self.split.values())
        if any(not isinstance(f, (int, float)) or f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
            raise InputError(f"curate.split={self.split}; fractions must be >= 0 and sum to 1")


@dataclass
class CurateResult:
    articles: pl.DataFrame
    rejects: pl.DataFrame
    metrics: dict


def check_schema(posts: pl.DataFrame, where: str) -> None:
    missing = [c for c in POST_SCHEMA if c not in posts.columns]
    if missing:
        raise InputError(f"{where} lacks column(s) {', '.join(missing)}; has {', '.join(posts.columns)}")


def curate(posts: pl.DataFrame, params: CurateParams) -> CurateResult:
    check_schema(posts, "posts")
    text = pl.col("text")
    if params.unicode_form != "none":
        text = text.str.normalize(params.unicode_form)
    # Trailing blanks and runs of blank lines carry no style; tabs and single blank lines do.
    text = text.str.replace_all(r"[ \t]+\n", "\n").str.replace_all(r"\n{3,}", "\n\n").str.strip_chars()
    frame = (
        posts.with_columns(text=text)
        .with_columns(n_words=count_words(pl.col("text")))
        .sort("user_id", "created_at", "post_id")
        .with_columns(reason=pl.lit(None, pl.String), detail=pl.lit(None, pl.String))
    )
    first_copy = pl.struct("user_id", "text").is_first_distinct()
    frame = _reject(frame, ~first_copy, Reason.DUPLICATE_TEXT, pl.lit("same user posted this text earlier"))
    frame = _reject(
        frame, pl.col("n_words") < params.min_words, Reason.TOO_SHORT,
        pl.format("{} words < min_words={}", "n_words", pl.lit(params.min_words)),
    )  # fmt: skip
    frame = _reject(
        frame, pl.col("n_words") > params.max_words, Reason.TOO_LONG,
        pl.format("{} words > max_words={}", "n_words", pl.lit(params.max_words)),
    )  # fmt: skip
    kept_per_user = pl.col("reason").is_null().sum().over("user_id")
    frame = _reject(
        frame, kept_per_user < params.min_posts_per_user, Reason.TOO_FEW_POSTS,
        pl.format("user keeps {} posts < min_posts_per_user={}", kept_per_user, pl.lit(params.min_posts_per_user)),
    )  # fmt: skip
    kept = frame.filter(pl.col("reason").is_null()).drop("reason", "detail")
    splits = assign_splits(kept.get_column("user_id"), params.split, params.seed)
    articles = kept.with_columns(position=pl.int_range(pl.len(), dtype=pl.Int32).over("user_id")).join(
        splits, on="user_id", how="left", maintain_order="left"
    )
    rejects = frame.filter(pl.col("reason").is_not_null()).with_columns(stage=pl.lit("curate"))
    return CurateResult(articles, rejects, _metrics(posts, articles, rejects))


def _reject(frame: pl.DataFrame, cond: pl.Expr, reason: str, detail: pl.Expr) -> pl.DataFrame:
    """Mark rows that fail `cond` and are not yet rejected; earlier reasons win."""
    hit = pl.col("reason").is_null() & cond
    return frame.with_columns(
        reason=pl.when(hit).then(pl.lit(str(reason))).otherwise("reason"),
        detail=pl.when(hit).then(detail).otherwise("detail"),
    )


def _metrics(posts: pl.DataFrame, articles: pl.DataFrame, rejects: pl.DataFrame) -> dict:
    per_split = articles.group_by("split").agg(users=pl.col("user_id").n_unique(), articles=pl.len())
    by_split = {row["split"]: {"users": row["users"], "articles": row["articles"]} for row in per_split.iter_rows(named=True)}
    words = articles.get_column("n_words")
    return {
        "posts_in": len(posts),
        "articles": len(articles),
        "rejected": len(rejects),
        "users": articles.get_column("user_id").n_unique(),
        "splits": {s: by_split.get(s, {"users": 0, "articles": 0}) for s in SPLITS},
        "rejected_by_reason": dict(sorted(Counter(rejects.get_column("reason").to_list()).items())),
        "words_median": float(words.median()) if len(words) else 0.0,
        "words_mean": round(float(words.mean()), 1) if len(words) else 0.0,
    }
