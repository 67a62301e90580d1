"""A style projection on a frozen embedder: the CPU way to train the style filter.

Full fine-tuning of MiniLM runs at ~6 s per batch of 16 triplets on 2 cores, and its first
hundred steps made same-author verification *worse* than the base model (metrics/filter.json,
`filter.tune=full`). A linear map on the base model's cached embeddings, trained with the same
loss (in-batch InfoNCE, author-disjoint batches, thread negatives), sees every training example
a dozen times in seconds. It starts at the identity, i.e. at the base model, and the epoch kept is
the one with the best verification AUC on validation users, so it can only move away from the
base where held-out users say that helps.

The result is saved as a sentence-transformers folder: the base modules + Dense + Normalize.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from style.embedder import FilterTrainParams, author_disjoint_batches

SCALE = 20.0  # MultipleNegativesRankingLoss's default: cosine x 20 as logits


def train_head(
    vectors: np.ndarray, examples: dict, params: FilterTrainParams, validate, live_dir: Path
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """(weight, bias, log): the linear map with the best `validate(weight, bias)` score over epochs
    (epoch 0 is the identity). `examples` are row numbers into `vectors` (embedder.triplet_rows)."""
    import torch

    from common.training_log import live_files

    torch.manual_seed(params.seed)
    dim = vectors.shape[1]
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    layer = torch.nn.Linear(dim, dim)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(dim))
        layer.bias.zero_()
    optimizer = torch.optim.AdamW(layer.parameters(), lr=params.head_learning_rate, weight_decay=0.01)

    def project(rows):
        return torch.nn.functional.normalize(layer(x[rows]), dim=-1)

    def snapshot():
        return layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()

    best_w, best_b = snapshot()
    best = validate(best_w, best_b)
    log = [{"epoch": 0, "loss": None, "validation_auc": round(best, 4)}]
    live = live_files(live_dir)
    step = 0
    for epoch in range(1, params.head_epochs + 1):
        losses = []
        for batch in author_disjoint_batches(examples["authors"], params.batch_size, params.seed + epoch):
            if len(batch) < 2:
                continue
            batch = np.array(batch)
            anchor = project(examples["anchor"][batch])
            candidates = [project(examples["positive"][batch])]
            if "negative" in examples:
                candidates.append(project(examples["negative"][batch]))
            logits = SCALE * anchor @ torch.cat(candidates).T  # row i's positive is column i
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
        score = validate(*snapshot())
        log.append(
            {"epoch": epoch, "step": step, "loss": round(float(np.mean(losses)), 4), "validation_auc": round(score, 4)}
        )
        live.log_metric("train/loss", float(np.mean(losses)))
        live.log_metric("validation_auc", score)
        live.next_step()
        if score > best:
            best, (best_w, best_b) = score, snapshot()
    live.end()
    return best_w, best_b, log


def save_with_head(base_dir: Path, weight: np.ndarray, bias: np.ndarray, out_dir: Path) -> None:
    """The base model's modules, then the projection and a re-normalisation, as one folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Dense, Normalize

    base = SentenceTransformer(str(base_dir), device="cpu")
    dense = Dense(
        weight.shape[1],
        weight.shape[0],
        activation_function=torch.nn.Identity(),
        init_weight=torch.from_numpy(weight),
        init_bias=torch.from_numpy(bias),
    )
    SentenceTransformer(modules=[*base, dense, Normalize()], device="cpu").save(str(out_dir))
