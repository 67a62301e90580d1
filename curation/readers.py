"""Readers for the shapes forum dumps come in: mail (single messages, mbox, maildir), JSONL, CSV, Parquet.

Every reader returns one Polars frame per input file in the same layout (`RAW_COLUMNS`):

    source, record        where the row came from (file path relative to the input, line/row/message)
    post_id, user         as found (not yet hashed); post_id may be null
    created_at            UTC datetime, null when unparseable; created_at_raw keeps what was there
    title, text
    reason, detail        set when the reader already knows the row is bad (unparseable, bad encoding...)
    raw                   the original record, for quarantine. Tabular readers do not copy it: JSONL
                          and CSV rows carry their byte span in the file (`_start`, `_end`), so a
                          rejected row's raw is its verbatim line or record (`original_records`);
                          Parquet rows, which have no bytes of their own, keep `_orig` (a struct of
                          the original columns, JSON-encoded only when rejected)

Text files may start with a byte-order mark: UTF-8's is skipped, UTF-16/32 are transcoded first.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import logging
import mailbox
import mmap
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
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
ROW = "__record__"  # the reader's own record label: never clashes with a column of the dump
SPAN = ("_start", "_end")  # a row's bytes in the (UTF-8) file content, for its verbatim raw
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"))
_BOMS += ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


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


def read_table(
    path: Path, fmt: str, source: str, columns: ColumnMap, piece: tuple[int, int, int] | None = None
) -> pl.DataFrame:
    """A whole file, or for JSONL one `piece` of it from `jsonl_pieces`."""
    if fmt == "jsonl":
        frame, rejects = _read_jsonl(path, source, piece)
    elif fmt == "csv":
        frame, rejects = _read_csv(path, source)
    elif fmt == "parquet":
        try:
            frame, rejects = pl.read_parquet(path), _empty()
        except (pl.exceptions.PolarsError, OSError) as exc:  # empty, garbage or truncated: the file is one bad record
            detail = f"not a readable Parquet file: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
            return _whole_file_rejected(path, source, Reason.UNPARSEABLE, detail[:500])
        frame = frame.with_columns(_line_numbers(1, len(frame), "row"))
    else:
        raise InputError(f"unknown format {fmt!r}; ingest.format must be one of {', '.join(FORMATS)}")
    if isinstance(frame, tuple):  # the reader refused the file as a whole: (reason, detail)
        return _whole_file_rejected(path, source, *frame)
    return pl.concat([_standardise(frame, source, columns, path), rejects], how="diagonal_relaxed")


def _whole_file_rejected(path: Path, source: str, reason: str, detail: str) -> pl.DataFrame:
    raw = path.read_bytes().decode("utf-8", errors="backslashreplace")
    return pl.concat([_empty(), _rejects(source, [("file", reason, detail, raw)])], how="diagonal_relaxed")


@contextlib.contextmanager
def _content(path: Path):
    """The file's content as UTF-8 bytes and the offset where it starts (after a UTF-8 BOM). UTF-8
    is mapped, not read (slicing a mapping costs a fraction of faulting in a fresh 1 GB buffer);
    UTF-16/32 with a BOM is transcoded in memory."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if not head:
            yield b"", 0
            return
        bom, encoding = _byte_order_mark(head)
        if encoding != "utf-8":
            yield path.read_bytes()[len(bom) :].decode(encoding, errors="replace").encode("utf-8"), 0
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            yield data, len(bom)


def _byte_order_mark(head: bytes) -> tuple[bytes, str]:
    """The mark a file's first bytes open with and its encoding (none: UTF-8)."""
    return next(((b, e) for b, e in _BOMS if head.startswith(b)), (b"", "utf-8"))


