"""Parse timestamps of any common shape into UTC, vectorised, leaving null where nothing fits."""

from __future__ import annotations

import email.utils
from datetime import timezone

import polars as pl

UTC = pl.Datetime("us", "UTC")

# Tried in order; the first that parses a value wins. Zone-less values are taken as UTC.
_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.fZ",  # "Z" (Zulu) is how JSON dumps usually say UTC
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def parse_timestamps(values: pl.Series) -> pl.Series:
    """UTC datetimes from strings (ISO 8601, RFC 2822), epoch numbers or datetimes; null if unparseable."""
    if values.dtype == pl.Datetime:
        tz = values.dtype.time_zone
        out = values.dt.convert_time_zone("UTC") if tz else values.dt.replace_time_zone("UTC")
        return out.cast(UTC)
    if values.dtype == pl.Date:
        return values.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if values.dtype.is_numeric():
        # Epoch seconds, or milliseconds when the number is too large to be seconds (after 5138 AD).
        as_ms = pl.when(values.abs() > 1e11).then(values).otherwise(values * 1000)
        return pl.select(pl.from_epoch(as_ms.cast(pl.Int64), time_unit="ms")).to_series().cast(UTC)
    text = values.cast(pl.String).str.strip_chars()
    out = pl.repeat(None, len(text), dtype=UTC, eager=True).alias(values.name)
    todo = text.is_not_null() & (text != "")
    for fmt in _FORMATS:  # each format only sees the values that no earlier format parsed
        rows = todo.arg_true()
        if rows.is_empty():
            break
        parsed = text.gather(rows).str.to_datetime(fmt, strict=False, time_unit="us")
        parsed = parsed.dt.convert_time_zone("UTC") if "%z" in fmt else parsed.dt.replace_time_zone("UTC")
        out = out.scatter(rows, parsed)
        todo = todo & out.is_null()
    # Mail-style dates ("Thu, 22 Aug 2002 07:36:16 -0400") are rare in tables: parse the leftovers in Python.
    rows = todo.arg_true()
    if not rows.is_empty():
        out = out.scatter(rows, pl.Series([_rfc2822(v) for v in text.gather(rows)], dtype=UTC))
    return out


def _rfc2822(value: str):
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
