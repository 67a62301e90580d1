"""Readers for the shapes forum dumps come in: mail (single messages, mbox, maildir), JSONL, CSV, Parquet.

Every reader returns one Polars frame per input file in the same layout (`RAW_COLUMNS`):

    source, record        where the row came from (file path relative to the input, line/row/message)
    post_id, user         as found (not yet hashed); post_id may be null
    created_at            UTC datetime, null when unparseable; created_at_raw keeps what was there
    title, text
    reason, detail        set when the reader already knows the row is bad (unparseable, bad encoding...)
    raw                   the original record, for quarantine; tabular readers keep it as `_orig`
                          (a struct of the original columns) and only rejected rows are ever encoded
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import mailbox
import mmap
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from tqdm import tqdm

from common.errors import InputError
from curation.dates import UTC, parse_timestamps
from curation.mail import AutomatedRules, parse_message
from curation.reasons import Reason

RAW_COLUMNS = {
    "source": pl.String,
    "record": pl.String,
    "post_id": pl.String,
    "user": pl.String,
    "created_at": UTC,
    "created_at_raw": pl.String,
    "title": pl.String,
    "text": pl.String,
    "reason": pl.String,
    "detail": pl.String,
    "raw": pl.String,
}
FORMATS = ("auto", "mail", "jsonl", "csv", "parquet")
log = logging.getLogger(__name__)
JSONL_CHUNK_BYTES = 2 << 20  # small enough that a chunk with a broken line is cheap to redo
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}


@dataclass(frozen=True)
class ColumnMap:
    """Which column of a tabular dump holds each field; title and post_id are optional."""

    user: str = "user"
    created_at: str = "created_at"
    text: str = "text"
    title: str | None = "title"
    post_id: str | None = "post_id"

    def required(self) -> dict[str, str]:
        return {"user": self.user, "created_at": self.created_at, "text": self.text}

    def optional(self) -> dict[str, str | None]:
        return {"title": self.title, "post_id": self.post_id}


def input_files(path: Path, fmt: str) -> list[tuple[Path, str]]:
    """(file, format) for every input file under `path`, in a stable order; hidden files are skipped."""
    if not path.exists():
        raise InputError(f"input {str(path)!r} does not exist")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    files = [f for f in files if not any(part.startswith(".") for part in f.relative_to(path.parent).parts)]
    if not files:
        raise InputError(f"input {str(path)!r} holds no files")
    return [(f, fmt if fmt != "auto" else _EXTENSIONS.get(f.suffix.lower(), "mail")) for f in files]


def read_table(path: Path, fmt: str, source: str, columns: ColumnMap) -> pl.DataFrame:
    if fmt == "jsonl":
        frame, rejects = _read_jsonl(path, source)
    elif fmt == "csv":
        frame, rejects = _read_csv(path, source)
    elif fmt == "parquet":
        try:
            frame, rejects = pl.read_parquet(path), _empty()
        except (pl.exceptions.PolarsError, OSError) as exc:  # empty, garbage or truncated: the file is one bad record
            detail = f"not a readable Parquet file: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
            raw = path.read_bytes().decode("utf-8", errors="backslashreplace")
            return pl.concat(
                [_empty(), _rejects(source, [("file", Reason.UNPARSEABLE, detail[:500], raw)])], how="diagonal_relaxed"
            )
        frame = frame.with_columns(record=pl.concat_str(pl.lit("row "), pl.int_range(1, pl.len() + 1)))
    else:
        raise InputError(f"unknown format {fmt!r}; ingest.format must be one of {', '.join(FORMATS)}")
    return pl.concat([_standardise(frame, source, columns, path), rejects], how="diagonal_relaxed")


def read_mail(files: list[tuple[Path, str]], rules: AutomatedRules, max_chars: int, progress: bool) -> pl.DataFrame:
    """(path, source) files each holding one RFC 822 message, or an mbox of many (first line "From ")."""
    rows = []
    for path, source in tqdm(files, desc="ingest: mail", unit="file", disable=not progress, mininterval=2):
        for record, raw in _messages(path, source):
            parsed = parse_message(raw, rules, max_chars)
            rows.append(
                (
                    source,
                    record,
                    # Message-IDs name hosts and people: keep only a hash of them.
                    hashlib.blake2b(parsed.message_id.encode(), digest_size=8).hexdigest()
                    if parsed.message_id
                    else None,
                    parsed.sender,
                    parsed.created_at,
                    parsed.created_at_raw,
                    parsed.title,
                    parsed.text,
                    parsed.reason,
                    parsed.detail,
                    raw.decode("utf-8", errors="backslashreplace"),
                )
            )
    return pl.DataFrame(rows, schema=RAW_COLUMNS, orient="row")


def _messages(path: Path, source: str) -> list[tuple[str, bytes]]:
    with path.open("rb") as fh:
        if not fh.readline().startswith(b"From "):
            return [(source, path.read_bytes())]
    box = mailbox.mbox(path, create=False)
    messages = [(f"{source}#{i + 1}", msg.as_bytes()) for i, msg in enumerate(box)]
    box.close()
    if len(messages) == 1:  # a single message with an mbox "From " envelope line
        return [(source, path.read_bytes())]
    return messages


def _read_jsonl(path: Path, source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse the file in chunks of whole lines; only a chunk that fails is taken apart line by line."""
    if path.stat().st_size == 0:
        return pl.DataFrame(schema={"record": pl.String}), _empty()
    good: list[pl.DataFrame] = []
    bad: list[tuple] = []
    first_line = 1
    # mmap, not read_bytes: slicing a mapping costs a fraction of faulting in a fresh 1 GB buffer.
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for start, end in _line_chunks(data):
            first_line += _parse_chunk(data[start:end], first_line, good, bad)
    frames = [f for f in good if len(f)]
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame(schema={"record": pl.String})
    return frame, _rejects(source, [(f"line {n}", *rest) for n, *rest in bad])


