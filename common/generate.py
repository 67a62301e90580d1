"""Batched generation from a local causal-LM folder with its chat template: K samples per prompt.

Prompts are sorted by length and padded on the left, so a batch wastes little on padding; each
batch is seeded from `seed` and its position, so a run is repeatable on the same machine. The KV
cache is allocated once per batch (a static cache): the default one grows by concatenation, which
on 2 cores cost a quarter of every decoding step (measured with torch.profiler).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from common.errors import InputError


@dataclass(frozen=True)
class SamplingParams:
    samples: int = 1  # outputs per prompt
    max_new_tokens: int = 192
    temperature: float = 0.8  # 0 = greedy (then samples must be 1)
    top_p: float = 0.95
    batch_size: int = 8  # prompts per generate() call
    seed: int = 13

    def __post_init__(self):
        for name in ("samples", "max_new_tokens", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InputError(f"{name}={getattr(self, name)!r}; must be a positive integer")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise InputError(f"temperature={self.temperature!r} must be >= 0 and top_p={self.top_p!r} in (0, 1]")
        if self.temperature == 0 and self.samples > 1:
            raise InputError("greedy decoding (temperature 0) gives one output per prompt: set samples to 1")


class Generator:
    def __init__(self, model_dir: Path, precision: str = "bf16"):
        from common.models import load_causal_lm

        from common.device import device

        model, self.tokenizer = load_causal_lm(model_dir, precision, padding_side="left")  # batched prompts
        self.model = model.to(device()).eval()
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def __call__(self, prompts: list[list[dict]], params: SamplingParams, desc: str = "generate") -> list[list[str]]:
        """For each conversation, `params.samples` completions of the assistant's turn."""
        import torch

        rendered = [self.tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
        lengths = [len(self.tokenizer(r, add_special_tokens=False)["input_ids"]) for r in rendered]
        order = sorted(range(len(prompts)), key=lambda i: lengths[i])
        out: list[list[str]] = [[] for _ in prompts]
        sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
        for start in tqdm(range(0, len(order), params.batch_size), desc=desc, unit="batch"):
            batch = order[start : start + params.batch_size]
            inputs = self.tokenizer(
                [rendered[i] for i in batch], return_tensors="pt", padding=True, add_special_tokens=False
            ).to(self.model.device)
            torch.manual_seed(params.seed + start)
            with torch.inference_mode():
                ids = self.model.generate(
                    **inputs,
                    max_new_tokens=params.max_new_tokens,
                    num_return_sequences=params.samples,
                    pad_token_id=self.tokenizer.pad_token_id,
                    cache_implementation="static",
                    **(sampling if params.temperature > 0 else {"do_sample": False}),
                )
            texts = self.tokenizer.batch_decode(ids[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
            for k, i in enumerate(batch):
                out[i] = [t.strip() for t in texts[k * params.samples : (k + 1) * params.samples]]
        return out
