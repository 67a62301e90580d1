"""A tiny real contrastive training of the packaged MiniLM on two synthetic authors."""

import numpy as np
import polars as pl
import pytest
from safetensors.numpy import load_file

from common.errors import InputError
from style.authorship import verification_auc
from style.embeddings import encode, load_model, resolve_model
from style.embedder import (
    FilterTrainParams,
    author_disjoint_batches,
    nearest_negatives,
    thread_negatives,
    train,
    training_triplets,
)
from style.threads import thread_key

TOPICS = [
    "the quarterly earnings of the steel company beat analyst forecasts",
    "the new vaccine trial enrolled three thousand volunteers in Brazil",
    "the football club signed a young striker from the Dutch league",
    "heavy rain flooded the railway line between the two northern towns",
    "the museum opened an exhibition of medieval Persian manuscripts",
    "the city council voted to double the number of bicycle lanes",
    "a kernel update fixed the memory leak in the network driver",
    "the bakery on the corner started selling sourdough on Sundays",
    "astronomers spotted a comet that will be visible next spring",
    "the orchestra rehearsed a Mahler symphony for the winter gala",
    "the ferry company raised ticket prices for the summer season",
    "the garden club planted two hundred tulips along the river path",
]
STYLES = {"casual": "lol so {} haha!!! :)", "formal": "I note, with due caution, that {}; regards."}


def two_authors() -> pl.DataFrame:
    """Same topics, two styles: the content dominates a general-purpose embedder; a style filter
    must learn the short markers that are the only thing the author's posts share."""
    rows = []
    for user, template in STYLES.items():
        for position, topic in enumerate(TOPICS):
            rows.append({"user_id": user, "position": position, "text": template.format(topic)})
    return pl.DataFrame(rows).sort("user_id", "position")


def auc(model, frame: pl.DataFrame) -> float:
    vectors = encode(model, frame.get_column("text").to_list())
    return verification_auc(vectors @ vectors.T, frame.get_column("user_id").to_numpy())


def test_faiss_hard_negatives_are_never_by_the_same_user():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    users = np.repeat(np.array(["a", "b", "c", "d"]), 10)
    rows = np.arange(40)
    negatives = nearest_negatives(vectors, users, rows)
    assert (negatives >= 0).all() and (users[negatives] != users[rows]).all()
    # and each is the nearest such article
    for row, neg in zip(rows, negatives, strict=True):
        others = np.flatnonzero(users != users[row])
        assert neg == others[np.argmax(vectors[others] @ vectors[row])]


def test_triplets_pair_a_post_with_an_earlier_post_of_its_author():
    frame = two_authors()
    triplets = training_triplets(frame, None, FilterTrainParams(max_examples=0, negatives="none"))
    author = dict(frame.select("text", "user_id").iter_rows())
    position = dict(frame.select("text", "position").iter_rows())
    assert len(triplets) == 2 * (len(TOPICS) - 1)
    for anchor, positive in triplets.select("anchor", "positive").iter_rows():
        assert author[anchor] == author[positive] and position[positive] < position[anchor]


@pytest.mark.slow
def test_tiny_training_changes_the_model_and_separates_authors_better(tmp_path):
    base_dir = resolve_model("packaged:all-MiniLM-L6-v2")
    frame = two_authors()
    params = FilterTrainParams(
        epochs=2, batch_size=4, learning_rate=1e-4, warmup_ratio=0.0, max_seq_length=48, max_examples=0
    )
    base = load_model(base_dir, "fp32", max_seq_length=48)
    triplets = training_triplets(frame, encode(base, frame.get_column("text").to_list()), params)
    assert {"anchor", "positive", "negative", "authors"} <= set(triplets.columns)
    log = train(base_dir, triplets, params, tmp_path / "filter", tmp_path / "live")
    assert (tmp_path / "live" / "plots" / "metrics" / "train" / "loss.tsv").exists()
    assert log and all(np.isfinite(entry["loss"]) for entry in log)
    before = load_file(base_dir / "model.safetensors")
    after = load_file(tmp_path / "filter" / "model.safetensors")
    changed = [name for name in before if name in after and not np.array_equal(before[name], after[name])]
    assert len(changed) > len(before) // 2
    trained = load_model(tmp_path / "filter", "fp32", max_seq_length=48)
    assert auc(trained, frame) > auc(base, frame) + 0.05


def test_too_few_examples_is_a_clear_error(tmp_path):
    triplets = pl.DataFrame({"anchor": ["a"], "positive": ["b"]})
    with pytest.raises(InputError, match="only 1 training examples"):
        train(resolve_model("packaged:all-MiniLM-L6-v2"), triplets, FilterTrainParams(), tmp_path, tmp_path / "live")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 1}, "in-batch negatives"),
        ({"learning_rate": 2}, "filter.learning_rate=2"),
        ({"epochs": 0}, "filter.epochs=0"),
        ({"negatives": "random"}, "filter.negatives='random'"),
        ({"tune": "lora"}, "filter.tune='lora'"),
        ({"validation_fraction": 1.0}, "filter.validation_fraction=1.0"),
    ],
)
def test_bad_params_name_the_value(kwargs, message):
    with pytest.raises(InputError, match=message):
        FilterTrainParams(**kwargs)


def test_a_batch_never_holds_two_examples_of_one_author():
    rng = np.random.default_rng(0)
    # anchors by 6 authors, negatives by other authors: an author may sit on either side of an example
    authors = [[a, b] for a, b in zip(rng.integers(0, 6, 200), rng.integers(6, 12, 200), strict=True)]
    authors = [[str(a), str(b)] for a, b in authors]
    batches = author_disjoint_batches(authors, batch_size=4, seed=1)
    assert sorted(i for b in batches for i in b) == list(range(200))  # every example once
    for batch in batches:
        held = [a for i in batch for a in authors[i]]
        assert len(held) == len(set(held))
    assert author_disjoint_batches(authors, 4, seed=1) == batches != author_disjoint_batches(authors, 4, seed=2)


def test_thread_negatives_are_other_authors_in_the_same_thread():
    titles = ["Re: [ILUG] printers", "printers", "RE: Printers", "Fwd: kernel", "kernel", "lunch", None]
    users = np.array(["a", "b", "a", "a", "c", "b", "a"])
    threads = np.array([thread_key(t) for t in titles], dtype=object)
    rows = np.arange(len(titles))
    negatives = thread_negatives(threads, users, rows, np.random.default_rng(0))
    for row, neg in zip(rows, negatives, strict=True):
        if neg >= 0:
            assert users[neg] != users[row] and threads[neg] == threads[row]
    assert negatives[0] == 1 and negatives[2] == 1 and negatives[3] == 4 and negatives[1] in (0, 2)
    assert negatives[5] == -1 and negatives[6] == -1  # no other author in "lunch"; no thread at all


def test_triplets_take_thread_negatives_and_fall_back_to_faiss():
    frame = two_authors().with_columns(title=pl.when(pl.col("position") < 3).then(pl.lit("Re: same thread")))
    vectors = np.eye(len(frame), dtype=np.float32)
    triplets = training_triplets(frame, vectors, FilterTrainParams(max_examples=0, negatives="thread"))
    author = dict(frame.select("text", "user_id").iter_rows())
    assert set(triplets.get_column("negative_source")) == {"thread", "nearest"}
    assert all(author[a] != author[n] for a, n in triplets.select("anchor", "negative").iter_rows())
    for row in triplets.iter_rows(named=True):
        assert row["authors"] == [author[row["anchor"]], author[row["negative"]]]
