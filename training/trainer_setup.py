"""What the SFT and DPO stages share: trainer arguments from a profile, LoRA, checkpoints that
let an interrupted run resume, loss logging to DVC (dvclive), saving a plain model folder with a
model card."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from common.cache_dir import cache_dir


def checkpoint_dir(stage: str, fingerprint: dict) -> Path:
    """Where a run keeps its checkpoints: outside DVC's outputs (DVC deletes those before a stage
    runs), keyed by everything that decides the run, so an interrupted run resumes and a changed
    one starts afresh."""
    digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return cache_dir() / "checkpoints" / stage / digest


def train_resumable(trainer) -> dict:
    """`trainer.train()`, from the run's last checkpoint if an earlier attempt left one; the
    checkpoints are removed once the run is complete (the stage saves the model itself)."""
    from transformers.trainer_utils import get_last_checkpoint

    run_dir = Path(trainer.args.output_dir)
    last = get_last_checkpoint(str(run_dir)) if run_dir.is_dir() else None
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - start
    shutil.rmtree(run_dir, ignore_errors=True)
    return {"train_seconds": round(seconds, 1), "resumed_from": Path(last).name if last else None}


def trainer_kwargs(settings: dict, run_dir: Path, seed: int) -> dict:
    """Keyword arguments common to `SFTConfig` and `DPOConfig`."""
    from common.device import device_class, gradient_accumulation

    return {
        "output_dir": str(run_dir),
        "learning_rate": settings["learning_rate"],
        "lr_scheduler_type": settings["lr_scheduler"],
        "warmup_steps": settings["warmup_ratio"],  # a float < 1 is a ratio of the total steps
        "num_train_epochs": settings["epochs"],
        "max_steps": settings["max_steps"] or -1,
        "per_device_train_batch_size": settings["per_device_batch_size"],
        # the profile's value is for one process: under `accelerate launch` each of N takes 1/N
        "gradient_accumulation_steps": gradient_accumulation(settings["gradient_accumulation_steps"]),
        "max_length": settings["max_length"],
        "bf16": settings["precision"] == "bf16",
        "use_cpu": device_class() == "cpu",
        "logging_steps": settings["logging_steps"],
        "save_strategy": "steps" if settings["save_steps"] else "no",  # checkpoints, for resuming only
        "save_steps": settings["save_steps"] or 500,
        "save_total_limit": 1,
        "report_to": "none",  # dvclive is attached explicitly, writing into the stage's own folder
        "include_num_input_tokens_seen": "non_padding",
        "seed": seed,
        "activation_checkpointing": False,  # TRL turns it on; a 135M model on CPU has memory to spare
        "data_seed": seed,
    }


def lora_config(settings: dict):
    from peft import LoraConfig

    if not settings["lora"]:
        return None
    return LoraConfig(
        r=settings["lora_r"],
        lora_alpha=settings["lora_alpha"],
        lora_dropout=settings["lora_dropout"],
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def load_model(folder: Path, precision: str):
    from common.errors import InputError
    from common.models import load_causal_lm

    model, tokenizer = load_causal_lm(folder, precision)
    if tokenizer.chat_template is None:
        raise InputError(f"{folder} has no chat template; the training sets are conversational")
    return model, tokenizer


def logged_losses(trainer) -> list[float]:
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


def save_plain(model, tokenizer, out_dir: Path) -> None:
    """A folder that `from_pretrained` loads without peft: LoRA adapters are merged into the weights."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def file_md5(path: Path) -> str:
    """The data version as DVC records it (md5 of the file) in dvc.lock."""
    digest = hashlib.md5()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_card(out_dir: Path, title: str, base: str, data: dict, settings: dict, metrics: dict) -> None:
    """A short model card: what it was trained from, on which data version, how, and what came out."""
    lines = [
        f"# {title}",
        "",
        f"Base model: `{base}`.",
        "",
        "## Data",
        *[f"- `{name}`: md5 `{md5}` (as in dvc.lock)" for name, md5 in data.items()],
        "",
        "## Settings",
        "```json",
        json.dumps(settings, indent=2, sort_keys=True),
        "```",
        "",
        "## Metrics",
        "```json",
        json.dumps(metrics, indent=2, sort_keys=True),
        "```",
        "",
        "Trained by the SAG toolkit (`dvc repro`). The CPU profile trains for minutes only: a check of",
        "the method end to end, not a good writer.",
    ]
    (out_dir / "README.md").write_text("\n".join(lines) + "\n")