def original_records(path: Path, starts: list[int], ends: list[int]) -> list[str]:
    """The verbatim text of rows by their byte spans (as `_read_jsonl` and `_read_csv` recorded them).
    UTF-8 spans are read, not mapped: a page fault on a mapping maps the pages around it too, and
    a few thousand rejected rows spread over a gigabyte dump made half a gigabyte resident."""
    spans = zip(starts, ends, strict=True)
    with path.open("rb") as fh:
        if _byte_order_mark(fh.read(4))[1] == "utf-8":
            fd = fh.fileno()
            return [os.pread(fd, b - a, a).decode("utf-8", errors="backslashreplace") for a, b in spans]
    with _content(path) as (data, _):  # transcoded to UTF-8 in memory: spans are in that
        return [bytes(data[a:b]).decode("utf-8", errors="backslashreplace") for a, b in spans]


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


def jsonl_pieces(path: Path, size: int) -> list[tuple[int, int, int]] | None:
    """(start, end, first line number) of blocks of about `size` bytes of a JSONL file, each ending
    at a line break, so that tasks can read one each; None when the file is read whole (a `.json`
    array; UTF-16/32, which is transcoded in memory)."""
    with _content(path) as (data, start):
        if not isinstance(data, mmap.mmap) or _is_json_array(path, data, start):
            return None
        pieces, line = [], 1
        for a, b in _line_chunks(data, start, size):
            pieces.append((a, b, line))
            block = data[a:b]
            line += block.count(b"\n") + (not block.endswith(b"\n"))  # as `_parse_chunk` counts them
            del block
            _release(data, a, b)
        return pieces


def _is_json_array(path: Path, data, start: int) -> bool:
    return path.suffix.lower() == ".json" and bytes(data[start : start + 4096]).lstrip()[:1] == b"["


def _read_jsonl(
    path: Path, source: str, piece: tuple[int, int, int] | None = None
) -> tuple[pl.DataFrame | tuple[str, str], pl.DataFrame]:
    """Parse the file (or its `piece`) in chunks of whole lines; only a chunk that fails is taken
    apart line by line. A `.json` file holding one array of objects is read as one record per item."""
    good: list[pl.DataFrame] = []
    bad: list[tuple] = []
    with _content(path) as (data, start):
        if piece is None and _is_json_array(path, data, start):
            return _read_json_array(bytes(data[start:]), source)
        start, stop, first_line = piece or (start, len(data), 1)
        for a, b in _line_chunks(data, start, stop=stop):
            first_line += _parse_chunk(data[a:b], a, first_line, good, bad)
            _release(data, a, b)
        frame = _concat_parts([f for f in good if len(f)], data, bad)
    return frame, _rejects(source, [(f"line {n}", *rest) for n, *rest in bad])


def _concat_parts(frames: list[pl.DataFrame], data, bad: list) -> pl.DataFrame:
    """One frame of all parsed parts. Parts parsed apart can disagree on a field's type (a list
    here, a boolean there): a part that cannot join the parts before it is quarantined."""
    if not frames:
        return pl.DataFrame(schema={ROW: pl.String})
    try:
        return pl.concat(frames, how="diagonal_relaxed")
    except pl.exceptions.PolarsError:
        pass
    joined = frames[0]
    for part in frames[1:]:
        try:
            joined = pl.concat([joined, part], how="diagonal_relaxed")
        except pl.exceptions.PolarsError:
            for record, a, b in part.select(ROW, *SPAN).iter_rows():
                raw = bytes(data[a:b]).decode("utf-8", errors="backslashreplace")
                why = "a JSON object whose field types clash with the rest of the file"
                bad.append((int(record.split()[1]), Reason.UNPARSEABLE, why, raw))
    return joined


