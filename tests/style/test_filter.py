"""Building the style filter: who is used for what, the style head, and the saved folder."""

import numpy as np
import polars as pl
import pytest

from style.filter import MEASURED, build_filter, user_roles
from style.embedder import FilterTrainParams
from style.head import save_with_head, train_head
from style.scorer import StyleScorer, embedder_dir

STYLES = [
    "lol {} haha!!!",
    "Indeed, {}; regards.",
    "{} ... ok?",
    "NOTE: {}. Thanks -- J.",
    "so um {} i guess",
    "{}!!! :)",
    "Dear all, {}.",
    "{}; see below.",
    "fwiw {} imho",
    "{} (sigh)",
    "Yes -- {}.",
    "{}, cheers",
]
TOPICS = ["the printer broke", "the kernel update", "lunch on friday", "the new spam rules", "a cheap flight"]


def forum(splits=("train",) * 8 + ("align", "test", "test", "test")) -> pl.DataFrame:
    rows = []
    for u, (style, split) in enumerate(zip(STYLES, splits, strict=True)):
        for p, topic in enumerate(TOPICS):
            rows.append(
                {
                    "user_id": f"u{u}",
                    "post_id": f"u{u}-{p}",
                    "position": p,
                    "split": split,
                    "title": f"Re: {topic}",
                    "text": style.format(topic),
                }
            )
    return pl.DataFrame(rows)


def test_scorers_are_fitted_on_validation_users_and_never_on_test_users():
    articles = forum()
    fit, val, test = user_roles(articles, FilterTrainParams(validation_fraction=0.25))
    fit_u, val_u, test_u = (set(f.get_column("user_id")) for f in (fit, val, test))
    train_u = set(articles.filter(pl.col("split") == "train").get_column("user_id"))
    assert fit_u | val_u == train_u and not fit_u & val_u
    assert test_u == {"u9", "u10", "u11"} and not (fit_u | val_u) & test_u
    assert len(val_u) == 2


def test_head_starts_at_the_identity_and_keeps_the_best_validation_epoch(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    examples = {"anchor": np.arange(20), "positive": np.arange(20, 40), "authors": [[str(i)] for i in range(20)]}
    scores = iter([0.5, 0.4, 0.7, 0.6])  # epoch 0 (identity), 1, 2, 3
    seen = []

    def validate(w, b):
        seen.append((w.copy(), b.copy()))
        return next(scores)

    params = FilterTrainParams(head_epochs=3, batch_size=4, head_learning_rate=0.01)
    w, _, log = train_head(vectors, examples, params, validate, tmp_path / "live")
    assert np.array_equal(seen[0][0], np.eye(8)) and not seen[0][1].any()
    assert np.array_equal(w, seen[2][0]) and not np.array_equal(w, seen[3][0])  # epoch 2 was best
    assert [e["epoch"] for e in log] == [0, 1, 2, 3] and all(e["loss"] > 0 for e in log[1:])
    assert (tmp_path / "live" / "plots" / "metrics" / "train" / "loss.tsv").exists()


@pytest.mark.slow
def test_build_filter_saves_a_folder_score_can_load_and_measures_every_scorer(tmp_path):
    from style.embeddings import encode, load_model

    params = FilterTrainParams(validation_fraction=0.25, head_epochs=2, batch_size=4, bootstrap=20, folds=2)
    metrics, curve = build_filter(forum(), params, tmp_path / "filter", tmp_path / "live")
    assert set(MEASURED) <= set(metrics) and metrics["best_scorer"] in MEASURED
    assert metrics["users"] == {"fit": 6, "validation": 2, "test": 3}
    assert f"fused - {metrics['best_single_baseline']}" in metrics and curve
    scorer = StyleScorer.load(tmp_path / "filter")
    assert set(scorer.models) == {"embedding", "char_ngram", "fused"}
    # the saved embedder is the base model plus the chosen projection, loadable on its own
    model = load_model(embedder_dir(tmp_path / "filter"))
    v = encode(model, ["lol hi haha!!!"])
    assert v.shape == (1, 384) and abs(np.linalg.norm(v) - 1) < 1e-4


def test_save_with_head_of_the_identity_is_the_base_model(tmp_path):
    from style.embeddings import encode, load_model, resolve_model

    base_dir = resolve_model("packaged:all-MiniLM-L6-v2")
    save_with_head(base_dir, np.eye(384, dtype=np.float32), np.zeros(384, np.float32), tmp_path / "m")
    texts = ["a post about printers", "lol ok"]
    assert np.allclose(encode(load_model(tmp_path / "m"), texts), encode(load_model(base_dir), texts), atol=1e-5)
