"""Parse timestamps of any common shape into UTC, vectorised, leaving null where nothing fits.

Epoch numbers carry no unit, so the unit is read from the magnitude: a number is taken in the
coarsest unit (seconds, then ms, µs, ns) that puts it before the year 33658, i.e. seconds below
1e12, milliseconds below 1e15 and so on. A value that no unit makes sane stays null; the caller
then checks the result against a date range (`ingest.min_date`/`max_date`), so a millisecond
value from before 2001 (read as seconds, far in the future) is refused rather than misread.
"""

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
        return _from_epoch(values.cast(pl.Float64))
    text = values.cast(pl.String).str.strip_chars()
    out = pl.repeat(None, len(text), dtype=UTC, eager=True).alias(values.name)
    todo = text.is_not_null() & (text != "")
    # Numbers in a text column (a JSONL file that mixes epochs and ISO strings): epochs too.
    numeric = todo & text.str.contains(_NUMBER)
    if numeric.any():
        rows = numeric.arg_true()
        out = out.scatter(rows, _from_epoch(text.gather(rows).cast(pl.Float64, strict=False)))
        todo = todo & ~numeric
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


_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
# Microseconds per unit, coarsest first; a value is read in the first unit where |value| < 1e12 * 1000**i.
_EPOCH_UNITS = (1e6, 1e3, 1.0, 1e-3)
_MAX_US = 2**62  # far beyond any sane date, well inside Int64


def _from_epoch(values: pl.Series) -> pl.Series:
    """Epoch numbers (Float64) in their unit by magnitude -> UTC datetimes; null beyond every unit."""
    size = values.abs()
    us = pl.lit(None, pl.Float64)
    for i, per_unit in reversed(list(enumerate(_EPOCH_UNITS))):
        us = pl.when(size < 1e12 * 1000.0**i).then(values * per_unit).otherwise(us)
    frame = pl.DataFrame({"v": values}).select(us=us.alias("us"))
    us = frame.get_column("us")
    us = us.set((us.abs() >= _MAX_US) | us.is_nan(), None)
    return us.cast(pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias(values.name)


def in_range(values: pl.Series, low, high) -> pl.Series:
    """True where a UTC datetime lies in [low, high) (both timezone-aware datetimes)."""
    return (values >= low) & (values < high)


def _rfc2822(value: str):
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