def _read_json_array(data: bytes, source: str) -> tuple[pl.DataFrame | tuple[str, str], pl.DataFrame]:
    try:
        items = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        return (Reason.UNPARSEABLE, f"a .json file that is not one JSON array: {exc}"[:500]), _empty()
    if not isinstance(items, list):
        return (Reason.UNPARSEABLE, f"a .json file holding a JSON {type(items).__name__}, not an array"), _empty()
    good, bad, lines, buffer = [], [], [], bytearray()
    for i, item in enumerate(items, start=1):
        if isinstance(item, dict):
            text = json.dumps(item, ensure_ascii=False).encode("utf-8")
            lines.append((i, len(buffer), len(buffer) + len(text), text))
            buffer += text + b"\n"
        else:
            bad.append((i, Reason.UNPARSEABLE, f"a JSON {type(item).__name__}, not an object", json.dumps(item)))
    _bisect_jsonl(lines, good, bad)
    frame = _concat_parts([f for f in good if len(f)], buffer, bad)
    # Items have no bytes of their own in the file: a rejected item's raw is the item as JSON.
    frame = frame.drop(SPAN, strict=False).with_columns(pl.col(ROW).str.replace("line", "item"))
    return frame, _rejects(source, [(f"item {n}", *rest) for n, *rest in bad])


def _parse_chunk(chunk: bytes, offset: int, first_line: int, good: list, bad: list) -> int:
    """Parse whole lines at once; if Polars refuses, find the bad lines. Returns the lines consumed.
    `offset` is where the chunk starts in the file: each row keeps its line's byte span."""
    breaks = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
    ends = breaks if chunk.endswith(b"\n") else np.append(breaks, len(chunk))
    starts = np.concatenate(([0], breaks + 1))[: len(ends)]
    n_lines = len(ends)
    frame = None
    # Polars takes bytes that open like gzip, zlib or zstd for a compressed stream and inflates
    # them (or fails with an OSError); lines of JSON objects open with "{".
    if bytes(chunk[:64]).lstrip()[:1] == b"{":
        try:
            frame = pl.read_ndjson(chunk)
        except (pl.exceptions.PolarsError, ValueError, OSError):
            frame = None
    if frame is not None and len(frame) == n_lines:  # no broken and no blank line: row i is line i
        spans = {SPAN[0]: starts + offset, SPAN[1]: ends + offset}
        good.append(frame.with_columns(_line_numbers(first_line, n_lines), **spans))
    else:
        lines = [
            (first_line + i, offset + a, offset + b, bytes(chunk[a:b]))
            for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True))
            if chunk[a:b].strip()
        ]
        _split_bad_lines(lines, good, bad)
    return n_lines


def _release(data, start: int, end: int) -> None:
    """Drop the mapped pages of a parsed chunk from this process's memory (they stay in the page
    cache, and a page read again is mapped again): a gigabyte dump would otherwise stay resident."""
    first, last = start - start % mmap.PAGESIZE, end - end % mmap.PAGESIZE
    if isinstance(data, mmap.mmap) and last > first:
        data.madvise(mmap.MADV_DONTNEED, first, last - first)


def _line_chunks(data: mmap.mmap, start: int = 0, size: int = JSONL_CHUNK_BYTES, stop: int | None = None):
    """(start, end) of blocks of about `size` bytes up to `stop` that end at a line break, so no line is split."""
    stop = len(data) if stop is None else stop
    while start < stop:
        end = data.find(b"\n", min(start + size, stop) - 1, stop) + 1 or stop
        yield start, end
        start = end


def _split_bad_lines(numbered: list[tuple[int, int, int, bytes]], good: list, bad: list) -> None:
    """Set aside lines that are not JSON objects (with the reason), then parse the rest at once."""
    kept = []
    for n, a, b, line in numbered:
        why = _why_json_line_fails(line)
        if why:
            bad.append((n, *why, line.decode("utf-8", errors="backslashreplace")))
        else:
            kept.append((n, a, b, line))
    _bisect_jsonl(kept, good, bad)


