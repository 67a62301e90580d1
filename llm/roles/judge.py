"""Principle-guided judge and reflection (from "Igniting Creative Writing in Small Language Models").

The judge scores one candidate against each principle in prompts/principles.yaml (1-5, with a
reason); the reflection pass sees the best and the worst candidate with the judge's reasons and
may overturn the verdict, but only with a stated reason (an overturn without one is an invalid
answer, asked again, then recorded as a failure).

The extractive baseline measures instead of reading: style = character 3-gram cosine to the
reference, faithful = share of the neutral text's content words used, no_invented_facts = numbers
and names found in no input, fluency = repeated word 4-grams. Its reflection never overturns.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path

import yaml

from llm.answers import fence, json_object, read_template
from llm.roles.correct import unsupported_facts
from llm.types import Role, template_version

PROMPTS = Path(__file__).parents[1] / "prompts"
PRINCIPLES_FILE = PROMPTS / "principles.yaml"
PRINCIPLES = {p["id"]: p["text"] for p in yaml.safe_load(PRINCIPLES_FILE.read_text())}
_PRINCIPLES_HASH = hashlib.sha256(PRINCIPLES_FILE.read_bytes()).hexdigest()[:8]


def _facts_fields(item: dict) -> dict:
    return {
        "summary": fence(item["summary"], "facts"),
        "neutral": fence(item["neutral"], "facts"),
        "reference": fence(item["reference"], "reference"),
    }


def judge_input(item: dict) -> list[dict]:
    system, user = read_template(PROMPTS / "judge.txt")
    listed = "\n".join(f"- {pid}: {text}" for pid, text in PRINCIPLES.items())
    system = system.format(principles=listed, ids=", ".join(PRINCIPLES))
    body = user.format(**_facts_fields(item), candidate=fence(item["candidate"], "article"))
    return [{"role": "system", "content": system}, {"role": "user", "content": body}]


def judge_output(text: str) -> dict:
    """{principle: {score, reason}} for exactly the listed principles, plus their mean as `total`."""
    value = json_object(text)
    if set(value) != set(PRINCIPLES):
        raise ValueError(f"principles {sorted(value)}, expected exactly {sorted(PRINCIPLES)}")
    for pid, verdict in value.items():
        if not isinstance(verdict, dict) or set(verdict) != {"score", "reason"}:
            raise ValueError(f"{pid} must be an object with score and reason")
        score = verdict["score"]
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValueError(f"{pid}.score={score!r}; must be an integer from 1 to 5")
        if not isinstance(verdict["reason"], str) or not verdict["reason"].strip():
            raise ValueError(f"{pid}.reason must be a non-empty string")
    scores = {pid: value[pid]["score"] for pid in PRINCIPLES}
    return {
        "scores": scores,
        "reasons": {pid: value[pid]["reason"].strip() for pid in PRINCIPLES},
        "total": sum(scores.values()) / len(scores),
    }


def _grams(text: str, n: int = 3) -> Counter:
    text = " ".join(text.lower().split())
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(v * b[k] for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def judge_baseline(item: dict) -> str:
    text = item["candidate"]
    words = text.lower().split()
    style = _cosine(_grams(text), _grams(item["reference"]))
    content = {w for w in re.findall(r"[a-z]{5,}", item["neutral"].lower())}
    used = len(content & set(re.findall(r"[a-z]{5,}", text.lower()))) / len(content) if content else 0.0
    invented = unsupported_facts(text, [item["summary"], item["neutral"]])
    fours = [tuple(words[i : i + 4]) for i in range(len(words) - 3)]
    repeated = 1 - len(set(fours)) / len(fours) if fours else 1.0
    verdict = {
        "style": (1 + round(4 * min(1.0, style / 0.8)), f"character 3-gram cosine to the reference {style:.2f}"),
        "faithful": (1 + round(4 * used), f"uses {used:.0%} of the neutral text's content words"),
        "no_invented_facts": (
            max(1, 5 - len(invented)),
            f"{len(invented)} number(s)/name(s) in no input: {', '.join(invented[:5]) or 'none'}",
        ),
        "fluency": (max(1, 5 - round(8 * repeated)), f"{repeated:.0%} of word 4-grams repeated"),
    }
    return json.dumps({pid: {"score": s, "reason": r} for pid, (s, r) in verdict.items()})


def reflect_input(item: dict) -> list[dict]:
    system, user = read_template(PROMPTS / "reflect.txt")
    a, b = item["best"], item["worst"]
    body = user.format(
        **_facts_fields(item),
        candidate_a=fence(a["candidate"], "article"),
        score_a=f"{a['total']:.2f}",
        reasons_a=json.dumps(a["reasons"]),
        candidate_b=fence(b["candidate"], "article"),
        score_b=f"{b['total']:.2f}",
        reasons_b=json.dumps(b["reasons"]),
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": body}]


def reflect_output(text: str) -> dict:
    value = json_object(text)
    if set(value) != {"overturn", "reason"}:
        raise ValueError(f"fields {sorted(value)}, expected exactly ['overturn', 'reason']")
    if not isinstance(value["overturn"], bool) or not isinstance(value["reason"], str):
        raise ValueError("overturn must be true or false and reason a string")
    if value["overturn"] and not value["reason"].strip():
        raise ValueError("overturning a verdict needs a reason")
    return {"overturn": value["overturn"], "reason": value["reason"].strip()}


def reflect_baseline(item: dict) -> str:
    return json.dumps({"overturn": False, "reason": ""})


JUDGE = Role(
    "judge",
    f"{template_version(PROMPTS / 'judge.txt')}+principles@{_PRINCIPLES_HASH}",
    judge_input,
    judge_output,
    judge_baseline,
)
REFLECT = Role("reflect", template_version(PROMPTS / "reflect.txt"), reflect_input, reflect_output, reflect_baseline)