def _parse_chunk(chunk: bytes, first_line: int, good: list, bad: list) -> int:
    """Parse whole lines at once; if Polars refuses, find the bad lines. Returns the lines consumed."""
    n_lines = chunk.count(b"\n") + (not chunk.endswith(b"\n"))
    try:
        frame = pl.read_ndjson(chunk)
    except (pl.exceptions.PolarsError, ValueError):
        frame = None
    if frame is not None and len(frame) == n_lines:  # no broken and no blank line: row i is line i
        good.append(frame.with_columns(record=_line_numbers(first_line, n_lines)))
    else:
        lines = [(first_line + i, line) for i, line in enumerate(chunk.split(b"\n")[:n_lines]) if line.strip()]
        _split_bad_lines(lines, good, bad)
    return n_lines


def _line_chunks(data: mmap.mmap, size: int = JSONL_CHUNK_BYTES):
    """(start, end) of blocks of about `size` bytes that end at a line break, so no line is split."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", min(start + size, len(data)) - 1) + 1 or len(data)
        yield start, end
        start = end


def _split_bad_lines(numbered: list[tuple[int, bytes]], good: list, bad: list) -> None:
    """Set aside lines that are not JSON objects (with the reason), then parse the rest at once."""
    kept = []
    for n, line in numbered:
        why = _why_json_line_fails(line)
        if why:
            bad.append((n, *why, line.decode("utf-8", errors="backslashreplace")))
        else:
            kept.append((n, line))
    _bisect_jsonl(kept, good, bad)


def _bisect_jsonl(numbered: list[tuple[int, bytes]], good: list, bad: list) -> None:
    """Parse lines together; split a group that Polars refuses (field types that clash) until
    the offending lines stand alone."""
    if not numbered:
        return
    try:
        frame = pl.read_ndjson(b"\n".join(line for _, line in numbered))
        nums = pl.Series("record", [f"line {n}" for n, _ in numbered])
        good.append(frame.with_columns(record=nums))
        return
    except (pl.exceptions.PolarsError, ValueError):
        if len(numbered) > 1:
            mid = len(numbered) // 2
            _bisect_jsonl(numbered[:mid], good, bad)
            _bisect_jsonl(numbered[mid:], good, bad)
            return
    n, line = numbered[0]
    reason = (Reason.UNPARSEABLE, "a JSON object whose field types clash with the rest of the file")
    bad.append((n, *reason, line.decode("utf-8", errors="backslashreplace")))


def _why_json_line_fails(line: bytes) -> tuple[str, str] | None:
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return Reason.BAD_ENCODING, f"not UTF-8: {exc.reason} at byte {exc.start}"
    except json.JSONDecodeError as exc:
        return Reason.UNPARSEABLE, f"invalid JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(value, dict):
        return Reason.UNPARSEABLE, f"a JSON {type(value).__name__}, not an object"
    return None


def _read_csv(path: Path, source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    try:  # fast path: a clean UTF-8 file; everything read as text, typed later
        frame = pl.read_csv(path, infer_schema=False)
        return frame.with_columns(record=_line_numbers(2, len(frame), "row")), _empty()
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        pass
    # Slow path, row by row, so that a ragged or badly encoded row is quarantined rather than fatal.
    rows, bad = [], []
    with path.open("r", encoding="utf-8", errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        for values in reader:
            record = f"row {reader.line_num}"
            raw = ",".join(values).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            if len(values) != len(header):
                bad.append((record, Reason.UNPARSEABLE, f"{len(values)} fields, header has {len(header)}", raw))
            elif any(_has_surrogates(v) for v in values):
                bad.append((record, Reason.BAD_ENCODING, "not UTF-8", raw))
            else:
                rows.append([*values, record])
    frame = pl.DataFrame(rows, schema=[*header, "record"], orient="row")
    return frame, _rejects(source, bad)


def _rejects(source: str, bad: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    """Rows a reader could not parse: (record, reason, detail, raw) each."""
    columns = ("record", "reason", "detail", "raw")
    rows = [{"source": source, **dict(zip(columns, row, strict=True))} for row in bad]
    return pl.DataFrame(rows, schema={k: RAW_COLUMNS[k] for k in ("source", *columns)})


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _standardise(frame: pl.DataFrame, source: str, columns: ColumnMap, path: Path) -> pl.DataFrame:
    """Rename the mapped columns to the standard layout and keep the original row as `_orig`."""
    if frame.width == 1 and frame.columns == ["record"]:
        return _empty()
    original = [c for c in frame.columns if c != "record"]
    missing = [f"ingest.columns.{k}={v!r}" for k, v in columns.required().items() if v not in frame.columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(missing)}; columns there: {', '.join(original)}")
    # A dump without titles or ids is common: leave them empty (ids become content hashes) and say so.
    absent = {k: v for k, v in columns.optional().items() if v and v not in frame.columns}
    for key, name in absent.items():
        log.warning("%s has no column %r (ingest.columns.%s): left empty", source, name, key)
    columns = dataclasses.replace(columns, **{k: None for k in absent})

    def text_col(name: str | None, alias: str) -> pl.Expr:
        return (pl.col(name).cast(pl.String) if name else pl.lit(None, pl.String)).alias(alias)

    created = frame.get_column(columns.created_at)
    return frame.select(
        pl.lit(source).alias("source"),
        pl.col("record"),
        text_col(columns.post_id, "post_id"),
        text_col(columns.user, "user"),
        parse_timestamps(created).alias("created_at"),
        created.cast(pl.String).alias("created_at_raw"),
        text_col(columns.title, "title"),
        text_col(columns.text, "text"),
        pl.lit(None, pl.String).alias("reason"),
        pl.lit(None, pl.String).alias("detail"),
        pl.lit(None, pl.String).alias("raw"),
        pl.struct(original).alias("_orig"),
    )


def _line_numbers(start: int, n: int, word: str = "line") -> pl.Series:
    return pl.select(pl.concat_str(pl.lit(f"{word} "), pl.int_range(start, start + n))).to_series().alias("record")


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=RAW_COLUMNS)
