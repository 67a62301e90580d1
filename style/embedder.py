"""The style embedder: a sentence embedder fine-tuned so that one author's posts are close.

Training follows the SAG paper's Eq. 1, which is the InfoNCE form of sentence-transformers'
MultipleNegativesRankingLoss: (anchor, positive) = a post and an earlier post by the same user;
every other text in the batch is a negative, plus one hard negative per anchor. Two choices from
the published style-embedding recipes (LUAR, Wegmann et al. 2022) make the negatives true ones:

- a batch never holds two examples that share an author (`AuthorDisjointBatches`), so no post of
  the anchor's own author is ever pushed away as a "negative";
- the hard negative is, by default, a post by another author *in the same thread* (same topic,
  other style), falling back to the FAISS nearest post by another author when a post has no
  thread (`filter.negatives: thread | nearest | none`).
"""

from __future__ import annotations

import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from common import device as compute
from common.errors import InputError
from style.threads import thread_keys

NEGATIVES = ("thread", "nearest", "none")
TUNING = ("head", "full")


@dataclass(frozen=True)
class FilterTrainParams:
    base_model: str = "packaged:all-MiniLM-L6-v2"
    tune: str = "head"  # head: a linear style projection on the frozen embedder | full: every weight
    head_epochs: int = 12
    head_learning_rate: float = 1e-3
    epochs: int = 1
    max_steps: int = 0  # 0 = whole epochs; a CPU budget otherwise
    batch_size: int = 16
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.05
    max_seq_length: int = 128
    max_examples: int = 0  # 0 = every post that has an earlier one (of the embedder's users)
    negatives: str = "thread"
    validation_fraction: float = 0.4  # train users held out of the embedder, for the scorer's choices
    seed: int = 13
    bootstrap: int = 1000
    folds: int = 5  # k-fold-by-user estimate over all non-test users

    def __post_init__(self):
        for name in ("epochs", "batch_size", "max_seq_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InputError(f"filter.{name}={value!r}; must be a positive integer")
        if self.batch_size < 2:
            raise InputError(f"filter.batch_size={self.batch_size!r}; in-batch negatives need at least 2")
        if not isinstance(self.learning_rate, (int, float)) or not 0 < self.learning_rate < 1:
            raise InputError(f"filter.learning_rate={self.learning_rate!r}; must be in (0, 1)")
        if not isinstance(self.warmup_ratio, (int, float)) or not 0 <= self.warmup_ratio < 1:
            raise InputError(f"filter.warmup_ratio={self.warmup_ratio!r}; must be in [0, 1)")
        for name in ("max_examples", "max_steps", "bootstrap"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"filter.{name}={value!r}; must be an integer >= 0")
        if self.tune not in TUNING:
            raise InputError(f"filter.tune={self.tune!r}; allowed: {', '.join(TUNING)}")
        if not isinstance(self.head_epochs, int) or self.head_epochs < 1:
            raise InputError(f"filter.head_epochs={self.head_epochs!r}; must be a positive integer")
        if not isinstance(self.head_learning_rate, (int, float)) or not 0 < self.head_learning_rate < 1:
            raise InputError(f"filter.head_learning_rate={self.head_learning_rate!r}; must be in (0, 1)")
        if self.negatives not in NEGATIVES:
            raise InputError(f"filter.negatives={self.negatives!r}; allowed: {', '.join(NEGATIVES)}")
        if not isinstance(self.validation_fraction, (int, float)) or not 0 < self.validation_fraction < 1:
            raise InputError(f"filter.validation_fraction={self.validation_fraction!r}; must be in (0, 1)")
        if not isinstance(self.folds, int) or self.folds < 2:
            raise InputError(f"filter.folds={self.folds!r}; must be an integer >= 2")


def nearest_negatives(embeddings: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int = 20) -> np.ndarray:
    """For each row in `rows`, the nearest article (inner product) written by another user; -1 if none."""
    import faiss

    index = faiss.IndexFlatIP(embeddings.shape[1])
    if compute.device_class() == "cuda" and hasattr(faiss, "StandardGpuResources"):  # faiss-gpu installed
        index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), int(compute.device().partition(":")[2] or 0), index)
    index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    _, found = index.search(np.ascontiguousarray(embeddings[rows], dtype=np.float32), min(k, len(embeddings)))
    out = np.full(len(rows), -1)
    for n, (row, candidates) in enumerate(zip(rows, found, strict=True)):
        other = candidates[(candidates >= 0) & (users[candidates] != users[row])]
        if len(other):
            out[n] = other[0]
    return out


def thread_negatives(threads: np.ndarray, users: np.ndarray, rows: np.ndarray, rng) -> np.ndarray:
    """For each row, a random post by another user in the same thread; -1 when there is none."""
    by_thread: dict[str, list[int]] = {}
    for i, key in enumerate(threads):
        if key is not None:
            by_thread.setdefault(key, []).append(i)
    out = np.full(len(rows), -1)
    for n, row in enumerate(rows):
        if threads[row] is None:
            continue
        others = [i for i in by_thread[threads[row]] if users[i] != users[row]]
        if others:
            out[n] = others[int(rng.integers(len(others)))]
    return out


