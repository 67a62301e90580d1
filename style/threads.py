"""Thread keys: which posts answer the same conversation, for topic-controlled negatives.

Mail and forum dumps keep the subject through ingest (`title`); replies carry it with prefixes
("Re:", "Fwd:", "AW:", "[list-name]") that differ from client to client. Two posts whose
normalised subjects match are taken to be in one thread: same topic, so a post by *another*
author in it is a negative that differs from the anchor in style more than in content (the
recipe of Wegmann et al., 2022, for content-independent style embeddings).
"""

from __future__ import annotations

import re

import polars as pl

# Any run of reply/forward prefixes and [list] tags at the start: "Re: [ILUG] Fwd: RE[2]: ...".
_PREFIXES = re.compile(
    r"^(?:\s*(?:(?:re|fwd?|aw|sv|vs|antw)\s*(?:\[\d+\]|\(\d+\))?\s*:|\[[^\]]{1,40}\]))+", re.IGNORECASE
)


def thread_key(title: str | None) -> str | None:
    """The normalised subject: prefixes and tags dropped, case and spacing folded; None if nothing is left."""
    if not title:
        return None
    key = " ".join(_PREFIXES.sub("", title).lower().split())
    return key or None


def thread_keys(titles: pl.Series) -> pl.Series:
    return titles.map_elements(thread_key, return_dtype=pl.String)
