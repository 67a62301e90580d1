"""Ingest: any supported dump -> `posts` + `quarantine`, so that read = accepted + quarantined exactly.

posts:      post_id, user_id, created_at (UTC), title, text, source
quarantine: stage, source, record, reason, detail, post_id, user_id, created_at_raw, title, text, raw
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from common.errors import InputError
from curation.dates import in_range
from curation.mail import AutomatedRules
from curation.readers import (
    FORMATS,
    RAW_COLUMNS,
    SPAN,
    ColumnMap,
    input_files,
    jsonl_pieces,
    original_records,
    read_mail,
    read_table,
)
from curation.reasons import Reason

POST_COLUMNS = ["post_id", "user_id", "created_at", "title", "text", "source"]
POST_TYPES = {c: RAW_COLUMNS.get(c, pl.String) for c in POST_COLUMNS}
QUARANTINE_COLUMNS = [
    "stage",
    "source",
    "record",
    "reason",
    "detail",
    "post_id",
    "user_id",
    "created_at_raw",
    "title",
    "text",
    "raw",
]

# Feeds, bug trackers, commit mails and newsletters seen in mailing-list archives.
DEFAULT_SENDER_PATTERNS = (
    r"^(rss|feed|newsletter|subscription|bugzilla|mailer-daemon|postmaster|noreply|no-reply|donotreply)",
    r"^(root|cvs|news|daemon)@",
    r"(bugzilla|-daemon|-bounces|-admin|notifications?)@",
)
DEFAULT_SUBJECT_PATTERNS = (
    r"^\[[A-Za-z]*CVS\]|\bCVS:",  # commit mails
    r"\[Bug \d+\]",  # bug tracker notifications
    r"(Headlines|Stories) for \d{4}-\d{2}-\d{2}",  # news digests
    r"^NYTimes\.com Article:",  # "e-mail this article": the newspaper's text, not the sender's
    r"^\[Lockergnome",
    r"^\[Ximian Updates\]",  # package update notices
)
DEFAULT_BODY_PATTERNS = (
    r"^To view this newsletter",
    r"^\s*\*\s*WORD A DAY\s*\*",
)


@dataclass(frozen=True)
class IngestParams:
    format: str = "auto"
    columns: ColumnMap = field(default_factory=ColumnMap)
    hash_users: bool = True
    user_salt: str = "sag-v1"
    max_chars: int = 100_000
    # Posts dated outside [min_date, max_date) are `bad_date`: a sane range catches misread epochs.
    min_date: str = "1970-01-01"
    max_date: str = "2100-01-01"
    sender_patterns: tuple[str, ...] = DEFAULT_SENDER_PATTERNS
    subject_patterns: tuple[str, ...] = DEFAULT_SUBJECT_PATTERNS
    body_patterns: tuple[str, ...] = DEFAULT_BODY_PATTERNS
    # The posts table is `shards` Parquet files partitioned by user (auto: one per 128 MB of dump);
    # a task reads `chunk_bytes` of the dump at a time, so memory is set here, not by the dump.
    shards: int | str = "auto"
    chunk_bytes: int = 64 << 20

    def __post_init__(self):
        if self.shards != "auto" and (
            not isinstance(self.shards, int) or isinstance(self.shards, bool) or self.shards < 1
        ):
            raise InputError(f"ingest.shards={self.shards!r}; must be auto or a positive integer")
        if not isinstance(self.chunk_bytes, int) or isinstance(self.chunk_bytes, bool) or self.chunk_bytes < 1 << 16:
            raise InputError(f"ingest.chunk_bytes={self.chunk_bytes!r}; must be an integer of at least 65536")
        if self.format not in FORMATS:
            raise InputError(f"ingest.format={self.format!r}; allowed: {', '.join(FORMATS)}")
        if not isinstance(self.max_chars, int) or self.max_chars < 1:
            raise InputError(f"ingest.max_chars={self.max_chars!r}; must be a positive integer")
        if self.date_range[0] >= self.date_range[1]:
            raise InputError(f"ingest.min_date={self.min_date!r} must be before ingest.max_date={self.max_date!r}")
        for k, v in self.columns.required().items():
            if not isinstance(v, str) or not v:
                raise InputError(f"ingest.columns.{k}={v!r}; must name a column")
        for key in ("sender_patterns", "subject_patterns", "body_patterns"):
            for pattern in getattr(self, key):
                try:
                    re.compile(pattern)
                except (re.error, TypeError) as exc:
                    raise InputError(f"ingest.{key}: {pattern!r} is not a regular expression ({exc})") from None

    @classmethod
    def from_dict(cls, raw: dict) -> IngestParams:
        raw = dict(raw)
        cols = raw.pop("columns", {}) or {}
        unknown = set(cols) - {"user", "created_at", "text", "title", "post_id"}
        if unknown:
            raise InputError(
                f"ingest.columns has unknown key(s) {sorted(unknown)}; allowed: user, created_at, text, title, post_id"
            )
        for key in ("sender_patterns", "subject_patterns", "body_patterns"):
            if key in raw:
                raw[key] = tuple(raw[key])
        return cls(columns=ColumnMap(**cols), **raw)

    @property
    def date_range(self) -> tuple[datetime, datetime]:
        return _utc_date("min_date", self.min_date), _utc_date("max_date", self.max_date)

    @property
    def rules(self) -> AutomatedRules:
        return AutomatedRules(self.sender_patterns, self.subject_patterns, self.body_patterns)


def _utc_date(key: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(f"ingest.{key}={value!r}; must be an ISO date such as 1970-01-01") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


@dataclass(frozen=True)
class Piece:
    """A part of the dump that one task reads: a byte range of a JSONL file, one other file, or a
    group of mail files."""

    fmt: str
    files: tuple[tuple[Path, str], ...]  # (file, its source name)
    span: tuple[int, int, int] | None = None  # JSONL: bytes [start, end) and the first line's number

    @property
    def file(self) -> Path | None:
        """The file the rows' byte spans point into (None: a group of mail files keep their raw)."""
        return None if self.fmt == "mail" else self.files[0][0]


