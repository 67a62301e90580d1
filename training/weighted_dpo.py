"""Deviation-weighted DPO on the current TRL: a `DPOTrainer` subclass, no copy of TRL's loss.

TRL 1.16 has no per-example weights read from the dataset (an open request upstream), and its
loss averages per-pair terms inside one method. The weighted loss mean_i(w_i * l_i) is computed
here as TRL's own loss on each pair alone, times its weight, averaged over the batch: the same
value TRL gives for the whole batch when every weight is 1 (tested), at the cost of one forward
per pair instead of one per batch (on a CPU no slower; on a GPU, a small batch is cheap anyway).
"""

from __future__ import annotations

import torch
from trl import DPOTrainer


class _KeepWeights:
    """Wraps TRL's preference collator, carrying the `weight` column through as a tensor."""

    def __init__(self, collator):
        self.collator = collator

    def __call__(self, examples: list[dict]) -> dict:
        weights = [float(e.pop("weight")) for e in examples] if "weight" in examples[0] else None
        batch = self.collator(examples)
        if weights is not None:
            batch["weight"] = torch.tensor(weights, dtype=torch.float32)
        return batch


class WeightedDPOTrainer(DPOTrainer):
    """DPO whose per-pair loss is multiplied by the dataset's `weight` column (DDPO: 1 + deviation)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.data_collator = _KeepWeights(self.data_collator)

    def _set_signature_columns_if_needed(self):
        super()._set_signature_columns_if_needed()
        if "weight" not in self._signature_columns:
            self._signature_columns = [*self._signature_columns, "weight"]

    def _compute_loss(self, model, inputs, return_outputs):
        weight = inputs.pop("weight", None)
        if weight is None:
            return super()._compute_loss(model, inputs, return_outputs)
        if return_outputs:
            raise NotImplementedError("weighted DPO does not return outputs")
        n = len(weight)
        total = 0.0
        for i in range(n):
            # TRL stacks a batch as [chosen_1..chosen_n, rejected_1..rejected_n]; per-pair tensors have n rows.
            rows = torch.tensor([i, n + i])
            pair = {k: (v[rows] if v.shape[0] == 2 * n else v[i : i + 1]) for k, v in inputs.items()}
            total = total + weight[i].to(self.accelerator.device) * super()._compute_loss(model, pair, False)
        return total / n
