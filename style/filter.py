"""Build the style filter from curated articles: embedder, scorers, and their measurement.

Users are the unit everywhere (a user's posts never straddle two roles):
    fit users         train-split users the embedder is fine-tuned on (TF-IDF vocabularies too)
    validation users  the other `filter.validation_fraction` of train-split users: the scorers
                      are fitted and chosen on their pairs, out of sample for the embedder
    test users        measurement only (metrics/filter.json), never a choice
    align users       join the k-fold-by-user estimate of the cheap scorers (no trained model there)
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from common.errors import InputError
from style import authorship
from style.embeddings import embed_cached, fingerprint, load_model, resolve_model
from style.features import (
    FEATURES,
    ArticleFeatures,
    all_pairs,
    article_features,
    pair_features,
    to_matrix,
    vectorizers,
)
from style.embedder import FilterTrainParams, train, training_triplets, triplet_rows
from style.head import save_with_head, train_head
from style.scorer import (
    StyleScorer,
    embedder_dir,
    expected_calibration_error,
    fit_scorers,
    labelled_pairs,
    reliability,
)

# metrics/filter.json names -> what produces the similarity; `filter.scorer` picks one of the last three
MEASURED = ("base", "trained", "char3gram", "word", "fused")
SCORER_OF = {"embedding": "trained", "char_ngram": "char3gram", "fused": "fused"}


def validation_users(users: pl.Series, fraction: float, seed: int) -> set[str]:
    """A seeded, order-independent share of the users (at least one when there are two or more)."""
    unique = sorted(set(users.to_list()))
    key = f"filter-validation-{seed}".encode()
    ranked = sorted(unique, key=lambda u: hashlib.blake2b(u.encode(), key=key, digest_size=8).hexdigest())
    n = max(1, round(fraction * len(unique))) if len(unique) >= 2 else 0
    return set(ranked[:n])


@dataclass
class Embedders:
    """The base and trained embedders with their cache keys: every text is embedded once per model."""

    base_dir: Path
    trained_dir: Path | None = None
    precision: str = "bf16"

    def __post_init__(self):
        self.base, self.base_key = self._load(self.base_dir)
        if self.trained_dir is not None:
            self.trained, self.trained_key = self._load(self.trained_dir)
        self.stats = {"texts": 0, "embedded": 0, "cache_hits": 0}

    def _load(self, folder: Path):
        return load_model(folder, self.precision), f"{fingerprint(folder)}-{self.precision}"

    @classmethod
    def for_filter(cls, filter_dir: Path, meta: dict, precision: str) -> Embedders:
        """The two embedders a saved filter's features came from; its base model must not have changed."""
        base_dir = resolve_model(meta["base_model"])
        if fingerprint(base_dir) != meta["base_fingerprint"]:
            raise InputError(f"{meta['base_model']} is not the model {filter_dir} was fitted with; re-run train_filter")
        return cls(base_dir, embedder_dir(filter_dir), precision)

    def _vectors(self, model, key: str, texts: list[str], progress: bool) -> np.ndarray:
        vectors, stats = embed_cached(model, key, texts, progress=progress)
        self.stats = {k: self.stats[k] + stats[k] for k in self.stats}
        return vectors

    def base_vectors(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._vectors(self.base, self.base_key, texts, progress)

    def trained_vectors(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._vectors(self.trained, self.trained_key, texts, progress)

    def features(self, texts: list[str], tfidf, progress: bool = False) -> ArticleFeatures:
        base = self.base_vectors(texts, progress)
        trained = self.trained_vectors(texts, progress) if self.trained_dir is not None else base
        return article_features(texts, trained, base, tfidf)


def _labelled(frame: pl.DataFrame, feats: ArticleFeatures, seed: int):
    i, j, y, groups = labelled_pairs(frame.get_column("user_id").to_numpy(), seed)
    return pair_features(feats, i, j), y, groups


def similarity_matrices(feats: ArticleFeatures, scorer: StyleScorer | None, drop_trained: bool = False) -> dict:
    """All-pairs similarity under each measured scorer (fused: its probability)."""
    n = len(feats)
    i, j = all_pairs(n)
    X = pair_features(feats, i, j)
    sims = {
        name: to_matrix(n, i, j, X[:, FEATURES.index(col)])
        for name, col in (
            ("base", "base_cos"),
            ("trained", "trained_cos"),
            ("char3gram", "char3_cos"),
            ("word", "word_cos"),
        )
    }
    if drop_trained:
        del sims["trained"]
    if scorer is not None:
        sims["fused"] = to_matrix(n, i, j, scorer.predict("fused", X))
    return sims


def _best_single(measures: dict, names) -> str:
    return max(names, key=lambda n: (measures[n]["auc"] or 0, measures[n]["retrieval_accuracy"] or 0))


def measure_on_test(test: pl.DataFrame, embedders: Embedders, scorer: StyleScorer, params: FilterTrainParams) -> dict:
    sims = similarity_matrices(embedders.features(test.get_column("text").to_list(), scorer.tfidf), scorer)
    users, positions = test.get_column("user_id").to_numpy(), test.get_column("position").to_numpy()
    single = [n for n in MEASURED if n != "fused"]
    first = authorship.evaluate_many(sims, users, positions, 0, params.seed)
    best_single = _best_single(first, single)
    out = authorship.evaluate_many(
        sims, users, positions, params.bootstrap, params.seed, paired=(("fused", best_single), ("trained", "base"))
    )
    out["best_scorer"] = _best_single(out, MEASURED)
    out["best_single_baseline"] = best_single
    # Calibration on users no choice was made on: balanced same/different-author pairs, as in fitting.
    i, j, y, _ = labelled_pairs(users, params.seed)
    p = sims["fused"][i, j]
    out["fused"]["calibration_error"] = expected_calibration_error(y, p)
    out["fused"]["reliability"] = reliability(y, p)
    return out


def kfold_cheap(frame: pl.DataFrame, embedders: Embedders, params: FilterTrainParams) -> dict:
    """k-fold by user over `frame` (every non-test user) for the scorers that need no trained
    embedder: base, char3gram, word, and a fused logistic regression over the features without the
    trained cosine, refitted (with its TF-IDF) on the other folds each time."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    users = np.array(sorted(set(frame.get_column("user_id").to_list())))
    if len(users) < 2 * params.folds:
        return {"skipped": f"{len(users)} non-test users; need at least {2 * params.folds} for {params.folds} folds"}
    rng = np.random.default_rng(params.seed)
    fold_of = dict(zip(rng.permutation(users), np.arange(len(users)) % params.folds, strict=True))
    fold = frame.get_column("user_id").replace_strict(fold_of, return_dtype=pl.Int64).to_numpy()
    cols = [k for k, f in enumerate(FEATURES) if f != "trained_cos"]
    per_fold = []
    for k in range(params.folds):
        fit, held = frame.filter(fold != k), frame.filter(fold == k)
        tfidf = vectorizers(fit.get_column("text").to_list())
        X, y, _ = _labelled(fit, embedders.features(fit.get_column("text").to_list(), tfidf), params.seed)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X[:, cols], y)
        feats = embedders.features(held.get_column("text").to_list(), tfidf)
        sims = similarity_matrices(feats, None, drop_trained=True)
        i, j = all_pairs(len(feats))
        sims["fused_cheap"] = to_matrix(
            len(feats), i, j, model.predict_proba(pair_features(feats, i, j)[:, cols])[:, 1]
        )
        per_fold.append(
            authorship.evaluate_many(
                sims, held.get_column("user_id").to_numpy(), held.get_column("position").to_numpy(), 0, params.seed
            )
        )
    names = ("base", "char3gram", "word", "fused_cheap")
    out = {"folds": params.folds, "users": len(users)}
    for name in names:
        out[name] = {m: round(float(np.mean([f[name][m] for f in per_fold])), 4) for m in authorship.MEASURES}
    best = _best_single(out, names[:-1])
    for m in authorship.MEASURES:
        d = [f["fused_cheap"][m] - f[best][m] for f in per_fold]
        out[f"fused_cheap - {best}"] = out.get(f"fused_cheap - {best}", {}) | {
            m: {"mean": round(float(np.mean(d)), 4), "folds_better": int(sum(x > 0 for x in d))}
        }
    return out


def user_roles(articles: pl.DataFrame, params: FilterTrainParams) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(fit, validation, test) articles, sorted by (user_id, position); see the module docstring."""
    articles = articles.sort("user_id", "position")
    train_set = articles.filter(pl.col("split") == "train")
    test_set = articles.filter(pl.col("split") == "test")
    held = validation_users(train_set.get_column("user_id"), params.validation_fraction, params.seed)
    fit_set = train_set.filter(~pl.col("user_id").is_in(held))
    val_set = train_set.filter(pl.col("user_id").is_in(held))
    if (
        fit_set.is_empty()
        or val_set.get_column("user_id").n_unique() < 2
        or test_set.get_column("user_id").n_unique() < 2
    ):
        raise InputError(
            "the style filter needs train users (2+ of them for validation) and 2+ test users (see curate.split)"
        )
    return fit_set, val_set, test_set


def build_filter(articles: pl.DataFrame, params: FilterTrainParams, out_dir: Path, live_dir: Path) -> tuple[dict, list]:
    """Train the embedder, fit the scorers, save both in `out_dir`; returns (metrics, reliability curve rows)."""
    fit_set, val_set, test_set = user_roles(articles, params)

    base_dir = resolve_model(params.base_model)
    embedders = Embedders(base_dir)
    fit_vectors = embedders.base_vectors(fit_set.get_column("text").to_list(), progress=True)
    examples = triplet_rows(fit_set, fit_vectors, params)
    start = time.perf_counter()
    if params.tune == "head":
        val_vectors = embedders.base_vectors(val_set.get_column("text").to_list(), progress=True)
        vi, vj, vy, _ = labelled_pairs(val_set.get_column("user_id").to_numpy(), params.seed)

        def validate(weight, bias) -> float:  # verification AUC of validation users under the projection
            v = val_vectors @ weight.T + bias
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            return float(roc_auc_score(vy, np.einsum("ij,ij->i", v[vi], v[vj])))

        weight, bias, log = train_head(fit_vectors, examples, params, validate, live_dir)
        save_with_head(base_dir, weight, bias, embedder_dir(out_dir))
    else:
        triplets = training_triplets(fit_set, fit_vectors, params)
        log = train(base_dir, triplets, params, embedder_dir(out_dir), live_dir)
    seconds = time.perf_counter() - start

    embedders = Embedders(base_dir, embedder_dir(out_dir))
    tfidf = vectorizers(fit_set.get_column("text").to_list())
    X, y, groups = _labelled(val_set, embedders.features(val_set.get_column("text").to_list(), tfidf), params.seed)
    models, report = fit_scorers(X, y, groups, params.seed, params.folds)
    scorer = StyleScorer(
        models,
        tfidf,
        {
            "base_model": params.base_model,
            "base_fingerprint": fingerprint(base_dir),
            "fused_model": report["fused_model"],
        },
    )
    scorer.save(out_dir)

    measures = measure_on_test(test_set, embedders, scorer, params)
    curve = [row | {"users": "test"} for row in measures["fused"].pop("reliability")]
    curve += [row | {"users": "validation (out of fold)"} for row in report.pop("reliability", [])]
    non_test = articles.filter(pl.col("split") != "test")
    metrics = {
        **measures,
        "kfold_non_test_users": kfold_cheap(non_test, embedders, params),
        "scorer_fit": report,
        "users": {
            name: frame.get_column("user_id").n_unique()
            for name, frame in (("fit", fit_set), ("validation", val_set), ("test", test_set))
        },
        "training": {
            "tune": params.tune,
            "examples": len(examples["anchor"]),
            "negatives": {str(k): int(n) for k, n in zip(*np.unique(examples.get("source", []), return_counts=True))},
            "log": log if params.tune == "head" else log[-3:],
            "seconds": round(seconds, 1),
        },
    }
    return metrics, curve
