"""S-SFT (SAG step 4): TRL's SFTTrainer on one variant of the `sft` set. The examples are
conversational prompt/completion, so the loss is on the completion (the author's article) only.

Held-out loss: the same loss on align-split users' examples, measured before training (the base
model: LoRA adapters start as a no-op) and after, so `metrics/sft.json` says whether the model
learned something that carries to authors it never saw, not only that the training loss moved.

Settings come from a profile in params.yaml (training/profiles.py): `cpu` (LoRA, minutes) or `paper` (GPU).
Multi-GPU / multi-node: `accelerate launch --config_file configs/accelerate/multi_gpu.yaml
-m pipeline.cli sft ...` with the stage's arguments; the trainer picks the processes up itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.errors import InputError
from common.models import DEFAULT, plain_model_dir
from training.profiles import SFT_SETTINGS, resolve
from training.sft_data import VARIANTS


@dataclass(frozen=True)
class SFTParams:
    model: str = DEFAULT  # or any local causal-LM folder with a chat template
    variant: str = "sag"
    profile: str = "cpu"
    profiles: dict = field(default_factory=dict)  # name -> settings, from params.yaml
    seed: int = 13
    held_out_examples: int = 32  # align-split examples the held-out loss is measured on (seeded sample); 0 = all

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise InputError(f"sft.variant={self.variant!r}; allowed: {', '.join(VARIANTS)}")
        if not isinstance(self.held_out_examples, int) or self.held_out_examples < 0:
            raise InputError(f"sft.held_out_examples={self.held_out_examples!r}; must be an integer >= 0 (0 = all)")
        self.settings()  # validate now, at the edge

    def settings(self) -> dict:
        return resolve(SFT_SETTINGS, "sft", self.profile, self.profiles)


def make_trainer(
    examples: list[dict],
    params: SFTParams,
    run_dir: Path,
    callbacks=(),
    progress: bool = True,
    held_out: list[dict] = (),
    **config,
):
    """The SFTTrainer for `examples` (and `held_out` as its eval set); `config` overrides SFTConfig
    fields (benchmarks compare TRL's defaults)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from training.trainer_setup import load_model, lora_config, trainer_kwargs

    if not examples:
        raise InputError(f"no training examples for sft.variant={params.variant!r}")
    settings = params.settings()
    model, tokenizer = load_model(plain_model_dir(params.model, "sft.model"), settings["precision"])
    sampler = "group_by_length" if settings["group_by_length"] else "random"
    kwargs = trainer_kwargs(settings, run_dir, params.seed) | {"train_sampling_strategy": sampler}
    batch = settings["per_device_batch_size"]
    config = SFTConfig(**kwargs | {"disable_tqdm": not progress, "per_device_eval_batch_size": batch} | config)
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=Dataset.from_list(examples),
        eval_dataset=Dataset.from_list(list(held_out)) if held_out else None,
        processing_class=tokenizer,
        peft_config=lora_config(settings),
        callbacks=list(callbacks),
    )
    if len(trainer.train_dataset) == 0:  # TRL drops examples whose completion the truncation removed entirely
        raise InputError(
            f"max_length={settings['max_length']} cuts away the article of every example: raise "
            f"sft.profiles.{params.profile}.max_length or lower build_sft.max_input_words"
        )
    return trainer


def train(
    examples: list[dict],
    params: SFTParams,
    out_dir: Path,
    live_dir: Path,
    progress: bool = True,
    held_out: list[dict] = (),
) -> dict:
    """Train on `examples` ({prompt, completion} in TRL's conversational format); save a plain model
    folder. With `held_out` examples, their loss before training (the base model) and after."""
    from common.training_log import dvclive_callback
    from training.trainer_setup import checkpoint_dir, logged_losses, save_plain, train_resumable

    run_dir = checkpoint_dir("sft", {"params": params, "settings": params.settings(), "examples": examples})
    trainer = make_trainer(examples, params, run_dir, [dvclive_callback(live_dir)], progress, held_out)
    base = held_out_loss(trainer)
    run = train_resumable(trainer)
    trained = held_out_loss(trainer)
    save_plain(trainer.model, trainer.processing_class, out_dir)
    losses = logged_losses(trainer)
    tokens = int(trainer.state.num_input_tokens_seen)
    return {
        "examples": len(examples),
        "trained_examples": len(trainer.train_dataset),  # TRL drops examples whose article is cut away entirely
        "steps": trainer.state.global_step,
        "first_loss": round(losses[0], 4) if losses else None,
        "final_loss": round(losses[-1], 4) if losses else None,
        "tokens_seen": tokens,
        "tokens_per_second": round(tokens / max(run["train_seconds"], 1e-9), 1),
        **run,
        "held_out_examples": len(trainer.eval_dataset) if trainer.eval_dataset is not None else 0,
        "held_out_loss_base": base,
        "held_out_loss": trained,
    }


def held_out_loss(trainer) -> float | None:
    """The trainer's eval loss (completion tokens only) on its eval set, align-split users; None without one."""
    if trainer.eval_dataset is None or len(trainer.eval_dataset) == 0:
        return None
    return round(trainer.evaluate()["eval_loss"], 4)
