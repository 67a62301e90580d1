"""Style scorers: the probability that two posts share an author's style, calibrated.

`filter.scorer` chooses one of:
    embedding    the trained style embedder's cosine, Platt-scaled
    char_ngram   character 3-gram TF-IDF cosine, Platt-scaled
    fused        a small learned model over every feature in style/features.py

All three are fitted on pairs of *validation* users (train-split users the embedder never saw),
so the trained cosine is read out of sample. Negatives are random pairs of different users, as
many as the positives: a score of 0.7 means that among pairs scoring 0.7, 70% are by one author
when same- and different-author pairs are equally common a priori.

The fused model is chosen among logistic regressions and a gradient-boosted tree model by
out-of-fold log loss, with folds grouped by user; its calibration error is measured out of fold.
The fitted scorers, the TF-IDF vectorizers and the names of the models that produced the
features are saved together in the filter folder (`scorer.joblib`, `scorer.json`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from common.errors import InputError
from style.features import FEATURES

SCORERS = {"embedding": ("trained_cos",), "char_ngram": ("char3_cos",), "fused": FEATURES}
MAX_POSITIVES_PER_USER = 100  # a prolific author must not stand for the whole calibration set
SCORER_FILE, META_FILE, EMBEDDER_DIR = "scorer.joblib", "scorer.json", "embedder"


def embedder_dir(filter_dir: Path) -> Path:
    """The trained style embedder (a sentence-transformers folder) inside the filter folder."""
    return Path(filter_dir) / EMBEDDER_DIR


def require_embedder(filter_dir: Path) -> Path:
    """The filter folder's embedder, or a one-line error saying which stage makes it."""
    if not (embedder_dir(filter_dir) / "modules.json").exists():
        raise InputError(
            f"{filter_dir} is not a style filter folder; run the train_filter stage first (dvc repro train_filter)"
        )
    return embedder_dir(filter_dir)


