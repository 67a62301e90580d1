"""S-SFT with TRL on a tiny real model: the loss is logged, the weights move, the prompt is masked."""

import pytest
import torch
from safetensors.torch import load_file

from common.errors import InputError
from tests.conftest import chat_example, cpu_profile
from training.profiles import SFT_SETTINGS, resolve
from training.sft import SFTParams, make_trainer, train
from training.trainer_setup import train_resumable

EXAMPLES = [
    chat_example(
        f"Summary: meeting number {i} about gardens.", f"so yeah, meeting {i} went fine, gardens again!! cheers"
    )
    for i in range(8)
]
FAST = {"max_steps": 3, "per_device_batch_size": 2, "max_length": 96, "precision": "fp32", "learning_rate": 1e-2}


def weights(folder):
    return load_file(folder / "model.safetensors")


@pytest.mark.parametrize("lora", [True, False])
def test_sft_logs_loss_and_changes_the_weights(tiny_lm, tmp_path, lora):
    params = SFTParams(model=str(tiny_lm), profiles=cpu_profile("sft", **FAST, lora=lora))
    metrics = train(EXAMPLES, params, tmp_path / "model", tmp_path / "live", progress=False)
    assert metrics["steps"] == 3 and metrics["first_loss"] > 0 and metrics["final_loss"] is not None
    assert (tmp_path / "live" / "plots" / "metrics" / "train" / "loss.tsv").read_text().count("\n") >= 2
    before, after = weights(tiny_lm), weights(tmp_path / "model")
    assert before.keys() == after.keys()  # a plain folder: LoRA merged, no adapter files needed
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed, "training left every weight as it was"


def test_held_out_loss_is_measured_on_the_base_model_and_after_training(tiny_lm, tmp_path):
    held_out = [
        chat_example(
            f"Summary: meeting number {i} about gardens.", f"so yeah, meeting {i} went fine, gardens again!! cheers"
        )
        for i in (8, 9)
    ]
    params = SFTParams(model=str(tiny_lm), profiles=cpu_profile("sft", **FAST))
    metrics = train(EXAMPLES, params, tmp_path / "model", tmp_path / "live", progress=False, held_out=held_out)
    assert metrics["held_out_examples"] == 2
    assert metrics["held_out_loss"] < metrics["held_out_loss_base"]  # what it learned carries to unseen examples
    without = train(EXAMPLES, params, tmp_path / "again", tmp_path / "live2", progress=False)
    assert without["held_out_examples"] == 0 and without["held_out_loss"] is None


def test_the_loss_is_on_the_completion_only(tiny_lm, tmp_path):
    trainer = make_trainer(
        EXAMPLES[:2], SFTParams(model=str(tiny_lm), profiles=cpu_profile("sft", **FAST)), tmp_path, progress=False
    )
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    learned = trainer.processing_class.decode(ids[labels != -100])
    masked = trainer.processing_class.decode(ids[labels == -100])
    assert "meeting 0 went fine" in learned and "Summary" not in learned
    assert "Summary: meeting number 0" in masked


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tiny_lm, tmp_path):
    from transformers import TrainerCallback

    class Interrupt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                raise KeyboardInterrupt

    params = SFTParams(model=str(tiny_lm), profiles=cpu_profile("sft", **FAST | {"max_steps": 4, "save_steps": 2}))
    run_dir = tmp_path / "checkpoints"
    with pytest.raises(KeyboardInterrupt):
        train_resumable(make_trainer(EXAMPLES, params, run_dir, [Interrupt()], progress=False))
    trainer = make_trainer(EXAMPLES, params, run_dir, progress=False)
    assert train_resumable(trainer)["resumed_from"] == "checkpoint-2"
    assert trainer.state.global_step == 4 and not run_dir.exists()  # done: checkpoints removed


def test_a_window_too_short_for_any_article_is_a_clear_error(tiny_lm, tmp_path):
    long_prompt = [chat_example("facts " * 200, "the article")]
    with pytest.raises(InputError, match="max_length=96 cuts away the article of every example"):
        make_trainer(long_prompt, SFTParams(model=str(tiny_lm), profiles=cpu_profile("sft", **FAST)), tmp_path)


def test_profiles_from_params_yaml_resolve_and_bad_settings_are_one_line_errors():

    from tests.conftest import committed_params

    profiles = committed_params()["sft"]["profiles"]
    paper = resolve(SFT_SETTINGS, "sft", "paper", profiles)
    assert (paper["learning_rate"], paper["epochs"], paper["max_length"], paper["lr_scheduler"]) == (
        1e-5,
        5,
        2048,
        "cosine",
    )
    assert paper["per_device_batch_size"] * paper["gradient_accumulation_steps"] == 16 and paper["warmup_ratio"] == 0.01
    assert resolve(SFT_SETTINGS, "sft", "cpu", cpu_profile("sft", max_steps=5))["max_steps"] == 5
    with pytest.raises(InputError, match="unknown max_stesp"):
        resolve(SFT_SETTINGS, "sft", "cpu", cpu_profile("sft", max_stesp=5))
    with pytest.raises(InputError, match=r"sft.profiles.cpu.max_steps='many'; must be a int"):
        resolve(SFT_SETTINGS, "sft", "cpu", cpu_profile("sft", max_steps="many"))
    with pytest.raises(InputError, match=r"lora=1; must be a bool"):
        resolve(SFT_SETTINGS, "sft", "cpu", cpu_profile("sft", lora=1))
    with pytest.raises(InputError, match="sft.profile='gpu'; sft.profiles has: cpu, paper"):
        SFTParams(profile="gpu", profiles=profiles)
    with pytest.raises(InputError, match="sft.variant"):
        SFTParams(variant="other", profiles=profiles)
