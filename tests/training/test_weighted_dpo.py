"""Deviation-weighted DPO: TRL's loss when every weight is 1, the weighted mean otherwise, and real training."""

import torch
from safetensors.torch import load_file

from tests.conftest import cpu_profile
from training.dpo import DPOParams, make_trainer, train

FAST = {
    "max_steps": 2,
    "per_device_batch_size": 3,
    "max_length": 96,
    "precision": "fp32",
    "learning_rate": 1e-2,
    "lora": False,
}


def pairs(weights):
    return [
        {
            "prompt": [{"role": "user", "content": f"Write post {i} about the garden party."}],
            "chosen": [{"role": "assistant", "content": f"the garden party {i} was grand, honestly!"}],
            "rejected": [{"role": "assistant", "content": f"Party {i} happened in Paris in 1999."}],
            "weight": w,
        }
        for i, w in enumerate(weights)
    ]


def batch_loss(trainer, rows):
    """The trainer's loss on a batch of the given dataset rows, without a gradient."""
    batch = trainer.data_collator([trainer.train_dataset[i] for i in rows])
    with torch.no_grad():
        return trainer.compute_loss(trainer.model, batch).item()


def test_weights_of_one_give_trls_loss_and_other_weights_the_weighted_mean(tiny_lm, tmp_path):
    ones = pairs([1.0, 1.0, 1.0])
    plain = make_trainer(ones, DPOParams(profiles=cpu_profile("dpo", **FAST), weighted=False), tiny_lm, tmp_path)
    weighted = make_trainer(ones, DPOParams(profiles=cpu_profile("dpo", **FAST), weighted=True), tiny_lm, tmp_path)
    reference = batch_loss(plain, range(3))
    assert abs(batch_loss(weighted, range(3)) - reference) < 1e-6

    skewed = pairs([1.0, 1.8, 1.2])
    trainer = make_trainer(skewed, DPOParams(profiles=cpu_profile("dpo", **FAST), weighted=True), tiny_lm, tmp_path)
    alone = [batch_loss(plain, [i]) for i in range(3)]  # TRL's loss of each pair on its own
    expected = sum(w * loss for w, loss in zip([1.0, 1.8, 1.2], alone, strict=True)) / 3
    assert abs(batch_loss(trainer, range(3)) - expected) < 1e-5
    assert abs(batch_loss(trainer, range(3)) - reference) > 1e-4


def test_weighted_dpo_trains_logs_loss_and_moves_the_weights(tiny_lm, tmp_path):
    metrics = train(
        pairs([1.0, 1.5, 1.2, 1.9]),
        DPOParams(profiles=cpu_profile("dpo", **FAST)),
        tiny_lm,
        tmp_path / "m",
        tmp_path / "live",
    )
    assert metrics["steps"] == 2 and metrics["first_loss"] is not None and metrics["mean_reward_accuracy"] is not None
    assert (tmp_path / "live" / "plots" / "metrics" / "train" / "loss.tsv").exists()
    before, after = load_file(tiny_lm / "model.safetensors"), load_file(tmp_path / "m" / "model.safetensors")
    assert any(not torch.equal(before[k], after[k]) for k in before)
