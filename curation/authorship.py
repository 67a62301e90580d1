"""How well a similarity tells authors apart, on users never seen in training.

- verification ROC-AUC: every pair of articles, positive when both are by the same user;
- retrieval accuracy: for each article that has an earlier post by its author, is its nearest
  neighbour among (the author's earlier posts + every other user's articles) by the author?

Both come with 95% intervals from a cluster bootstrap over users (users, not articles, are the
unit that was sampled), so a difference between two filters can be read against its noise.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import roc_auc_score


def char_ngram_similarity(fit_texts: list[str], texts: list[str]) -> np.ndarray:
    """Cosine similarity of character 3-gram TF-IDF vectors: a cheap, strong authorship baseline.
    The vocabulary and IDF come from `fit_texts` (training users), never from the evaluated texts."""
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), sublinear_tf=True, min_df=2, max_features=200_000)
    vectorizer.fit(fit_texts)
    vectors = vectorizer.transform(texts)  # rows are L2-normalised
    return (vectors @ vectors.T).toarray()


def combine(*similarities: np.ndarray) -> np.ndarray:
    """Mean of similarities standardised over the off-diagonal entries, so neither scale dominates."""
    out = np.zeros_like(similarities[0], dtype=np.float64)
    off = ~np.eye(len(out), dtype=bool)
    for sim in similarities:
        out += (sim - sim[off].mean()) / (sim[off].std() + 1e-12)
    return out / len(similarities)


def _pairs(users: np.ndarray):
    i, j = np.triu_indices(len(users), k=1)
    return i, j, users[i] == users[j]


def verification_auc(similarity: np.ndarray, users: np.ndarray) -> float:
    i, j, same = _pairs(users)
    return float(roc_auc_score(same, similarity[i, j]))


def retrieval_hits(similarity: np.ndarray, users: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Per query article (position >= 1): 1 if its nearest allowed neighbour is by its author."""
    hits = []
    for q in np.flatnonzero(positions >= 1):
        allowed = (users != users[q]) | (positions < positions[q])  # the author's later posts are not candidates
        allowed[q] = False
        scores = np.where(allowed, similarity[q], -np.inf)
        hits.append(users[int(np.argmax(scores))] == users[q])
    return np.array(hits, dtype=float)


def evaluate(similarity: np.ndarray, users: np.ndarray, positions: np.ndarray, n_boot: int, seed: int) -> dict:
    """AUC and retrieval accuracy with cluster-bootstrap 95% intervals over users."""
    i, j, same = _pairs(users)
    pair_scores = similarity[i, j]
    queries = np.flatnonzero(positions >= 1)
    hits = retrieval_hits(similarity, users, positions)
    result = {
        "auc": float(roc_auc_score(same, pair_scores)),
        "retrieval_accuracy": float(hits.mean()) if len(hits) else float("nan"),
        "queries": len(hits),
        "users": len(np.unique(users)),
        "pairs": len(pair_scores),
    }
    rng = np.random.default_rng(seed)
    unique = np.unique(users)
    # A pair belongs to the user of its first article; a query to its own user.
    pairs_of = {u: np.flatnonzero(users[i] == u) for u in unique}
    queries_of = {u: np.flatnonzero(users[queries] == u) for u in unique}
    aucs, accs = [], []
    for _ in range(n_boot):
        sample = rng.choice(unique, size=len(unique), replace=True)
        p = np.concatenate([pairs_of[u] for u in sample])
        if same[p].any() and not same[p].all():
            aucs.append(roc_auc_score(same[p], pair_scores[p]))
        q = np.concatenate([queries_of[u] for u in sample])
        if len(q):
            accs.append(hits[q].mean())
    for name, values in (("auc", aucs), ("retrieval_accuracy", accs)):
        if values:
            low, high = np.percentile(values, [2.5, 97.5])
            result[f"{name}_ci95"] = [round(float(low), 4), round(float(high), 4)]
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}
