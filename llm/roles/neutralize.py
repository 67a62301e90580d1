"""Inverse generation (SAG step 3): for a target article, a summary holding every key fact and a
neutral rewrite that keeps the facts but drops the style.

The role is pure: `format_input` renders the versioned template with the text's fact checklist
(llm/fact_inventory.py), `parse_output` accepts exactly one JSON object with two non-empty strings,
and the no-model baselines answer without a model (`neutralize.baseline`): `skeleton` (default) is
the article's content skeleton (llm/skeleton.py: facts and content words, no voice), `extractive`
the article less emoticons, slang markers and unusual punctuation (nearly a copy); both summarise
with the first sentences richest in numbers and names. `ADD_FACTS` asks again once, in the same
conversation, for sentences stating the facts the first answer left out (llm/faithful_rewrite.py).
`roles(baseline)` gives the pair whose baseline is the one asked for.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from common.errors import InputError
from llm.answers import fence, json_object, read_template
from llm.skeleton import skeleton
from llm.types import Role, template_version

TEMPLATE = Path(__file__).parents[1] / "prompts" / "neutralize.txt"
FIELDS = ("summary", "neutral")
SCHEMA = {
    "type": "object",
    "properties": {name: {"type": "string", "minLength": 1} for name in FIELDS},
    "required": list(FIELDS),
    "additionalProperties": False,
}


def format_input(item: dict) -> list[dict]:
    """The fixed system part first (the server's prompt cache reuses it), then the post and its checklist."""
    system, user = read_template(TEMPLATE)
    body = fence(item["text"], "post")
    title = fence(" ".join((item.get("title") or "").split()), "post")  # untrusted too, on one line
    checklist = fence(" | ".join(item.get("facts") or ()) or "(none)", "post")
    content = user.format(title=title, text=body, facts=checklist)
    return [{"role": "system", "content": system}, {"role": "user", "content": content}]


def format_addition(item: dict) -> list[dict]:
    """The first conversation, its answer, and one request for sentences that state the facts
    `item["missing"]` names (a small model asked to rewrite everything again drops others)."""
    wanted = fence(" | ".join(item["missing"]), "post")
    return [
        *format_input(item),
        {"role": "assistant", "content": item["previous"]},
        {
            "role": "user",
            "content": f"Your neutral text left out these checklist facts: {wanted}. Write one to three plain "
            "sentences in the third person that say what the post says about them, each fact written exactly "
            'as the checklist spells it, nothing that is not in the post. Reply with {"sentences": "..."} only.',
        },
    ]


def _strict(text: str, fields: tuple[str, ...]) -> dict:
    """Exactly one JSON object with these non-empty string fields; else ValueError."""
    value = json_object(text)
    if set(value) != set(fields):
        raise ValueError(f"fields {sorted(value)}, expected exactly {list(fields)}")
    for name in fields:
        if not isinstance(value[name], str) or not value[name].strip():
            raise ValueError(f"{name} must be a non-empty string")
    return {name: value[name].strip() for name in fields}


def parse_output(text: str) -> dict:
    """Exactly one JSON object with non-empty string fields summary and neutral; else ValueError."""
    return _strict(text, FIELDS)


def parse_addition(text: str) -> dict:
    return _strict(text, ("sentences",))


_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_EMOTICON = re.compile(r"(?<!\w)[:;=8][-o^']?[)(\]\[dDpP/\\|*]+(?!\w)|<3|\^_*\^")
_SLANG = re.compile(
    r"\b(lol|rofl|lmao|imho|imo|afaik|iirc|btw|fwiw|heh+|hehe+|haha+|gah|ugh|wtf|omg)\b[,.!]?\s*", re.IGNORECASE
)
_REPEATED_PUNCT = re.compile(r"([!?,])\1+")  # "!!!" -> "!"; an ellipsis stays
_DECORATION = re.compile(r"[*_~#=]{2,}|[\U0001F000-\U0001FAFF\u2600-\u27BF]")


def extractive_answer(item: dict) -> str:
    text = " ".join(item["text"].split())
    neutral = _DECORATION.sub("", _SLANG.sub("", _EMOTICON.sub("", text)))
    neutral = _REPEATED_PUNCT.sub(r"\1", neutral)
    neutral = " ".join(neutral.split())
    sentences = [s for s in _SENTENCE.split(neutral) if s]

    def facts(sentence: str) -> int:  # digits and capitalised words not at the start
        return len(re.findall(r"\d+", sentence)) + len(re.findall(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+", sentence))

    ranked = sorted(range(len(sentences)), key=lambda i: (-facts(sentences[i]), i))[:3]
    summary = " ".join(sentences[i] for i in sorted(ranked)) or neutral[:300]
    return json.dumps({"summary": summary, "neutral": neutral or text}, ensure_ascii=False)


def skeleton_answer(item: dict) -> str:
    """The extractive summary, and the article's content skeleton as the neutral text."""
    summary = json.loads(extractive_answer(item))["summary"]
    # An article of function words only has no skeleton: its summary stands in (never empty).
    return json.dumps({"summary": summary, "neutral": skeleton(item["text"]) or summary}, ensure_ascii=False)


ROLE = Role(
    name="neutralize",
    version=template_version(TEMPLATE),
    format_input=format_input,
    parse_output=parse_output,
    baseline=extractive_answer,
    schema=SCHEMA,
)


def extractive_addition(item: dict) -> str:
    """The baseline's sentences for missing facts: the post's own sentences that hold them."""
    held = [s for s in _SENTENCE.split(" ".join(item["text"].split())) if any(f in s for f in item["missing"])]
    return json.dumps({"sentences": " ".join(held) or " ".join(item["missing"])}, ensure_ascii=False)


# The same role (same backend and params) asked once more, for the facts its answer left out.
ADD_FACTS = Role(
    name="neutralize",
    version=f"{ROLE.version}+add",
    format_input=format_addition,
    parse_output=parse_addition,
    baseline=extractive_addition,
    schema={
        "type": "object",
        "properties": {"sentences": {"type": "string", "minLength": 1}},
        "required": ["sentences"],
        "additionalProperties": False,
    },
)


def skeleton_addition(item: dict) -> str:
    """The skeleton's sentences for missing facts: the skeleton of the post's sentences that hold them."""
    held = json.loads(extractive_addition(item))["sentences"]
    return json.dumps({"sentences": skeleton(held) or held}, ensure_ascii=False)


BASELINES = ("skeleton", "extractive")


def roles(baseline: str) -> tuple[Role, Role]:
    """(the rewrite role, its ADD_FACTS) answering with this no-model baseline under the extractive
    backend; a model backend ignores the baseline (the cache keys it by the baseline's code)."""
    if baseline == "extractive":
        return ROLE, ADD_FACTS
    if baseline == "skeleton":
        return replace(ROLE, baseline=skeleton_answer), replace(ADD_FACTS, baseline=skeleton_addition)
    raise InputError(f"neutralize.baseline={baseline!r}; allowed: {', '.join(BASELINES)}")
