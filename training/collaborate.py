"""Inference as the SAG paper does it (step 6): the LLM writes neutral content from the user's
instruction, and the trained small model writes the styled article from instruction + neutral
content + the author's reference. The WRITE role is the "LLM only" system the paper compares with.

Extractive baselines (no model): DRAFT returns the instruction's sentences as the content, and
WRITE returns the same text: without a model nothing can be written, and saying so beats pretending.
"""

from __future__ import annotations

import json
from pathlib import Path

from training.answers import fence, json_object, read_template
from training.llm import Role, template_version

PROMPTS = Path(__file__).parent / "prompts"


def _one_field(name: str):
    def parse(text: str) -> dict:
        value = json_object(text)
        if set(value) != {name}:
            raise ValueError(f"fields {sorted(value)}, expected exactly ['{name}']")
        if not isinstance(value[name], str) or not value[name].strip():
            raise ValueError(f"{name} must be a non-empty string")
        return {name: value[name].strip()}

    return parse


def _messages(template: str, **fields: str) -> list[dict]:
    system, user = read_template(PROMPTS / template)
    return [{"role": "system", "content": system}, {"role": "user", "content": user.format(**fields)}]


def draft_input(item: dict) -> list[dict]:
    return _messages("draft.txt", instruction=fence(item["instruction"], "instruction"))


def write_input(item: dict) -> list[dict]:
    return _messages("write.txt", instruction=fence(item["instruction"], "instruction"),
                     reference=fence(item["reference"], "reference"))  # fmt: skip


def draft_baseline(item: dict) -> str:
    return json.dumps({"neutral": " ".join(item["instruction"].split())}, ensure_ascii=False)


def write_baseline(item: dict) -> str:
    return json.dumps({"article": " ".join(item["instruction"].split())}, ensure_ascii=False)


DRAFT = Role("draft", template_version(PROMPTS / "draft.txt"), draft_input, _one_field("neutral"), draft_baseline)
WRITE = Role("write", template_version(PROMPTS / "write.txt"), write_input, _one_field("article"), write_baseline)


def generate(instruction: str, references: list[str], model_dir: Path, llm, data, cache_path: Path,
             max_new_tokens: int = 256, temperature: float = 0.0, seed: int = 13) -> dict:  # fmt: skip
    """The paper's collaboration for one request: {"neutral", "article", "prompt"}.

    `llm` is an LLMParams, `data` the SFTDataParams that cut long inputs as in training. With several
    references they are joined (the reference budget still applies); with none, the `noref` prompt."""
    from curation.errors import InputError
    from training.generate import Generator, SamplingParams
    from training.llm import LLMRunner
    from training.llm_cache import LLMCache
    from training.sft_data import render_prompt

    if not instruction.strip():
        raise InputError("the instruction is empty")
    if not (Path(model_dir) / "config.json").exists():
        raise InputError(f"{model_dir} is not a model folder (train one with dvc repro, or pass --model)")
    cache = LLMCache(cache_path)
    try:
        outcome = LLMRunner(llm, cache, stage="generate").run(DRAFT, [{"id": "request", "instruction": instruction}],
                                                              progress=False)[0]  # fmt: skip
    finally:
        cache.close()
    if outcome.output is None:
        raise InputError(f"the LLM's draft failed ({outcome.error}): {outcome.detail}")
    reference = "\n\n".join(r.strip() for r in references if r.strip())
    fields = {"summary": instruction, "neutral": outcome.output["neutral"], "reference": reference}
    prompt, _, _ = render_prompt(fields, "sag" if reference else "noref", data)
    sampling = SamplingParams(1, max_new_tokens, temperature, 0.95 if temperature else 1.0, 1, seed)
    article = Generator(Path(model_dir))([[{"role": "user", "content": prompt}]], sampling, desc="generate")[0][0]
    return {"neutral": outcome.output["neutral"], "article": article, "prompt": prompt}
