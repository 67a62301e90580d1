"""The self-improving style filter: a sentence embedder fine-tuned so that one author's posts are close.

Training follows the SAG paper's Eq. 1, which is the InfoNCE form of sentence-transformers'
MultipleNegativesRankingLoss: (anchor, positive) = a post and an earlier post by the same user;
the other positives in the batch are negatives, plus one hard negative per anchor mined with FAISS
(the nearest post by another user under the base model). Only train-split users are used.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from curation.errors import InputError


@dataclass(frozen=True)
class FilterTrainParams:
    base_model: str = "packaged:all-MiniLM-L6-v2"
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.05
    max_seq_length: int = 256
    max_examples: int = 600  # CPU budget; 0 = every post that has an earlier one
    hard_negatives: bool = True
    seed: int = 13
    bootstrap: int = 1000

    def __post_init__(self):
        for name in ("epochs", "batch_size", "max_seq_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InputError(f"filter.{name}={value!r}; must be a positive integer")
        if not isinstance(self.batch_size, int) or self.batch_size < 2:
            raise InputError(f"filter.batch_size={self.batch_size!r}; in-batch negatives need at least 2")
        if not 0 < float(self.learning_rate) < 1:
            raise InputError(f"filter.learning_rate={self.learning_rate!r}; must be in (0, 1)")
        if not 0 <= float(self.warmup_ratio) < 1:
            raise InputError(f"filter.warmup_ratio={self.warmup_ratio!r}; must be in [0, 1)")
        if not isinstance(self.max_examples, int) or self.max_examples < 0:
            raise InputError(f"filter.max_examples={self.max_examples!r}; must be >= 0")


def hard_negatives(embeddings: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int = 20) -> np.ndarray:
    """For each row in `rows`, the nearest article (inner product) written by another user; -1 if none."""
    import faiss

    index = faiss.IndexFlatIP(embeddings.shape[1])
    index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    _, found = index.search(np.ascontiguousarray(embeddings[rows], dtype=np.float32), min(k, len(embeddings)))
    out = np.full(len(rows), -1)
    for n, (row, candidates) in enumerate(zip(rows, found, strict=True)):
        other = candidates[(candidates >= 0) & (users[candidates] != users[row])]
        if len(other):
            out[n] = other[0]
    return out


def training_triplets(articles: pl.DataFrame, embeddings: np.ndarray | None, params: FilterTrainParams) -> pl.DataFrame:
    """(anchor, positive[, negative]) texts from articles sorted by (user_id, position).

    The positive is a random earlier post by the same user; the negative, when `embeddings` are
    given, is a FAISS hard negative from another user."""
    rng = np.random.default_rng(params.seed)
    users = articles.get_column("user_id").to_numpy()
    positions = articles.get_column("position").to_numpy()
    texts = articles.get_column("text").to_numpy()
    rows = np.flatnonzero(positions >= 1)
    if params.max_examples and len(rows) > params.max_examples:
        rows = np.sort(rng.choice(rows, size=params.max_examples, replace=False))
    positive = rows - 1 - (rng.random(len(rows)) * positions[rows]).astype(int)  # rows above = earlier posts
    frame = {"anchor": texts[rows], "positive": texts[positive]}
    if params.hard_negatives and embeddings is not None:
        negative = hard_negatives(embeddings, users, rows)
        keep = negative >= 0
        frame = {"anchor": texts[rows][keep], "positive": texts[positive][keep], "negative": texts[negative[keep]]}
    return pl.DataFrame(frame)


def train(model_dir: Path, triplets: pl.DataFrame, params: FilterTrainParams, out_dir: Path) -> list[dict]:
    """Fine-tune with MultipleNegativesRankingLoss; save a sentence-transformers folder; return the log."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers, SentenceTransformerTrainingArguments

    if len(triplets) < params.batch_size:
        raise InputError(f"only {len(triplets)} training examples for filter.batch_size={params.batch_size}")
    model = SentenceTransformer(str(model_dir), device="cpu")
    model.max_seq_length = params.max_seq_length
    with tempfile.TemporaryDirectory() as scratch:
        args = SentenceTransformerTrainingArguments(
            output_dir=scratch,
            num_train_epochs=params.epochs,
            per_device_train_batch_size=params.batch_size,
            learning_rate=params.learning_rate,
            warmup_ratio=params.warmup_ratio,
            seed=params.seed,
            data_seed=params.seed,
            use_cpu=True,
            bf16=False,  # TRL/HF default bf16 raises on CPU; fp32 training is stable here
            logging_steps=max(1, len(triplets) // params.batch_size // 20),
            save_strategy="no",
            report_to="none",
            # a text that appears twice in a batch would be its own negative
            batch_sampler=BatchSamplers.NO_DUPLICATES,
        )
        trainer = SentenceTransformerTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_polars(triplets),
            loss=MultipleNegativesRankingLoss(model),
        )
        trainer.train()
    model.save(str(out_dir))
    return [entry for entry in trainer.state.log_history if "loss" in entry]
