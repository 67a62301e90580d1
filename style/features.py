"""Per-pair features of two articles, for the style scorers.

    trained_cos, base_cos   cosine under the trained style embedder and its base
    char3_cos, word_cos     cosine of character 3-gram and word TF-IDF vectors
    + stylometric distances (style/stylometry.py)

The TF-IDF vocabularies and IDF weights are fitted on the embedder's own training users only,
never on the texts that are scored or evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from style import stylometry

SIMILARITIES = ("trained_cos", "base_cos", "char3_cos", "word_cos")
FEATURES = (*SIMILARITIES, *stylometry.DISTANCES)
PAIR_CHUNK = 200_000  # pairs per block: bounds the memory of the sparse row products


def vectorizers(fit_texts: list[str]):
    """Character 3-gram and word TF-IDF, fitted on `fit_texts`."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    char = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), sublinear_tf=True, min_df=2, max_features=200_000)
    # Case and short words are style: keep both (the default pattern drops 1-letter words and folds case).
    word = TfidfVectorizer(lowercase=False, token_pattern=r"(?u)\b\w+\b", sublinear_tf=True, min_df=2)
    return char.fit(fit_texts), word.fit(fit_texts)


@dataclass
class ArticleFeatures:
    """Everything per article that pair features are computed from, row-aligned with the articles."""

    trained: np.ndarray  # L2-normalised embeddings
    base: np.ndarray
    char3: object  # sparse, rows L2-normalised
    word: object
    profiles: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.base)


def article_features(texts: list[str], trained: np.ndarray, base: np.ndarray, tfidf) -> ArticleFeatures:
    char, word = tfidf
    return ArticleFeatures(trained, base, char.transform(texts), word.transform(texts), stylometry.profiles(texts))


def _sparse_rowwise_dot(m, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return np.asarray(m[i].multiply(m[j]).sum(axis=1)).ravel()


def pair_features(feats: ArticleFeatures, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """(len(i), len(FEATURES)) float32, for the pairs (i[k], j[k])."""
    blocks = []
    for start in range(0, len(i), PAIR_CHUNK):
        a, b = i[start : start + PAIR_CHUNK], j[start : start + PAIR_CHUNK]
        blocks.append(
            np.column_stack(
                [
                    np.einsum("ij,ij->i", feats.trained[a], feats.trained[b]),
                    np.einsum("ij,ij->i", feats.base[a], feats.base[b]),
                    _sparse_rowwise_dot(feats.char3, a, b),
                    _sparse_rowwise_dot(feats.word, a, b),
                    stylometry.pair_distances(feats.profiles, a, b),
                ]
            ).astype(np.float32)
        )
    return np.concatenate(blocks) if blocks else np.zeros((0, len(FEATURES)), np.float32)


def all_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair of n articles (the upper triangle)."""
    return np.triu_indices(n, k=1)


def to_matrix(n: int, i: np.ndarray, j: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A symmetric n x n matrix from upper-triangle values (the diagonal is 1: an article is itself)."""
    out = np.eye(n)
    out[i, j] = values
    out[j, i] = values
    return out
