"""The LLM's roles in the paper's inference (step 6, run by `eval/inference.py`): DRAFT writes
neutral content from the user's instruction, for the small model to style. WRITE writes the article
itself from instruction + reference: the "LLM only" system the paper compares with.

Extractive baselines (no model): DRAFT returns the instruction's content as the neutral text S-SFT
trained on has it (`draft_role(neutralize.baseline)`: the instruction's content skeleton, or its
sentences), and WRITE returns the instruction: without a model nothing can be written, and saying
so beats pretending.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from llm.answers import fence, json_object, one_field_schema, read_template
from llm.skeleton import skeleton
from llm.types import Role, template_version

PROMPTS = Path(__file__).parents[1] / "prompts"


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
    return _messages(
        "write.txt",
        instruction=fence(item["instruction"], "instruction"),
        reference=fence(item["reference"], "reference"),
    )


def draft_baseline(item: dict) -> str:
    return json.dumps({"neutral": " ".join(item["instruction"].split())}, ensure_ascii=False)


def draft_skeleton(item: dict) -> str:
    instruction = " ".join(item["instruction"].split())
    return json.dumps({"neutral": skeleton(instruction) or instruction}, ensure_ascii=False)


def write_baseline(item: dict) -> str:
    return json.dumps({"article": " ".join(item["instruction"].split())}, ensure_ascii=False)


DRAFT = Role(
    "draft",
    template_version(PROMPTS / "draft.txt"),
    draft_input,
    _one_field("neutral"),
    draft_baseline,
    one_field_schema("neutral"),
)
WRITE = Role(
    "write",
    template_version(PROMPTS / "write.txt"),
    write_input,
    _one_field("article"),
    write_baseline,
    one_field_schema("article"),
)


def draft_role(baseline: str) -> Role:
    """DRAFT whose no-model answer has the form of the neutral texts S-SFT trained on
    (`neutralize.baseline`): a skeleton model is given a skeleton at inference too."""
    return replace(DRAFT, baseline=draft_skeleton) if baseline == "skeleton" else DRAFT