def plan_pieces(path: Path, params: IngestParams) -> list[Piece]:
    """The dump cut into pieces of about `ingest.chunk_bytes`, in the order rows are read: mail
    files first (grouped), then every other file in turn, JSONL cut at line breaks."""
    files = input_files(path, params.format)
    root = path if path.is_dir() else path.parent
    pieces, group, size = [], [], 0
    for file, fmt in files:
        if fmt == "mail":
            group.append((file, str(file.relative_to(root))))
            size += file.stat().st_size
            if size >= params.chunk_bytes:
                pieces.append(Piece("mail", tuple(group)))
                group, size = [], 0
    if group:
        pieces.append(Piece("mail", tuple(group)))
    for file, fmt in files:
        named = ((file, str(file.relative_to(root))),)
        spans = jsonl_pieces(file, params.chunk_bytes) if fmt == "jsonl" else None
        if fmt == "mail":
            continue
        pieces += [Piece(fmt, named, span) for span in spans] if spans else [Piece(fmt, named)]
    return pieces


def read_piece(piece: Piece, params: IngestParams, progress: bool = False) -> pl.DataFrame:
    """Every record of the piece, in order, with its `reason` (null: a post) and ids assigned."""
    if piece.fmt == "mail":
        frame = read_mail(list(piece.files), params.rules, params.max_chars, progress)
    else:
        ((file, source),) = piece.files
        frame = read_table(file, piece.fmt, source, params.columns, piece.span)
    return _assign_ids(_flag_bad_values(frame, params), params)


def _flag_bad_values(frame: pl.DataFrame, params: IngestParams) -> pl.DataFrame:
    """First failing check wins; rows a reader already rejected keep their reason. The text checks
    run in one streaming pass (all cores); details are written for rejected rows only."""
    text = pl.col("text")
    checks = (
        frame.lazy()
        .select(
            _chars=text.str.len_chars(),
            _blank=text.is_null() | ~text.str.contains(r"\S"),
            _fffd=text.str.contains("\ufffd", literal=True).fill_null(False),
        )
        .collect(engine="streaming")
    )
    frame = frame.with_columns(checks)
    max_chars, (low, high) = params.max_chars, params.date_range
    chars, fffd = pl.col("_chars"), text.str.count_matches("\ufffd", literal=True)
    rules = [
        (pl.col("user").is_null() | (pl.col("user").str.strip_chars() == ""), Reason.MISSING_USER, pl.lit("no user")),
        (
            pl.col("created_at").is_null() | ~in_range(pl.col("created_at"), low, high),
            Reason.BAD_DATE,
            pl.when(pl.col("created_at").is_null())
            .then(pl.format("unparseable date {}", pl.col("created_at_raw")))
            .otherwise(
                pl.format(
                    "date {} read as {}, outside ingest.min_date..max_date ({}..{})",
                    pl.col("created_at_raw"),
                    pl.col("created_at").dt.to_string("%Y-%m-%dT%H:%M:%S"),
                    pl.lit(params.min_date),
                    pl.lit(params.max_date),
                )
            ),
        ),
        (pl.col("_blank"), Reason.EMPTY_BODY, pl.lit("no text")),
        (chars > max_chars, Reason.OVERSIZE, pl.format("{} characters > max_chars={}", chars, pl.lit(max_chars))),
        (pl.col("_fffd") & (fffd > 0.01 * chars), Reason.BAD_ENCODING, pl.format("{} U+FFFD characters", fffd)),
    ]
    reason = pl.col("reason")
    for cond, why, _ in reversed(rules):  # built inside out so that the first rule is outermost
        reason = pl.when(pl.col("reason").is_null() & cond).then(pl.lit(str(why))).otherwise(reason)
    frame = frame.with_columns(reason=reason)
    rows = (frame.get_column("reason").is_not_null() & frame.get_column("detail").is_null()).arg_true()
    if not rows.is_empty():
        detail = pl.lit(None, pl.String)
        for _, why, how in reversed(rules):
            detail = pl.when(pl.col("reason") == str(why)).then(how).otherwise(detail)
        details = frame.select(pl.all().gather(rows)).select(detail.alias("detail")).get_column("detail")
        frame = frame.with_columns(frame.get_column("detail").scatter(rows, details))
    return frame.drop("_chars", "_blank", "_fffd")


