"""One device policy for every model stage: `compute.device` (auto | cpu | cuda | cuda:N) and the
batch sizes of each device class, from params.yaml's `compute` section.

A stage calls `configure(params)` once at its start; the library's model loaders (embedder,
filter training, generation, SFT/DPO trainers, the llama.cpp server, FAISS) then ask `device()`
and `batch_size(kind)`, so no model picks its own device. `auto` is CUDA when torch sees a GPU,
else the CPU, which keeps the default run CPU-safe and uses a GPU where there is one.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from functools import cache

from common.errors import InputError

DEVICE_CLASSES = ("cpu", "cuda")
BATCH_KINDS = ("embed", "generate")
_SPEC = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComputeParams:
    device: str = "auto"
    # Texts per encode() batch and prompts per generate() call, by device class.
    embed_batch_size: dict = field(default_factory=lambda: {"cpu": 32, "cuda": 256})
    generate_batch_size: dict = field(default_factory=lambda: {"cpu": 16, "cuda": 64})

    def __post_init__(self):
        if not isinstance(self.device, str) or not _SPEC.match(self.device):
            raise InputError(f"compute.device={self.device!r}; allowed: auto, cpu, cuda, cuda:N")
        for kind in BATCH_KINDS:
            sizes = getattr(self, f"{kind}_batch_size")
            if set(sizes) != set(DEVICE_CLASSES) or any(
                not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in sizes.values()
            ):
                raise InputError(
                    f"compute.{kind}_batch_size={sizes!r}; needs a positive integer for each of cpu, cuda"
                )


_active = ComputeParams()


def configure(params: ComputeParams) -> str:
    """Make `params` the policy of this process; returns the device it resolves to (checked now,
    so `compute.device=cuda` on a machine without a GPU fails at the stage's start, in one line)."""
    global _active
    _active = params
    resolved = device()
    log.info("compute.device=%s -> %s", params.device, resolved)
    return resolved


def device() -> str:
    """The torch device the active policy resolves to: cpu, cuda or cuda:N."""
    return resolve(_active.device)


def device_class(name: str | None = None) -> str:
    return "cuda" if (name or device()).startswith("cuda") else "cpu"


def batch_size(kind: str) -> int:
    return getattr(_active, f"{kind}_batch_size")[device_class()]


def resolve(spec: str) -> str:
    gpus = _cuda_devices()
    if spec == "auto":
        return "cuda" if gpus else "cpu"
    if spec.startswith("cuda"):
        index = int(spec.partition(":")[2] or 0)
        if index >= gpus:
            seen = f"{gpus} GPU(s)" if gpus else "no GPU (torch.cuda.is_available() is False)"
            raise InputError(f"compute.device={spec!r}, but torch sees {seen}; use auto or cpu")
    return spec


@cache
def _cuda_devices() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def world_size() -> int:
    """Processes in this training run: `accelerate launch` / torchrun set WORLD_SIZE."""
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


def gradient_accumulation(steps_on_one_device: int) -> int:
    """A profile's gradient accumulation is written for one process; with N processes each one
    accumulates 1/N of it, so the effective batch stays what the profile says."""
    return max(1, round(steps_on_one_device / world_size()))
