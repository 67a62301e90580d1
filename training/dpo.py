"""C-DPO training (SAG step 5): TRL's DPOTrainer on the `dpo` set, starting from the S-SFT model.

With LoRA (the cpu profile) the reference model is the S-SFT model itself, the adapter switched
off: no second copy in memory. `weighted: true` multiplies each pair's loss by its `weight`
column (DDPO); `false` is TRL's plain DPO.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.errors import InputError
from training.profiles import DPO_SETTINGS, resolve

SOURCES = ("cdpo", "judge")


@dataclass(frozen=True)
class DPOParams:
    profile: str = "cpu"
    profiles: dict = field(default_factory=dict)  # name -> settings, from params.yaml
    sources: list = field(default_factory=lambda: list(SOURCES))  # which pairs to train on
    weighted: bool = True  # DDPO: loss x (1 + deviation of the chosen)
    seed: int = 13

    def __post_init__(self):
        if not self.sources or any(s not in SOURCES for s in self.sources):
            raise InputError(f"dpo.sources={self.sources!r}; allowed: {', '.join(SOURCES)}")
        if not isinstance(self.weighted, bool):
            raise InputError(f"dpo.weighted={self.weighted!r}; must be true or false")
        self.settings()

    def settings(self) -> dict:
        return resolve(DPO_SETTINGS, "dpo", self.profile, self.profiles)


def make_trainer(pairs: list[dict], params: DPOParams, model_dir: Path, run_dir: Path, callbacks=()):
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from training.trainer_setup import load_model, lora_config, trainer_kwargs
    from training.weighted_dpo import WeightedDPOTrainer

    settings = params.settings()
    model, tokenizer = load_model(model_dir, settings["precision"])
    kwargs = trainer_kwargs(settings, run_dir, params.seed)
    config = DPOConfig(**kwargs, beta=settings["beta"], disable_tqdm=False)
    columns = ["prompt", "chosen", "rejected"] + (["weight"] if params.weighted else [])
    dataset = Dataset.from_list([{c: p[c] for c in columns} for p in pairs])
    cls = WeightedDPOTrainer if params.weighted else DPOTrainer
    return cls(
        model=model,
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(settings),
        callbacks=list(callbacks),
    )


def train(pairs: list[dict], params: DPOParams, model_dir: Path, out_dir: Path, live_dir: Path) -> dict:
    from common.training_log import dvclive_callback
    from training.trainer_setup import (
        checkpoint_dir,
        file_md5,
        logged_losses,
        save_plain,
        train_resumable,
    )

    if not pairs:
        raise InputError(f"no preference pairs from dpo.sources={params.sources!r}")
    model_version = file_md5(model_dir / "model.safetensors") if (model_dir / "model.safetensors").exists() else ""
    fingerprint = {"params": params, "settings": params.settings(), "pairs": pairs, "model": model_version}
    trainer = make_trainer(pairs, params, model_dir, checkpoint_dir("dpo", fingerprint), [dvclive_callback(live_dir)])
    run = train_resumable(trainer)
    save_plain(trainer.model, trainer.processing_class, out_dir)
    losses = logged_losses(trainer)
    logged = [e for e in trainer.state.log_history if "rewards/margins" in e]

    def mean(key: str) -> float | None:  # per-step values over 2 pairs are noisy: the run's mean says more
        return round(sum(e[key] for e in logged) / len(logged), 4) if logged else None

    return {
        "pairs": len(pairs),
        "steps": trainer.state.global_step,
        "first_loss": round(losses[0], 4) if losses else None,
        "final_loss": round(losses[-1], 4) if losses else None,
        "mean_reward_margin": mean("rewards/margins"),
        "mean_reward_accuracy": mean("rewards/accuracies"),
        **run,
    }
