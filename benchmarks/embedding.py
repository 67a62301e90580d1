"""Embedding throughput: the project's path versus plain `SentenceTransformer.encode` (fp32, batch 32).

    .venv/bin/python benchmarks/embedding.py [--texts N]

Both embed the same real posts (the default corpus's curated articles, after `dvc repro`), in one
run, interleaved so that machine noise hits both alike. Each path's embeddings are then scored by
same-author verification ROC-AUC on the test-split users, so a speed-up that costs accuracy shows.
The model is the packaged MiniLM at its 256-token limit (the baseline the issue names), or --model.
A third row shows what cutting posts to 128 tokens would add, and what it costs in AUC.
The last line is the speed-up of the project's path (bf16 weights).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from style.authorship import verification_auc  # noqa: E402
from style.embeddings import encode, load_model, resolve_model  # noqa: E402


def timed(model, texts: list[str], batch_size: int) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vectors = encode(model, texts, batch_size=batch_size)
    return vectors, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=600)
    ap.add_argument("--articles", type=Path, default=ROOT / "outputs/curate/articles.parquet")
    ap.add_argument("--model", default="packaged:all-MiniLM-L6-v2", help="or a sentence-transformers folder")
    args = ap.parse_args()
    if not args.articles.exists():
        raise SystemExit(f"{args.articles} is missing: run `make repro` first")
    articles = pl.read_parquet(args.articles).sort("user_id", "position")
    texts = articles.sample(n=min(args.texts, len(articles)), seed=0).get_column("text").to_list()
    test = articles.filter(pl.col("split") == "test")
    model_dir = resolve_model(args.model)
    models = {
        "fp32": load_model(model_dir, "fp32"),
        "bf16": load_model(model_dir, "bf16"),  # the project's path (style.embeddings, filter.precision)
        "bf16-128": load_model(model_dir, "bf16", max_seq_length=128),
    }
    labels = {
        "fp32": "plain encode, fp32, batch 32",
        "bf16": "project: bf16 weights, batch 32",
        "bf16-128": "bf16 + posts cut to 128 tokens",
    }
    limit = models["fp32"].max_seq_length
    tokens = np.mean([min(len(t), limit) for t in models["fp32"].tokenizer(texts)["input_ids"]])
    print(f"model {args.model}; {len(texts)} real posts, {tokens:.0f} tokens on average (limit {limit})")
    for model in models.values():
        encode(model, texts[:32])  # warm-up
    half = len(texts) // 2
    seconds = dict.fromkeys(models, 0.0)
    for chunk in (texts[:half], texts[half:]):  # interleaved: A B C A B C
        for name, model in models.items():
            seconds[name] += timed(model, chunk, 32)[1]
    users = test.get_column("user_id").to_numpy()
    test_texts = test.get_column("text").to_list()
    auc, vectors = {}, {}
    for name, model in models.items():
        vectors[name] = encode(model, test_texts)
        auc[name] = verification_auc(vectors[name] @ vectors[name].T, users)
    cosine = (vectors["fp32"] * vectors["bf16"]).sum(axis=1)
    for name, label in labels.items():
        change = f"({auc[name] - auc['fp32']:+.4f})" if name != "fp32" else ""
        print(f"{label:<34} {len(texts) / seconds[name]:6.1f} texts/s   test AUC {auc[name]:.4f} {change}")
    print(f"cosine bf16 vs fp32 on {len(test_texts)} test posts: mean {cosine.mean():.4f}, min {cosine.min():.4f}")
    print(f"speed-up over plain fp32 encode: {seconds['fp32'] / seconds['bf16']:.2f}x")


if __name__ == "__main__":
    main()
