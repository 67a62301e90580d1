import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.words import count_words, word_counts


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello, world!", 2),
        ("don't stop — it's 3.5 e-mails", 7),  # don't | stop | it's | 3 | 5 | e | mails
        ("我们是中国人", 6),  # each Han character is a word
        ("我喜欢Python和Rust。", 6),  # 我 喜 欢 Python 和 Rust; punctuation is not a word
        ("日本語のテキスト", 8),  # kanji, hiragana and katakana count per character
        ("한국어 문장입니다", 2),  # Hangul is written with spaces: counted like English
        ("", 0),
        (None, 0),
    ],
)
def test_count_words_english_and_cjk(text, expected):
    got = pl.select(count_words(pl.lit(text, dtype=pl.String))).item()
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab Z9'’-\n.é中テ한", max_size=40) | st.none(), min_size=1, max_size=6))
def test_the_compiled_count_is_the_regex_count(texts):
    series = pl.Series(texts, dtype=pl.String)
    assert word_counts(series).to_list() == pl.select(count_words(pl.lit(series))).to_series().to_list()
