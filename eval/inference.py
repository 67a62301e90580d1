"""`sag generate`: the paper's inference (step 6) for one request. The LLM drafts neutral content
from the instruction (the DRAFT role) and the trained small model writes the styled article from
instruction + draft + the author's reference."""

from __future__ import annotations

from pathlib import Path

from common.errors import InputError
from common.generate import Generator, SamplingParams
from llm.roles.collaborate import draft_role
from llm.session import LLMSession
from training.sft_data import render_prompt


def generate(
    instruction: str,
    references: list[str],
    model_dir: Path,
    llm,
    data,
    cache_path: Path,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    seed: int = 13,
    baseline: str = "skeleton",
) -> dict:
    """The paper's collaboration for one request: {"neutral", "article", "prompt"}.

    `llm` is an LLMParams, `data` the SFTDataParams that cut long inputs as in training, `baseline`
    the `neutralize.baseline` the model trained on (the no-model draft takes its form). With several
    references they are joined (the reference budget still applies); with none, the `noref` prompt."""
    if not instruction.strip():
        raise InputError("the instruction is empty")
    if not (Path(model_dir) / "config.json").exists():
        raise InputError(f"{model_dir} is not a model folder (train one with dvc repro, or pass --model)")
    with LLMSession(llm, "generate", cache_path) as session:
        outcome = session.runner.run(
            draft_role(baseline), [{"id": "request", "instruction": instruction}], progress=False
        )[0]
    if outcome.output is None:
        raise InputError(f"the LLM's draft failed ({outcome.error}): {outcome.detail}")
    reference = "\n\n".join(r.strip() for r in references if r.strip())
    fields = {"summary": instruction, "neutral": outcome.output["neutral"], "reference": reference}
    prompt, _, _ = render_prompt(fields, "sag" if reference else "noref", data)
    sampling = SamplingParams(1, max_new_tokens, temperature, 0.95 if temperature else 1.0, 1, seed)
    article = Generator(Path(model_dir))([[{"role": "user", "content": prompt}]], sampling, desc="generate")[0][0]
    return {"neutral": outcome.output["neutral"], "article": article, "prompt": prompt}
