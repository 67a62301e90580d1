"""Inverse generation (SAG step 3): for a target article, a neutral rewrite that keeps the facts but
drops the style (ROLE, asked per chunk of the article), and one summary of its key facts (SUMMARIZE,
asked once per article: a summary per chunk was about 30% of a small model's generated tokens).

The roles are pure: `format_input` renders the versioned template with the text's fact checklist
(llm/fact_inventory.py), the parsers accept exactly one JSON object with the role's non-empty
string field, and the no-model baselines answer without a model (`neutralize.baseline`):
`skeleton` (default) is the article's content skeleton (llm/skeleton.py: facts and content words,
no voice), `extractive` the article less emoticons, slang markers and unusual punctuation (nearly a
copy); both summarise with the sentences richest in numbers and names. `ADD_FACTS` asks again,
in the same conversation, for sentences stating the facts the first answer left out
(llm/faithful_rewrite.py). `roles(baseline)` gives the pair whose baseline is the one asked for.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from common.errors import InputError
from llm.answers import fence, json_object, one_field_schema, read_template
from llm.skeleton import skeleton
from llm.types import Role, template_version

TEMPLATE = Path(__file__).parents[1] / "prompts" / "neutralize.txt"
SUMMARY_TEMPLATE = Path(__file__).parents[1] / "prompts" / "summarize.txt"


def format_input(item: dict) -> list[dict]:
    """The fixed system part first (the server's prompt cache reuses it), then the post and its checklist."""
    system, user = read_template(TEMPLATE)
    body = fence(item["text"], "post")
    title = fence(" ".join((item.get("title") or "").split()), "post")  # untrusted too, on one line
    checklist = fence(" | ".join(item.get("facts") or ()) or "(none)", "post")
    content = user.format(title=title, text=body, facts=checklist)
    return [{"role": "system", "content": system}, {"role": "user", "content": content}]


def format_summary(item: dict) -> list[dict]:
    """The whole article (title and text), no checklist: a summary states the key facts only."""
    system, user = read_template(SUMMARY_TEMPLATE)
    title = fence(" ".join((item.get("title") or "").split()), "post")
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user.format(title=title, text=fence(item["text"], "post"))},
    ]


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
    """Exactly one JSON object with the non-empty string field neutral; else ValueError."""
    return _strict(text, ("neutral",))


def parse_summary(text: str) -> dict:
    return _strict(text, ("summary",))


def parse_addition(text: str) -> dict:
    return _strict(text, ("sentences",))


_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_EMOTICON = re.compile(r"(?<!\w)[:;=8][-o^']?[)(\]\[dDpP/\\|*]+(?!\w)|<3|\^_*\^")
_SLANG = re.compile(
    r"\b(lol|rofl|lmao|imho|imo|afaik|iirc|btw|fwiw|heh+|hehe+|haha+|gah|ugh|wtf|omg)\b[,.!]?\s*", re.IGNORECASE
)
_REPEATED_PUNCT = re.compile(r"([!?,])\1+")  # "!!!" -> "!"; an ellipsis stays
_DECORATION = re.compile(r"[*_~#=]{2,}|[\U0001F000-\U0001FAFF\u2600-\u27BF]")


def _without_markers(text: str) -> str:
    text = " ".join(text.split())
    neutral = _DECORATION.sub("", _SLANG.sub("", _EMOTICON.sub("", text)))
    return " ".join(_REPEATED_PUNCT.sub(r"\1", neutral).split())


def extractive_answer(item: dict) -> str:
    """The article less emoticons, slang markers and decoration (nearly a copy)."""
    return json.dumps({"neutral": _without_markers(item["text"]) or " ".join(item["text"].split())}, ensure_ascii=False)


def extractive_summary(item: dict) -> str:
    """The three sentences richest in numbers and names, in the article's order."""
    neutral = _without_markers(item["text"])
    sentences = [s for s in _SENTENCE.split(neutral) if s]

    def facts(sentence: str) -> int:  # digits and capitalised words not at the start
        return len(re.findall(r"\d+", sentence)) + len(re.findall(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+", sentence))

    ranked = sorted(range(len(sentences)), key=lambda i: (-facts(sentences[i]), i))[:3]
    summary = " ".join(sentences[i] for i in sorted(ranked)) or neutral[:300] or " ".join(item["text"].split())
    return json.dumps({"summary": summary}, ensure_ascii=False)


def skeleton_answer(item: dict) -> str:
    """The article's content skeleton."""
    # An article of function words only has no skeleton: its extractive summary stands in (never empty).
    neutral = skeleton(item["text"]) or json.loads(extractive_summary(item))["summary"]
    return json.dumps({"neutral": neutral}, ensure_ascii=False)


ROLE = Role(
    name="neutralize",
    version=template_version(TEMPLATE),
    format_input=format_input,
    parse_output=parse_output,
    baseline=extractive_answer,
    schema=one_field_schema("neutral"),
)
# The same backend (role `neutralize`), asked once per whole article; every baseline summarises alike.
SUMMARIZE = Role(
    name="neutralize",
    version=template_version(SUMMARY_TEMPLATE),
    format_input=format_summary,
    parse_output=parse_summary,
    baseline=extractive_summary,
    schema=one_field_schema("summary"),
)


def extractive_addition(item: dict) -> str:
    """The baseline's sentences for missing facts: the post's own sentences that hold them."""
    held = [s for s in _SENTENCE.split(" ".join(item["text"].split())) if any(f in s for f in item["missing"])]
    return json.dumps({"sentences": " ".join(held) or " ".join(item["missing"])}, ensure_ascii=False)


# The same role (same backend and params) asked again for the facts its answer left out.
ADD_FACTS = Role(
    name="neutralize",
    version=f"{ROLE.version}+add",
    format_input=format_addition,
    parse_output=parse_addition,
    baseline=extractive_addition,
    schema=one_field_schema("sentences"),
)


def skeleton_addition(item: dict) -> str:
    """The skeleton's sentences for missing facts: the skeleton of the post's sentences that hold them."""
    held = json.loads(extractive_addition(item))["sentences"]
    return json.dumps({"sentences": skeleton(held) or held}, ensure_ascii=False)


BASELINES = ("skeleton", "extractive")


def baseline_answer(baseline: str, item: dict) -> dict:
    """{summary, neutral} that this no-model baseline gives a whole article."""
    return json.loads(extractive_summary(item)) | json.loads(roles(baseline)[0].baseline(item))


def roles(baseline: str) -> tuple[Role, Role]:
    """(the rewrite role, its ADD_FACTS) answering with this no-model baseline under the extractive
    backend; a model backend ignores the baseline (the cache keys it by the baseline's code)."""
    if baseline == "extractive":
        return ROLE, ADD_FACTS
    if baseline == "skeleton":
        return replace(ROLE, baseline=skeleton_answer), replace(ADD_FACTS, baseline=skeleton_addition)
    raise InputError(f"neutralize.baseline={baseline!r}; allowed: {', '.join(BASELINES)}")
