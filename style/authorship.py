"""How well a similarity tells authors apart, on users never seen in training.

- verification ROC-AUC: every pair of articles, positive when both are by the same user;
- retrieval accuracy (top-1, earlier only): for each article that has an earlier post by its
  author, is its nearest neighbour among (the author's earlier posts + every other user's
  articles) by the author?

Both come with 95% intervals from a cluster bootstrap over users (users, not articles, are the
unit that was sampled). Several scorers are measured on the *same* resamples, so the interval of
a difference between two of them (`paired`) is the one to read, not the overlap of their own.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

MEASURES = ("auc", "retrieval_accuracy")


def char_ngram_similarity(fit_texts: list[str], texts: list[str]) -> np.ndarray:
    """Cosine similarity of character 3-gram TF-IDF vectors: a cheap, strong authorship baseline.
    The vocabulary and IDF come from `fit_texts` (training users), never from the evaluated texts."""
    from style.features import vectorizers

    vectors = vectorizers(fit_texts)[0].transform(texts)  # rows are L2-normalised
    return (vectors @ vectors.T).toarray()


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


def _interval(values: list[float]) -> list[float] | None:
    if not values:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def evaluate_many(
    similarities: dict[str, np.ndarray],
    users: np.ndarray,
    positions: np.ndarray,
    n_boot: int,
    seed: int,
    paired: tuple[tuple[str, str], ...] = (),
) -> dict:
    """{scorer: AUC and retrieval accuracy with 95% intervals}, plus `paired` differences
    ("a - b": estimate, interval, share of resamples where a > b), all on the same user resamples."""
    i, j, same = _pairs(users)
    queries = np.flatnonzero(positions >= 1)
    scores = {name: sim[i, j] for name, sim in similarities.items()}
    hits = {name: retrieval_hits(sim, users, positions) for name, sim in similarities.items()}
    unique = np.unique(users)
    pairs_of = {u: np.flatnonzero(users[i] == u) for u in unique}  # a pair belongs to its first article's user
    queries_of = {u: np.flatnonzero(users[queries] == u) for u in unique}
    rng = np.random.default_rng(seed)
    boot = {name: {m: [] for m in MEASURES} for name in similarities}
    for _ in range(n_boot):
        sample = rng.choice(unique, size=len(unique), replace=True)
        p = np.concatenate([pairs_of[u] for u in sample])
        q = np.concatenate([queries_of[u] for u in sample])
        auc_ok = same[p].any() and not same[p].all()
        for name in similarities:
            boot[name]["auc"].append(roc_auc_score(same[p], scores[name][p]) if auc_ok else np.nan)
            boot[name]["retrieval_accuracy"].append(hits[name][q].mean() if len(q) else np.nan)
    out = {}
    for name in similarities:
        out[name] = {
            "auc": round(float(roc_auc_score(same, scores[name])), 4) if 0 < same.sum() < len(same) else None,
            "retrieval_accuracy": round(float(hits[name].mean()), 4) if len(hits[name]) else None,
            "queries": len(hits[name]),
            "users": len(unique),
            "pairs": len(same),
        }
        for m in MEASURES:
            out[name][f"{m}_ci95"] = _interval([v for v in boot[name][m] if not np.isnan(v)])
    for a, b in paired:
        diff = {}
        for m in MEASURES:
            d = np.array(boot[a][m]) - np.array(boot[b][m])
            d = d[~np.isnan(d)]
            estimate = None if out[a][m] is None or out[b][m] is None else round(out[a][m] - out[b][m], 4)
            diff[m] = {
                "difference": estimate,
                "ci95": _interval(list(d)),
                "share_a_better": round(float((d > 0).mean()), 4) if len(d) else None,
            }
        out[f"{a} - {b}"] = diff
    return out


def evaluate(similarity: np.ndarray, users: np.ndarray, positions: np.ndarray, n_boot: int, seed: int) -> dict:
    """AUC and retrieval accuracy of one similarity, with cluster-bootstrap 95% intervals over users."""
    return evaluate_many({"s": similarity}, users, positions, n_boot, seed)["s"]
