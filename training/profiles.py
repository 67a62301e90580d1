"""Training profiles: named sets of trainer settings kept in params.yaml (`sft.profiles`,
`dpo.profiles`), so that one param switches a whole regime (`dvc exp run -S sft.profile=paper`)
while every setting stays visible to `dvc params diff` and overridable on its own
(`dvc exp run -S sft.profiles.cpu.max_steps=100`). This module knows what a profile holds and
checks it; the values live in params.yaml only.

cpu    the default: LoRA on bf16 weights (adapters stay fp32), 8 SFT and 8 DPO steps: minutes
       on 2 cores, a check of the whole method end to end, far too few steps for a good writer.
paper  the SAG paper's settings (S-SFT: lr 1e-5 cosine, 5 epochs, batch 16, max length 2048, 1%
       warm-up; C-DPO: lr 1e-6, 1 epoch), full fine-tuning in bf16: a GPU job. Batch 16 is
       per_device_batch_size x gradient_accumulation_steps, written for one process: under
       `accelerate launch` on N GPUs each process accumulates 1/N of the steps (common/device.py).
"""

from __future__ import annotations

from common.errors import InputError

COMMON = {
    "lora": bool,
    "lora_r": int,
    "lora_alpha": int,
    "lora_dropout": float,
    "learning_rate": float,
    "lr_scheduler": str,
    "warmup_ratio": float,
    "epochs": int,
    "max_steps": int,
    "per_device_batch_size": int,
    "gradient_accumulation_steps": int,
    "max_length": int,
    "precision": str,
    "logging_steps": int,
    "save_steps": int,
}
SFT_SETTINGS = COMMON | {"group_by_length": bool}
DPO_SETTINGS = COMMON | {"beta": float}
PRECISIONS = ("fp32", "bf16")


def _typed(value, kind) -> bool:
    if kind is float:  # YAML writes 1e-4 as a string unless it has a dot: accept ints, refuse bools
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def resolve(kinds: dict, section: str, profile: str, profiles: dict) -> dict:
    """The chosen profile's settings, checked: every setting present, of its type, in range."""
    if not isinstance(profiles, dict) or profile not in profiles:
        names = ", ".join(profiles) if isinstance(profiles, dict) else "none"
        raise InputError(f"{section}.profile={profile!r}; {section}.profiles has: {names}")
    settings = profiles[profile]
    where = f"{section}.profiles.{profile}"
    missing, unknown = sorted(set(kinds) - set(settings)), sorted(set(settings) - set(kinds))
    if missing or unknown:
        raise InputError(
            f"{where}: missing {', '.join(missing) or 'nothing'}; unknown {', '.join(unknown) or 'nothing'}"
        )
    for name, kind in kinds.items():
        if not _typed(settings[name], kind):
            raise InputError(f"{where}.{name}={settings[name]!r}; must be a {kind.__name__}")
    settings = {k: float(v) if kinds[k] is float else v for k, v in settings.items()}
    if settings["precision"] not in PRECISIONS:
        raise InputError(f"{where}.precision={settings['precision']!r}; allowed: {', '.join(PRECISIONS)}")
    for name in ("per_device_batch_size", "gradient_accumulation_steps", "max_length", "epochs", "logging_steps"):
        if settings[name] < 1:
            raise InputError(f"{where}.{name}={settings[name]!r}; must be >= 1")
    if settings["max_steps"] < 0 or settings["save_steps"] < 0 or settings["learning_rate"] <= 0:
        raise InputError(
            f"{where}: max_steps and save_steps must be >= 0 (0 = epochs, no checkpoints), learning_rate > 0"
        )
    return settings
