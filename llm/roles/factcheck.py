"""Hallucination judge for evaluation (the SAG paper's factual and faithful rates), plus the
deterministic check every backend gets: numbers and names in the output found in no input.

The judge answers per output {"faithful": {hallucinated, reason}, "factual": {hallucinated, reason}};
`factual.hallucinated` may be null ("cannot tell"), and rates are taken over the outputs it judged.
The extractive baseline answers `faithful` from the deterministic check and `factual` with null:
without a model there is no world knowledge to judge with, and a 0% rate would be a lie.
"""

from __future__ import annotations

import json
from pathlib import Path

from llm.answers import fence, json_object, read_template
from llm.roles.correct import unsupported_facts
from llm.types import Role, template_version

TEMPLATE = Path(__file__).parents[1] / "prompts" / "factcheck.txt"
QUESTIONS = ("faithful", "factual")


def sources(item: dict) -> list[str]:
    """Every input the system saw: instruction, neutral content and reference."""
    return [item["instruction"], item.get("neutral") or "", item.get("reference") or ""]


def format_input(item: dict) -> list[dict]:
    system, user = read_template(TEMPLATE)
    body = user.format(
        instruction=fence(item["instruction"], "facts"),
        neutral=fence(item.get("neutral") or "", "facts"),
        reference=fence(item.get("reference") or "", "reference"),
        output=fence(item["output"], "article"),
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": body}]


def parse_output(text: str) -> dict:
    """{question: {"hallucinated": bool | None, "reason": str}}; `faithful` must be true or false."""
    value = json_object(text)
    if set(value) != set(QUESTIONS):
        raise ValueError(f"fields {sorted(value)}, expected exactly {sorted(QUESTIONS)}")
    out = {}
    for question in QUESTIONS:
        verdict = value[question]
        if not isinstance(verdict, dict) or set(verdict) != {"hallucinated", "reason"}:
            raise ValueError(f"{question} must be an object with hallucinated and reason")
        flag = verdict["hallucinated"]
        if not (isinstance(flag, bool) or (flag is None and question == "factual")):
            allowed = "true, false or null" if question == "factual" else "true or false"
            raise ValueError(f"{question}.hallucinated={flag!r}; must be {allowed}")
        if not isinstance(verdict["reason"], str) or not verdict["reason"].strip():
            raise ValueError(f"{question}.reason must be a non-empty string")
        out[question] = {"hallucinated": flag, "reason": verdict["reason"].strip()}
    return out


def extractive_answer(item: dict) -> str:
    bad = unsupported_facts(item["output"], sources(item))
    faithful = {
        "hallucinated": bool(bad),
        "reason": f"not in the facts: {', '.join(bad[:5])}" if bad else "every number and name is in the facts",
    }
    factual = {"hallucinated": None, "reason": "not judged: the extractive backend has no world knowledge"}
    return json.dumps({"faithful": faithful, "factual": factual}, ensure_ascii=False)


ROLE = Role("factcheck", template_version(TEMPLATE), format_input, parse_output, extractive_answer)
