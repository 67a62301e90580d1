"""Curate: posts -> articles, ordered in time per user and split by user.

in:  posts       post_id, user_id, created_at, title, text (+ source)
out: articles    the posts columns + n_words, position (0-based, per user, in time order), split,
                 removed_lines (boilerplate taken out of the text, null if none)
     rejects     the posts columns + n_words, stage='curate', reason, detail (the `quarantine` table)

Order: Unicode form and tidy whitespace (curation/normalise.py); boilerplate lines out (curation/boilerplate.py), words
counted after; then the rules, first failing one wins: duplicate_text, too_short, too_long,
newsletter, near_duplicate (curation/near_duplicates.py, among the posts still kept),
too_few_posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from common.errors import InputError
from curation.boilerplate import Boilerplate
from curation.normalise import normalise
from curation.reasons import Reason
from curation.split import SPLITS
from curation.text_bytes import TextBytes
from curation.words import word_counts

POST_SCHEMA = {
    "post_id": pl.String,
    "user_id": pl.String,
    "created_at": pl.Datetime,
    "title": pl.String,
    "text": pl.String,
}
UNICODE_FORMS = ("NFC", "NFKC", "NFD", "NFKD", "none")
# Subscription management in a post's own last lines marks a newsletter sent from a person's address.
DEFAULT_NEWSLETTER_PATTERNS = (
    r"\byou are (currently )?subscribed\b",
    r"\bto unsubscribe\b",
    r"\bunsubscribe (from|send|by|at|here|link|instructions)\b",
    r"\bto be removed from (this|our|the) (list|mailing)",
    r"\bsubscribed to the \w+ version\b",
)


@dataclass(frozen=True)
class CurateParams:
    unicode_form: str = "NFC"
    min_words: int = 50
    max_words: int = 2000
    min_posts_per_user: int = 3
    split: dict = field(default_factory=lambda: {"train": 0.8, "align": 0.1, "test": 0.1})
    seed: int = 13
    boilerplate_min_users: int = 5  # a line in posts of this many users is boilerplate (0 = off)
    boilerplate_min_chars: int = 20
    boilerplate_max_gap: int = 5
    near_duplicate_threshold: float = 0.8  # word-shingle Jaccard; above 1 = off
    near_duplicate_shingle: int = 5
    newsletter_patterns: tuple[str, ...] = DEFAULT_NEWSLETTER_PATTERNS
    newsletter_tail_lines: int = 5
    batch_rows: int = 100_000  # posts read, normalised and written at a time: memory is the text once + a batch

    def __post_init__(self):
        if self.unicode_form not in UNICODE_FORMS:
            raise InputError(f"curate.unicode_form={self.unicode_form!r}; allowed: {', '.join(UNICODE_FORMS)}")
        names = ("min_words", "max_words", "min_posts_per_user", "seed", "boilerplate_min_users")
        names += ("boilerplate_min_chars", "boilerplate_max_gap", "near_duplicate_shingle", "newsletter_tail_lines")
        names += ("batch_rows",)
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"curate.{name}={value!r}; must be a non-negative integer")
        if self.batch_rows < 1:
            raise InputError(f"curate.batch_rows={self.batch_rows!r}; must be at least 1")
        if self.near_duplicate_shingle < 1 or not 0 < self.near_duplicate_threshold:
            raise InputError(
                f"curate.near_duplicate_threshold={self.near_duplicate_threshold!r} must be > 0 (above 1 turns it off), "
                f"curate.near_duplicate_shingle={self.near_duplicate_shingle!r} >= 1"
            )
        for pattern in self.newsletter_patterns:
            try:
                re.compile(pattern)
            except (re.error, TypeError) as exc:
                raise InputError(
                    f"curate.newsletter_patterns: {pattern!r} is not a regular expression ({exc})"
                ) from None
        if self.max_words < self.min_words:
            raise InputError(f"curate.max_words={self.max_words} is below curate.min_words={self.min_words}")
        unknown = set(self.split) - set(SPLITS)
        if unknown:
            raise InputError(f"curate.split has unknown split(s) {sorted(unknown)}; allowed: {', '.join(SPLITS)}")
        fractions = list(self.split.values())
        if any(not isinstance(f, (int, float)) or f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
            raise InputError(f"curate.split={self.split}; fractions must be >= 0 and sum to 1")


def check_schema(columns: list[str], where: str) -> None:
    missing = [c for c in POST_SCHEMA if c not in columns]
    if missing:
        raise InputError(f"{where} lacks column(s) {', '.join(missing)}; has {', '.join(columns)}")


def rules(params: CurateParams) -> list[tuple[pl.Expr, Reason, pl.Expr]]:
    """(condition, reason, detail) in order; the first failing rule wins. The first four need only
    the post and its user's other posts (one shard); `_dup_of` (near-duplicates) is found across
    shards among the posts they keep, and `_kept` counted after it."""
    return [
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
        (pl.col("_newsletter"), Reason.NEWSLETTER, pl.lit("subscription wording in the last lines")),
        (
            pl.col("_dup_of").is_not_null(),
            Reason.NEAR_DUPLICATE,
            pl.format(
                "near-duplicate (Jaccard {}) of {} by {}",
                "_jaccard",
                "_dup_of",
                pl.when(pl.col("_dup_user") == pl.col("user_id")).then(pl.lit("the same user")).otherwise("_dup_user"),
            ),
        ),
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


def first_reasons(posts: pl.DataFrame, params: CurateParams) -> pl.DataFrame:
    """The posts' index (no text) in the articles' order (user, time, id) with `reason` from the
    rules that need one shard only; `_row` is the post's row in `posts`."""
    index = (
        posts.select(
            "user_id",
            "created_at",
            "post_id",
            "n_words",
            _text_hash=pl.col("text").hash(),
            _newsletter=_newsletters(posts.get_column("text"), params),
        )
        .with_row_index("_row")
        .sort("user_id", "created_at", "post_id")
        .with_columns(reason=pl.lit(None, pl.String))
    )
    for cond, why, _ in rules(params)[:4]:
        index = index.with_columns(
            reason=pl.when(pl.col("reason").is_null() & cond).then(pl.lit(str(why))).otherwise("reason")
        )
    return index.drop("_text_hash", "_newsletter")


