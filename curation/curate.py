"""Curate: posts -> articles, ordered in time per user and split by user.

in:  posts       post_id, user_id, created_at, title, text (+ source)
out: articles    the posts columns + n_words, position (0-based, per user, in time order), split
     rejects     the posts columns + n_words, stage='curate', reason, detail (the `quarantine` table)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from common.errors import InputError
from curation.reasons import Reason
from curation.split import SPLITS, assign_splits
from curation.words import count_words

POST_SCHEMA = {
    "post_id": pl.String,
    "user_id": pl.String,
    "created_at": pl.Datetime,
    "title": pl.String,
    "text": pl.String,
}
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
    posts = _normalise_text(posts, params.unicode_form)
    # The rules run on a small sorted index (no text); the text is gathered once at the end,
    # because every copy of a gigabyte of text costs seconds (benchmarks/curation.py).
    index = (
        posts.select("user_id", "created_at", "post_id", "n_words", _text_hash=pl.col("text").hash())
        .with_row_index("_row")
        .sort("user_id", "created_at", "post_id")
        .with_columns(reason=pl.lit(None, pl.String))
    )
    rules = [
        (
            ~pl.struct("user_id", "_text_hash").is_first_distinct(),
            Reason.DUPLICATE_TEXT,
            pl.lit("same user posted this text earlier"),
        ),
        (
            pl.col("n_words") < params.min_words,
            Reason.TOO_SHORT,
            pl.format("{} words < min_words={}", "n_words", pl.lit(params.min_words)),
        ),
        (
            pl.col("n_words") > params.max_words,
            Reason.TOO_LONG,
            pl.format("{} words > max_words={}", "n_words", pl.lit(params.max_words)),
        ),
        # `_kept` is counted after the rules above, so it counts only the posts they keep
        (
            pl.col("_kept") < params.min_posts_per_user,
            Reason.TOO_FEW_POSTS,
            pl.format(
                "user keeps {} of {} posts < min_posts_per_user={}",
                "_kept",
                "_posts",
                pl.lit(params.min_posts_per_user),
            ),
        ),
    ]
    for i, (cond, why, _) in enumerate(rules):
        if i == len(rules) - 1:
            kept = pl.col("reason").is_null().sum().over("user_id")
            index = index.with_columns(_kept=kept, _posts=pl.len().over("user_id"))
        index = index.with_columns(
            reason=pl.when(pl.col("reason").is_null() & cond).then(pl.lit(str(why))).otherwise("reason")
        )

    kept = index.filter(pl.col("reason").is_null())
    splits = assign_splits(kept.get_column("user_id"), params.split, params.seed)
    articles = posts[kept.get_column("_row")].with_columns(
        position=pl.int_range(pl.len(), dtype=pl.Int32).over("user_id"),
        split=pl.col("user_id").replace_strict(splits.get_column("user_id"), splits.get_column("split")),
    )
    detail = pl.lit(None, pl.String)
    for _, why, how in rules:  # formatted for rejected rows only
        detail = pl.when(pl.col("reason") == str(why)).then(how).otherwise(detail)
    rejected = index.filter(pl.col("reason").is_not_null()).select("_row", "reason", detail.alias("detail"))
    rejects = posts[rejected.get_column("_row")].with_columns(
        rejected.select("reason", "detail"), stage=pl.lit("curate")
    )
    return CurateResult(articles, rejects, _metrics(posts, articles, rejects))


def _normalise_text(posts: pl.DataFrame, form: str) -> pl.DataFrame:
    """Unicode normal form, no trailing blanks, at most one blank line in a row; plus `n_words`.

    One streaming pass (all cores) counts words and finds the rows that need a change; only those
    are rewritten. ASCII text is already in every normal form and most posts are tidy, so this
    avoids rewriting a gigabyte of text that would not change (benchmarks/curation.py).
    """
    text = pl.col("text")
    # Literal tests, not one regex with anchors: about 7x faster over a gigabyte.
    untidy = pl.any_horizontal(
        *(text.str.contains(s, literal=True) for s in (" \n", "\t\n", "\n\n\n", "\r")),
        *(text.str.starts_with(c) | text.str.ends_with(c) for c in (" ", "\n", "\t")),
    )
    flags = (
        posts.lazy()
        .select(
            n_words=count_words(text),
            _non_ascii=text.str.contains(r"[^\x00-\x7F]").fill_null(False) & (form != "none"),
            _untidy=untidy.fill_null(False),
        )
        .collect(engine="streaming")
    )
    non_ascii = flags.get_column("_non_ascii")
    rows = (non_ascii | flags.get_column("_untidy")).arg_true()
    texts, n_words = posts.get_column("text"), flags.get_column("n_words")
    if rows.is_empty():
        return posts.with_columns(n_words)
    fixed = texts.gather(rows)
    inner = non_ascii.gather(rows).arg_true()  # where the non-ASCII rows sit among `rows`
    if not inner.is_empty():
        normal = fixed.gather(inner).str.normalize(form)
        fixed = fixed.scatter(inner, normal)
        # a normal form can merge or split characters, and so words: recount the rows it touched
        n_words = n_words.scatter(rows.gather(inner), pl.select(count_words(pl.lit(normal))).to_series())
    # Trailing blanks and runs of blank lines carry no style; tabs and single blank lines do.
    fixed = fixed.str.replace_all(r"\r\n?", "\n").str.replace_all(r"[ \t]+\n", "\n").str.replace_all(r"\n{3,}", "\n\n")
    texts = texts.scatter(rows, fixed.str.strip_chars())
    return posts.with_columns(texts, n_words)


def _metrics(posts: pl.DataFrame, articles: pl.DataFrame, rejects: pl.DataFrame) -> dict:
    per_split = articles.group_by("split").agg(users=pl.col("user_id").n_unique(), articles=pl.len())
    by_split = {
        row["split"]: {"users": row["users"], "articles": row["articles"]} for row in per_split.iter_rows(named=True)
    }
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
