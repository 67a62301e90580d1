"""The `local` LLM backend: a transformers causal LM on CPU, greedy decoding with its chat template.

Local models this small are weak writers (they copy the post or invent facts): use them to check
the pipeline end to end, not for results.
"""

from __future__ import annotations

from common.models import load_causal_lm, plain_model_dir
from llm.types import Completion


class LocalBackend:
    def __init__(self, params):
        model, self.tokenizer = load_causal_lm(plain_model_dir(params.model), "bf16")
        self.model = model.eval()
        self.params = params

    def complete(self, messages: list[dict]):
        import torch

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