def labelled_pairs(users: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, same_author, group): same-user pairs (at most MAX_POSITIVES_PER_USER per user) and as many
    random different-user pairs. `group` is the user of `i`, for folds that never split a user."""
    rng = np.random.default_rng(seed)
    pos_i, pos_j = [], []
    for u in np.unique(users):
        rows = np.flatnonzero(users == u)
        a, b = np.triu_indices(len(rows), k=1)
        if len(a) > MAX_POSITIVES_PER_USER:
            keep = rng.choice(len(a), MAX_POSITIVES_PER_USER, replace=False)
            a, b = a[keep], b[keep]
        pos_i.append(rows[a])
        pos_j.append(rows[b])
    pi = np.concatenate(pos_i) if pos_i else np.zeros(0, int)
    pj = np.concatenate(pos_j) if pos_j else np.zeros(0, int)
    ni, nj = rng.integers(0, len(users), 4 * len(pi) + 8), rng.integers(0, len(users), 4 * len(pi) + 8)
    other = users[ni] != users[nj]
    ni, nj = ni[other][: len(pi)], nj[other][: len(pi)]
    i, j = np.concatenate([pi, ni]), np.concatenate([pj, nj])
    y = np.concatenate([np.ones(len(pi), int), np.zeros(len(ni), int)])
    return i, j, y, users[i]


def _candidates(seed: int) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = {
        f"logistic_C{c:g}": make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
        for c in (0.01, 0.1, 1, 10)
    }
    out["gradient_boosting"] = HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0, random_state=seed
    )
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed - predicted| over equal-width probability bins, weighted by the bin's size."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            total += in_bin.sum() * abs(y[in_bin].mean() - p[in_bin].mean())
    return round(float(total / max(len(y), 1)), 4)


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Predicted vs observed same-author rate per probability bin (a DVC plot)."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    return [
        {
            "bin": round((b + 0.5) / bins, 3),
            "predicted": round(float(p[which == b].mean()), 4),
            "observed": round(float(y[which == b].mean()), 4),
            "pairs": int((which == b).sum()),
        }
        for b in range(bins)
        if (which == b).any()
    ]


def _out_of_fold(model, X, y, groups, folds: int) -> np.ndarray | None:
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold

    k = min(folds, len(np.unique(groups)))
    if k < 2:
        return None
    p = np.zeros(len(y))
    for fit, held in GroupKFold(n_splits=k).split(X, y, groups):
        if len(np.unique(y[fit])) < 2:
            return None
        p[held] = clone(model).fit(X[fit], y[fit]).predict_proba(X[held])[:, 1]
    return p


def fit_scorers(X: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int, folds: int = 5):
    """Fit every scorer on labelled pairs; returns ({scorer: model}, report)."""
    from sklearn.base import clone
    from sklearn.metrics import log_loss, roc_auc_score

    if len(np.unique(y)) < 2:
        raise InputError("the style scorer needs same-author and different-author pairs of validation users")
    columns = {name: [FEATURES.index(f) for f in feats] for name, feats in SCORERS.items()}
    models, report = {}, {"pairs": len(y), "users": len(np.unique(groups)), "candidates": {}}
    candidates = _candidates(seed)
    tried = {}
    for name, model in candidates.items():
        p = _out_of_fold(model, X, y, groups, folds)
        if p is not None:
            tried[name] = (round(float(log_loss(y, p)), 4), p)
            report["candidates"][name] = {"log_loss": tried[name][0], "auc": round(float(roc_auc_score(y, p)), 4)}
    chosen = min(tried, key=lambda n: tried[n][0]) if tried else "logistic_C1"
    report["fused_model"] = chosen
    models["fused"] = clone(candidates[chosen]).fit(X, y)
    out_of_fold = {"fused": tried[chosen][1] if tried else None}
    for name in ("embedding", "char_ngram"):
        platt = candidates["logistic_C1"]
        models[name] = clone(platt).fit(X[:, columns[name]], y)
        out_of_fold[name] = _out_of_fold(platt, X[:, columns[name]], y, groups, folds)
    report["calibration_error_out_of_fold"] = {
        name: expected_calibration_error(y, p) if p is not None else None for name, p in out_of_fold.items()
    }
    if out_of_fold["fused"] is not None:
        report["reliability"] = reliability(y, out_of_fold["fused"])
    return models, report


class StyleScorer:
    """The fitted scorers and TF-IDF vectorizers, with what produced their features."""

    def __init__(self, models: dict, tfidf, meta: dict):
        self.models, self.tfidf, self.meta = models, tfidf, meta

    def predict(self, scorer: str, X: np.ndarray) -> np.ndarray:
        if scorer not in self.models:
            raise InputError(f"filter.scorer={scorer!r}; allowed: {', '.join(SCORERS)}")
        if not len(X):
            return np.zeros(0, np.float32)
        cols = [FEATURES.index(f) for f in SCORERS[scorer]]
        return self.models[scorer].predict_proba(X[:, cols])[:, 1].astype(np.float32)

    def save(self, folder: Path) -> None:
        import joblib

        joblib.dump({"models": self.models, "tfidf": self.tfidf}, folder / SCORER_FILE)
        (folder / META_FILE).write_text(json.dumps(self.meta | {"features": list(FEATURES)}, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> StyleScorer:
        import joblib

        folder = Path(folder)
        require_embedder(folder)
        if not (folder / SCORER_FILE).exists():
            raise InputError(
                f"{folder} has no {SCORER_FILE}; run the train_filter stage first (dvc repro train_filter)"
            )
        meta = json.loads((folder / META_FILE).read_text())
        if meta.get("features") != list(FEATURES):
            raise InputError(f"{folder} was fitted with other features; re-run train_filter (dvc repro train_filter)")
        saved = joblib.load(folder / SCORER_FILE)
        return cls(saved["models"], saved["tfidf"], meta)