_USER_IDS = {"user": pl.String, "user_id": pl.String}


def _hash(value: str, key: bytes) -> str:
    return hashlib.blake2b(value.encode("utf-8"), key=key, digest_size=8).hexdigest()


def _assign_ids(frame: pl.DataFrame, params: IngestParams) -> pl.DataFrame:
    """user_id: the normalised user, keyed-hashed unless hash_users is off; post_id: given, else a content hash."""
    users = frame.get_column("user").str.strip_chars().unique().drop_nulls()
    key = params.user_salt.encode("utf-8")[:64]
    if params.hash_users:
        mapping = pl.DataFrame({"user": users, "user_id": [_hash(u, key) for u in users]}, schema=_USER_IDS)
    else:
        mapping = pl.DataFrame({"user": users, "user_id": users}, schema=_USER_IDS)
    # replace_strict, not a join: a join would copy every column, the text included
    user = pl.col("user").str.strip_chars()
    frame = frame.with_columns(
        user_id=user.replace_strict(mapping.get_column("user"), mapping.get_column("user_id"), default=None)
    )
    missing_id = frame.get_column("post_id").is_null() & frame.get_column("reason").is_null()
    if missing_id.any():  # stable across runs and re-orderings of the dump, unlike a row number
        idx = missing_id.arg_true()
        sub = frame.select("user_id", "created_at_raw", "text").gather(idx)
        ids = [_hash(f"{u}\x1f{d}\x1f{t}", b"post") for u, d, t in sub.iter_rows()]
        frame = frame.with_columns(frame.get_column("post_id").scatter(idx, pl.Series(ids, dtype=pl.String)))
    return frame.with_columns(pl.col("post_id").str.strip_chars())


def duplicate_ids(ids: pl.DataFrame) -> pl.DataFrame:
    """`ids`: post_id, source, record, piece, row of the rows accepted so far, from every piece. A
    post_id seen before (in dump order) is a duplicate; the first occurrence is kept. Returns
    piece, row, detail of each duplicate."""
    ordered = ids.sort("piece", "row")
    first = ordered.group_by("post_id", maintain_order=True).first()
    first = first.select(
        "post_id", _piece="piece", _row="row", detail=pl.format("duplicate of {} {}", "source", "record")
    )
    later = ordered.join(first, on="post_id", maintain_order="left")
    later = later.filter((pl.col("piece") != pl.col("_piece")) | (pl.col("row") != pl.col("_row")))
    return later.select("piece", "row", "detail")


def quarantine_rows(bad: pl.DataFrame, file: Path | None) -> pl.DataFrame:
    """Rejected rows with their original record: the verbatim line or CSV record where the reader
    kept its byte span, else (Parquet) the original columns as JSON."""
    raw = pl.col("raw")
    if SPAN[0] in bad.columns and file is not None:
        spanned = (bad.get_column("raw").is_null() & bad.get_column(SPAN[0]).is_not_null()).arg_true()
        if not spanned.is_empty():
            starts, ends = (bad.get_column(c).gather(spanned).to_list() for c in SPAN)
            verbatim = pl.Series(original_records(file, starts, ends), dtype=pl.String)
            bad = bad.with_columns(bad.get_column("raw").scatter(spanned, verbatim))
    if "_orig" in bad.columns:  # only rejected Parquet rows are ever turned back into JSON
        raw = pl.coalesce(raw, pl.col("_orig").struct.json_encode())
    return bad.with_columns(stage=pl.lit("ingest"), raw=raw).select(QUARANTINE_COLUMNS)
