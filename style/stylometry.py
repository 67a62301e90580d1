"""Stylometric profiles: what an author does the same way whatever the topic.

Function-word rates and punctuation rates are the classic content-independent authorship
signals (Mosteller & Wallace; Stamatatos 2009); sentence length, word length, casing, digits and
line breaks are habits of a writer's hand. Each text gets one dense row; `pair_distances` turns
two rows into the distances the fused scorer reads.
"""

from __future__ import annotations

import numpy as np
import regex

FUNCTION_WORDS = [
    "a",
    "about",
    "after",
    "all",
    "also",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "for",
    "from",
    "had",
    "has",
    "have",
    "he",
    "her",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "like",
    "may",
    "me",
    "might",
    "more",
    "most",
    "my",
    "no",
    "not",
    "now",
    "of",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "to",
    "too",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "which",
    "who",
    "will",
    "with",
    "would",
    "you",
    "your",
]
_FW_INDEX = {w: i for i, w in enumerate(FUNCTION_WORDS)}
PUNCTUATION = list(".,;:!?'\"()-*/&…_<>[]=~#$%")
_PUNCT_INDEX = {c: i for i, c in enumerate(PUNCTUATION)}
_WORD = regex.compile(r"\p{L}[\p{L}\p{M}']*|\p{N}+")
_SENTENCE_END = regex.compile(r"[.!?。！？]+(?:\s|$)")
HABITS = ("log_sentence_words", "word_chars", "upper_share", "digit_share", "newline_rate", "lower_start_share")


def profile(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(function-word rates per word, punctuation rates per character, habits) of one text."""
    words = _WORD.findall(text)
    fw = np.zeros(len(FUNCTION_WORDS))
    for w in words:
        i = _FW_INDEX.get(w.lower())
        if i is not None:
            fw[i] += 1
    fw /= max(len(words), 1)
    punct = np.zeros(len(PUNCTUATION))
    for c in text:
        i = _PUNCT_INDEX.get(c)
        if i is not None:
            punct[i] += 1
    punct /= max(len(text), 1)
    letters = [c for c in text if c.isalpha()]
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    starts = [s.strip()[0] for s in sentences if s.strip()[0].isalpha()]
    habits = np.array(
        [
            np.log1p(len(words) / max(len(sentences), 1)),
            np.mean([len(w) for w in words]) if words else 0.0,
            sum(c.isupper() for c in letters) / max(len(letters), 1),
            sum(c.isdigit() for c in text) / max(len(text), 1),
            text.count("\n") / max(len(words), 1),
            sum(c.islower() for c in starts) / max(len(starts), 1),
        ]
    )
    return fw, punct, habits


def profiles(texts: list[str]) -> dict[str, np.ndarray]:
    rows = [profile(t) for t in texts]
    width = {"fw": len(FUNCTION_WORDS), "punct": len(PUNCTUATION), "habits": len(HABITS)}
    return {
        name: np.array([r[k] for r in rows]).reshape(len(rows), width[name])
        for k, name in enumerate(("fw", "punct", "habits"))
    }


def _cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.divide(np.einsum("ij,ij->i", a, b), norms, out=np.zeros(len(a)), where=norms > 0)


DISTANCES = ("function_word_cos", "punctuation_cos", "punctuation_l1", *(f"{h}_diff" for h in HABITS))


def pair_distances(prof: dict[str, np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """One row per pair (i[k], j[k]), columns as in DISTANCES."""
    return np.column_stack(
        [
            _cosine_rows(prof["fw"][i], prof["fw"][j]),
            _cosine_rows(prof["punct"][i], prof["punct"][j]),
            np.abs(prof["punct"][i] - prof["punct"][j]).sum(axis=1),
            np.abs(prof["habits"][i] - prof["habits"][j]),
        ]
    )
