import polars as pl
import pytest

from curation.words import count_words


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
