import re
import unicodedata

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.normalise import normalise
from tests.curation.test_text_bytes import texts_of


def tidy_reference(text: str, form: str) -> str:
    """The tidying rules, applied to every text the plain way."""
    text = unicodedata.normalize(form, text) if form != "none" else text
    text = re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", re.sub(r"\r\n?", "\n", text)))
    return text.strip()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet=" \t\n\rab\u00a0\u0301e", max_size=12), min_size=1, max_size=8),
    st.sampled_from(["NFC", "NFKC", "none"]),
    st.integers(1, 8),
)
def test_every_text_comes_out_tidy_whichever_path_it_takes(texts, form, batch):
    # edge blanks only, blanks inside, other scripts: each kind takes its own path; in batches
    batches = [pl.Series("text", texts[i : i + batch], dtype=pl.String) for i in range(0, len(texts), batch)]
    tidied, b = normalise(batches, form)
    assert tidied.to_list() == [tidy_reference(t, form) for t in texts]
    assert texts_of(b) == [t.lower() if not t.isascii() else t for t in tidied.to_list()]