def last_reasons(index: pl.DataFrame, near: pl.DataFrame, params: CurateParams) -> pl.DataFrame:
    """`first_reasons`' index with the near-duplicates found across shards (`near`: post_id,
    _dup_of, _dup_user, _jaccard) and the users who keep too few posts; `detail` for every reason."""
    index = index.join(near, on="post_id", how="left", maintain_order="left")
    listed = rules(params)
    for cond, why, _ in listed[4:]:
        if why == Reason.TOO_FEW_POSTS:  # counted after the rules above, so only the posts they keep
            index = index.with_columns(
                _kept=pl.col("reason").is_null().sum().over("user_id"), _posts=pl.len().over("user_id")
            )
        index = index.with_columns(
            reason=pl.when(pl.col("reason").is_null() & cond).then(pl.lit(str(why))).otherwise("reason")
        )
    detail = pl.lit(None, pl.String)
    for _, why, how in listed:  # formatted for rejected rows only
        detail = pl.when(pl.col("reason") == str(why)).then(how).otherwise(detail)
    return index.with_columns(detail=detail)


def read_posts(posts: pl.LazyFrame, params: CurateParams) -> tuple[pl.DataFrame, TextBytes]:
    """The posts with their text normalised and `n_words`, and the texts' bytes. The text is read
    and normalised in batches, so that it is held once (as the bytes the column reads) beside one
    batch: whole, the column as read and its normalised copy made two (benchmarks/curation.py)."""
    check_schema(posts.collect_schema().names(), "posts")
    frame, text_bytes = read_texts(posts, params.batch_rows, lambda texts: normalise(texts, params.unicode_form))
    return frame.with_columns(word_counts(frame.get_column("text"), text_bytes).alias("n_words")), text_bytes


def read_texts(frame: pl.LazyFrame, step: int, pack=TextBytes.shared) -> tuple[pl.DataFrame, TextBytes]:
    """`frame` read with its `text` column packed as bytes by `pack` (given the column in batches
    of `step` rows), so that the text is held once beside one batch."""
    columns = frame.collect_schema().names()
    rest = frame.drop("text").collect()
    texts = frame.select("text")
    texts, text_bytes = pack(texts.slice(at, step).collect().to_series() for at in batch_starts(len(rest), step))
    return rest.insert_column(columns.index("text"), texts), text_bytes


def without_boilerplate(
    posts: pl.DataFrame, text_bytes: TextBytes, found: Boilerplate | None, params: CurateParams
) -> tuple[pl.DataFrame, TextBytes, dict]:
    """Boilerplate lines out of the text (kept in `removed_lines`); words recounted where it changed."""
    metrics = {"lines_removed": 0, "articles_changed": 0}
    if found is None or found.hits.is_empty():
        return posts.with_columns(removed_lines=pl.lit(None, pl.String)), text_bytes, metrics
    texts, removals, step = posts.get_column("text"), [], params.batch_rows

    def without(at: int) -> pl.Series:
        removals.append(found.removal(texts.slice(at, step), at))
        return removals[-1].text

    # Taken out and packed again a batch at a time: the old text and the new, no third copy.
    texts, text_bytes = TextBytes.shared(without(at) for at in batch_starts(len(texts), step))
    rows = pl.concat([r.changed for r in removals])
    metrics["lines_removed"] = sum(r.lines_removed for r in removals)
    metrics["articles_changed"] = len(rows)
    changed = word_counts(texts.gather(rows), text_bytes.rows(rows.to_numpy()))  # from the bytes just made
    n_words = posts.get_column("n_words").scatter(rows, changed)
    removed = pl.concat([r.removed for r in removals]).alias("removed_lines")
    return posts.with_columns(texts, removed, n_words), text_bytes, metrics


def batch_starts(rows: int, size: int) -> range:
    """Where each batch of `size` of `rows` rows starts; one (empty) batch when there are none."""
    return range(0, max(rows, 1), size)


def _newsletters(texts: pl.Series, params: CurateParams) -> pl.Series:
    """Whether each post has subscription wording in its last `newsletter_tail_lines` lines."""
    if not params.newsletter_patterns:
        return pl.repeat(False, len(texts), eager=True)
    pattern = "(?i)" + "|".join(f"(?:{p})" for p in params.newsletter_patterns)
    # Only texts with the wording anywhere are split into lines: splitting them all costs 7x more.
    found = texts.str.contains(pattern).fill_null(False)
    rows = found.arg_true()
    tail = texts.gather(rows).str.split("\n").list.tail(params.newsletter_tail_lines).list.join("\n")
    return found.scatter(rows, tail.str.contains(pattern))