def _bisect_jsonl(numbered: list[tuple[int, int, int, bytes]], good: list, bad: list) -> None:
    """Parse lines together; split a group that Polars refuses (field types that clash) until
    the offending lines stand alone."""
    if not numbered:
        return
    try:
        frame = pl.read_ndjson(b"\n".join(line for *_, line in numbered))  # each line a JSON object: "{" first
        numbers, starts, ends, _ = zip(*numbered, strict=True)
        rows = pl.Series(ROW, [f"line {n}" for n in numbers])
        good.append(frame.with_columns(rows, **{SPAN[0]: pl.Series(starts), SPAN[1]: pl.Series(ends)}))
        return
    except (pl.exceptions.PolarsError, ValueError, OSError):
        if len(numbered) > 1:
            mid = len(numbered) // 2
            _bisect_jsonl(numbered[:mid], good, bad)
            _bisect_jsonl(numbered[mid:], good, bad)
            return
    n, *_, line = numbered[0]
    reason = (Reason.UNPARSEABLE, "a JSON object whose field types clash with the rest of the file")
    bad.append((n, *reason, line.decode("utf-8", errors="backslashreplace")))


def _why_json_line_fails(line: bytes) -> tuple[str, str] | None:
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return Reason.BAD_ENCODING, f"not UTF-8: {exc.reason} at byte {exc.start}"
    except json.JSONDecodeError as exc:
        return Reason.UNPARSEABLE, f"invalid JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        return Reason.UNPARSEABLE, "JSON nested too deeply to read"
    if not isinstance(value, dict):
        return Reason.UNPARSEABLE, f"a JSON {type(value).__name__}, not an object"
    return None


