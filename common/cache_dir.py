"""Where the project keeps what it must never compute twice (LLM answers, embeddings, converted
models, training checkpoints): $SAG_CACHE, or `.cache/` at the project root.

A queued or `--temp` DVC experiment runs in a copy of the project under
`<root>/.dvc/tmp/exps/<name>/`; it uses the root's cache, so `dvc queue` never pays twice either.
"""

from __future__ import annotations

import os
from pathlib import Path

_EXPERIMENT_COPY = (".dvc", "tmp", "exps")


def cache_dir() -> Path:
    if os.environ.get("SAG_CACHE"):
        return Path(os.environ["SAG_CACHE"])
    parts = Path.cwd().resolve().parts
    for i in range(len(parts) - len(_EXPERIMENT_COPY)):
        if parts[i : i + len(_EXPERIMENT_COPY)] == _EXPERIMENT_COPY:
            return Path(*parts[:i]) / ".cache"
    return Path(".cache")
