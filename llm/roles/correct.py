"""C-DPO correction (SAG step 5): the LLM fixes the hallucinated parts of an article the S-SFT model
wrote, keeps its style, and adds facts the article left out, so that "chosen" is not merely the
shorter text (the paper's guard against reward hacking by length).

The extractive baseline (no model) does what a deterministic checker can: it drops sentences that
state a number or name found in none of the inputs, drops repeated sentences, and appends sentences
of the neutral text until the article is as long as before. It fixes nothing within a sentence.
"""

from __future__ import annotations

import json
from pathlib import Path

from llm.answers import SENTENCE, facts, fence, json_object, read_template
from llm.types import Role, template_version

TEMPLATE = Path(__file__).parents[1] / "prompts" / "correct.txt"


def format_input(item: dict) -> list[dict]:
    system, user = read_template(TEMPLATE)
    fields = {
        "summary": fence(item["summary"], "facts"),
        "neutral": fence(item["neutral"], "facts"),
        "reference": fence(item["reference"], "reference"),
        "generated": fence(item["generated"], "article"),
    }
    return [{"role": "system", "content": system}, {"role": "user", "content": user.format(**fields)}]


def parse_output(text: str) -> dict:
    value = json_object(text)
    if set(value) != {"corrected", "fixes"}:
        raise ValueError(f"fields {sorted(value)}, expected exactly ['corrected', 'fixes']")
    if not isinstance(value["corrected"], str) or not value["corrected"].strip():
        raise ValueError("corrected must be a non-empty string")
    if not isinstance(value["fixes"], list) or not all(isinstance(f, str) for f in value["fixes"]):
        raise ValueError("fixes must be a list of strings")
    return {"corrected": value["corrected"].strip(), "fixes": value["fixes"]}


def unsupported_facts(text: str, sources: list[str]) -> list[str]:
    """Numbers and names in `text` that occur in none of `sources` (case-insensitive)."""
    known = " ".join(sources).lower()
    return [f for f in dict.fromkeys(facts(text)) if f.lower() not in known]


def extractive_answer(item: dict) -> str:
    sources = [item["summary"], item["neutral"], item["reference"]]
    kept, fixes, seen = [], [], set()
    for sentence in (s for s in SENTENCE.split(" ".join(item["generated"].split())) if s):
        bad = unsupported_facts(sentence, sources)
        if bad:
            fixes.append(f"removed a sentence stating {', '.join(bad[:3])}, found in no input")
        elif sentence.lower() in seen:
            fixes.append("removed a repeated sentence")
        else:
            kept.append(sentence)
            seen.add(sentence.lower())
    target = len(item["generated"].split())
    for sentence in (s for s in SENTENCE.split(" ".join(item["neutral"].split())) if s):
        if sum(len(k.split()) for k in kept) >= target:
            break
        if sentence.lower() not in seen:
            kept.append(sentence)
            seen.add(sentence.lower())
            fixes.append("added a sentence of the neutral content")
    corrected = " ".join(kept) or item["neutral"]
    return json.dumps({"corrected": corrected, "fixes": fixes}, ensure_ascii=False)


ROLE = Role(
    name="correct",
    version=template_version(TEMPLATE),
    format_input=format_input,
    parse_output=parse_output,
    baseline=extractive_answer,
)