def _read_csv(path: Path, source: str) -> tuple[pl.DataFrame | tuple[str, str], pl.DataFrame]:
    """Every record through Python's csv module, so that a ragged, cut-off or badly encoded row
    is quarantined the same way wherever it is, and each row keeps its byte span. `row N` is the
    file's Nth record, the header being row 1."""
    with _content(path) as (data, start):
        text = bytes(data[start:]).decode("utf-8", errors="surrogateescape")
    records = _csv_records(text, start)
    header = next(records, None)
    if header is None:
        return pl.DataFrame(schema={ROW: pl.String}), _empty()
    names = header[1]
    if any(_has_surrogates(n) for n in names):
        return (Reason.BAD_ENCODING, "the header is not UTF-8"), _empty()
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        return (
            Reason.UNPARSEABLE,
            f"the header names column(s) {', '.join(map(repr, twice))} more than once",
        ), _empty()
    rows, bad = [], []
    for n, values, a, b, cut in records:
        record = f"row {n}"
        raw = text[a - start : b - start].encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        if cut:
            bad.append((record, Reason.UNPARSEABLE, "a quoted field is never closed: the record runs to the end", raw))
        elif len(values) != len(names):
            bad.append((record, Reason.UNPARSEABLE, f"{len(values)} fields, header has {len(names)}", raw))
        elif any(_has_surrogates(v) for v in values):
            bad.append((record, Reason.BAD_ENCODING, "not UTF-8", raw))
        else:
            rows.append((*values, record, a, b))
    schema = {**dict.fromkeys(names, pl.String), ROW: pl.String, SPAN[0]: pl.Int64, SPAN[1]: pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row"), _rejects(source, bad)


def _csv_records(text: str, offset: int):
    """(record number, fields, start byte, end byte, cut off) for each CSV record of `text`."""
    csv.field_size_limit(sys.maxsize)  # a long post is for max_chars to judge, not the parser
    position = offset

    def lines():
        nonlocal position
        for line in io.StringIO(text, newline=""):
            position += len(line.encode("utf-8", "surrogateescape"))
            yield line

    start = offset
    for n, values in enumerate(csv.reader(lines()), start=1):
        record = text[start - offset : position - offset]
        # A quote left open swallows the rest of the file: an odd number of quotes shows it.
        cut = position - offset == len(text) and record.count('"') % 2 == 1
        yield n, values, start, position, cut
        start = position


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
    """Rename the mapped columns to the standard layout and keep the original row's span or `_orig`."""
    if frame.width == 1 and frame.columns == [ROW]:
        return _empty()
    original = [c for c in frame.columns if c not in (ROW, *SPAN)]
    missing = [f"ingest.columns.{k}={v!r}" for k, v in columns.required().items() if v not in original]
    if missing:
        raise InputError(f"{path}: no column {', '.join(missing)}; columns there: {', '.join(original)}")
    # A dump without titles or ids is common: leave them empty (ids become content hashes) and say so.
    absent = {k: v for k, v in columns.optional().items() if v and v not in original}
    for key, name in absent.items():
        log.warning("%s has no column %r (ingest.columns.%s): left empty", source, name, key)
    columns = dataclasses.replace(columns, **{k: None for k in absent})
    spans = [pl.col(c) for c in SPAN if c in frame.columns]
    if not spans:  # no bytes of its own to quote: the original row, before any column is made text
        binary = [
            pl.Series(c, _utf8_or_escaped(frame.get_column(c)), pl.String)
            for c in original
            if frame.schema[c] == pl.Binary
        ]
        frame = frame.with_columns(pl.struct(frame.select(original).with_columns(binary)).alias("_orig"))
    frame, reason, detail = _as_text_columns(frame, {**columns.required(), **columns.optional()})

    def text_col(name: str | None, alias: str) -> pl.Expr:
        return (pl.col(name).cast(pl.String) if name else pl.lit(None, pl.String)).alias(alias)

    created = frame.get_column(columns.created_at)
    return frame.select(
        pl.lit(source).alias("source"),
        pl.col(ROW).alias("record"),
        text_col(columns.post_id, "post_id"),
        text_col(columns.user, "user"),
        parse_timestamps(created).alias("created_at"),
        created.cast(pl.String).alias("created_at_raw"),
        text_col(columns.title, "title"),
        text_col(columns.text, "text"),
        reason.alias("reason"),
        detail.alias("detail"),
        pl.lit(None, pl.String).alias("raw"),
        *(spans or [pl.col("_orig")]),
    )


def _as_text_columns(frame: pl.DataFrame, mapped: dict[str, str | None]) -> tuple[pl.DataFrame, pl.Expr, pl.Expr]:
    """Mapped columns that cannot be read as text (lists, structs; bytes that are not UTF-8) become
    null, and their rows get a reason. Parquet is typed: a "text" column can hold anything."""
    reason, detail = pl.lit(None, pl.String), pl.lit(None, pl.String)
    for key, name in mapped.items():
        if name is None:
            continue
        dtype = frame.schema[name]
        if dtype == pl.Binary:
            values = [_utf8_or_none(v) for v in frame.get_column(name).to_list()]
            decoded = pl.Series(name, values, dtype=pl.String)
            broken = frame.get_column(name).is_not_null() & decoded.is_null()
            frame = frame.with_columns(decoded, pl.Series(f"_bad_{key}", broken))
            why, what = Reason.BAD_ENCODING, f"ingest.columns.{key}={name!r} holds bytes that are not UTF-8"
        elif dtype.is_nested() or dtype == pl.Object:
            frame = frame.with_columns(pl.Series(f"_bad_{key}", [True] * len(frame)))
            frame = frame.with_columns(pl.lit(None, pl.String).alias(name))
            why, what = Reason.UNPARSEABLE, f"ingest.columns.{key}={name!r} holds {dtype}, not text"
        else:
            continue
        flag = pl.col(f"_bad_{key}")
        reason = pl.when(reason.is_null() & flag).then(pl.lit(str(why))).otherwise(reason)
        detail = pl.when(detail.is_null() & flag).then(pl.lit(what)).otherwise(detail)
    return frame, reason, detail


def _utf8_or_escaped(values: pl.Series) -> list[str | None]:
    return [None if v is None else v.decode("utf-8", errors="backslashreplace") for v in values.to_list()]


def _utf8_or_none(value: bytes | None) -> str | None:
    try:
        return None if value is None else value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _line_numbers(start: int, n: int, word: str = "line") -> pl.Series:
    return pl.select(pl.concat_str(pl.lit(f"{word} "), pl.int_range(start, start + n))).to_series().alias(ROW)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=RAW_COLUMNS)