def triplet_rows(articles: pl.DataFrame, embeddings: np.ndarray | None, params: FilterTrainParams) -> dict:
    """Row numbers of (anchor, positive[, negative]) examples, with `authors` (the users each
    example holds, for batching) and the negative's `source` (thread | nearest).

    `articles` are sorted by (user_id, position). The positive is a random earlier post by the same
    user; the negative follows `params.negatives` (the FAISS fallback needs `embeddings`)."""
    rng = np.random.default_rng(params.seed)
    users = articles.get_column("user_id").to_numpy()
    positions = articles.get_column("position").to_numpy()
    rows = np.flatnonzero(positions >= 1)
    if params.max_examples and len(rows) > params.max_examples:
        rows = np.sort(rng.choice(rows, size=params.max_examples, replace=False))
    positive = rows - 1 - (rng.random(len(rows)) * positions[rows]).astype(int)  # rows above = earlier posts
    if params.negatives == "none":
        return {"anchor": rows, "positive": positive, "authors": [[u] for u in users[rows]]}
    negative = np.full(len(rows), -1)
    if params.negatives == "thread" and "title" in articles.columns:
        negative = thread_negatives(thread_keys(articles.get_column("title")).to_numpy(), users, rows, rng)
    source = np.where(negative >= 0, "thread", "nearest")
    missing = negative < 0
    if missing.any() and embeddings is not None:
        negative[missing] = nearest_negatives(embeddings, users, rows[missing])
    keep = negative >= 0
    return {
        "anchor": rows[keep],
        "positive": positive[keep],
        "negative": negative[keep],
        "authors": [[a, b] for a, b in zip(users[rows][keep], users[negative[keep]], strict=True)],
        "source": source[keep],
    }


def training_triplets(articles: pl.DataFrame, embeddings: np.ndarray | None, params: FilterTrainParams) -> pl.DataFrame:
    """The examples of `triplet_rows` as texts: anchor, positive[, negative], authors[, negative_source]."""
    found = triplet_rows(articles, embeddings, params)
    texts = articles.get_column("text").to_numpy()
    frame = {k: texts[found[k]] for k in ("anchor", "positive", "negative") if k in found}
    frame["authors"] = found["authors"]
    if "source" in found:
        frame["negative_source"] = found["source"]
    return pl.DataFrame(frame)


def author_disjoint_batches(authors: list[list[str]], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches in which no author appears in two examples (anchor/positive or negative side).

    Greedy: take examples in a seeded random order; one whose authors are already in the batch waits
    for the next batch. Every example is used once per epoch."""
    order = deque(np.random.default_rng(seed).permutation(len(authors)).tolist())
    batches = []
    while order:
        batch, seen, waiting = [], set(), []
        while order and len(batch) < batch_size:
            i = order.popleft()
            if seen.isdisjoint(authors[i]):
                batch.append(i)
                seen.update(authors[i])
            else:
                waiting.append(i)
        order.extendleft(reversed(waiting))
        batches.append(batch)
    return batches


def _batch_sampler(authors: list[list[str]]):
    """A sentence-transformers batch sampler factory over `author_disjoint_batches`."""
    from sentence_transformers.base.sampler import DefaultBatchSampler

    class AuthorDisjointBatches(DefaultBatchSampler):
        def _batches(self, epoch: int) -> list[list[int]]:
            return author_disjoint_batches(authors, self.batch_size, self.seed + epoch)

        def __len__(self) -> int:
            return len(self._batches(0))

        def __iter__(self):
            yield from self._batches(getattr(self, "epoch", 0))[: len(self)]

    return AuthorDisjointBatches


def train(model_dir: Path, triplets: pl.DataFrame, params: FilterTrainParams, out_dir: Path, live_dir: Path) -> list:
    """Fine-tune with MultipleNegativesRankingLoss; save a sentence-transformers folder; return the loss log.
    The loss curve goes to `live_dir` through dvclive (a DVC plot)."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import SentenceTransformerTrainingArguments

    from common.training_log import dvclive_callback

    if len(triplets) < params.batch_size:
        raise InputError(f"only {len(triplets)} training examples for filter.batch_size={params.batch_size}")
    model = SentenceTransformer(str(model_dir), device=compute.device())
    model.max_seq_length = params.max_seq_length
    texts = triplets.select([c for c in ("anchor", "positive", "negative") if c in triplets.columns])
    steps_per_epoch = len(author_disjoint_batches(triplets.get_column("authors").to_list(), params.batch_size, 0))
    with tempfile.TemporaryDirectory() as scratch:
        args = SentenceTransformerTrainingArguments(
            output_dir=scratch,
            num_train_epochs=params.epochs,
            max_steps=params.max_steps or -1,
            per_device_train_batch_size=params.batch_size,
            learning_rate=params.learning_rate,
            warmup_ratio=params.warmup_ratio,
            seed=params.seed,
            data_seed=params.seed,
            use_cpu=compute.device_class() == "cpu",
            bf16=False,  # the HF default bf16 raises on CPU; fp32 training is stable here
            logging_steps=max(1, min(steps_per_epoch * params.epochs, params.max_steps or 10**9) // 25),
            save_strategy="no",
            report_to="none",  # dvclive is attached explicitly, writing into the stage's own folder
            batch_sampler=_batch_sampler(triplets.get_column("authors").to_list()),
        )
        trainer = SentenceTransformerTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_polars(texts),
            loss=MultipleNegativesRankingLoss(model),
            callbacks=[dvclive_callback(live_dir)],
        )
        trainer.train()
    model.save(str(out_dir))
    return [entry for entry in trainer.state.log_history if "loss" in entry]
