"""Helpers every LLM role shares: its versioned template, and strict parsing of a JSON answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

# Where a sentence ends: after its end mark, or at a content skeleton's " | " (llm/skeleton.py).
SENTENCE = re.compile(r"(?<=[.!?])\s+|\s+\|\s+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_NAME = re.compile(r"\b[A-Z][a-zA-Z]+")


def read_template(path: Path) -> tuple[str, str]:
    """(system, user) from a template file with `[system]` and `[user]` parts."""
    system, user = path.read_text().split("[user]\n", 1)
    return system.removeprefix("[system]\n").strip(), user


def fence(text: str, tag: str) -> str:
    """Untrusted text inside <tag>…</tag>: break every spelling of the delimiters (`</POST >`,
    `</post\n>`, `<post x>`) so the data cannot close or reopen its own frame."""
    closing = re.sub(rf"</\s*({tag})\b", r"</ \1", text, flags=re.IGNORECASE)
    return re.sub(rf"<\s*({tag})\b", r"< \1", closing, flags=re.IGNORECASE)


def json_body(text: str) -> tuple[str, str | None]:
    """The JSON part of an answer and what was stripped around it: None, "code_fence" (```json … ```),
    or "prose" (words before or after the object, as small models write "Here is the JSON: {…}")."""
    body = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)\s*```", body, re.DOTALL)
    if fenced:
        return fenced.group(1), "code_fence"
    start, end = body.find("{"), body.rfind("}")
    if start > 0 or (start >= 0 and end < len(body) - 1):
        return body[start : end + 1], "prose"
    return body, None


def _no_duplicate_keys(pairs: list[tuple]) -> dict:
    keys = [k for k, _ in pairs]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ValueError(f"duplicate key(s) {duplicated}")
    return dict(pairs)


def one_field_schema(name: str) -> dict:
    """The JSON schema of an answer that is exactly one non-empty string field."""
    return {
        "type": "object",
        "properties": {name: {"type": "string", "minLength": 1}},
        "required": [name],
        "additionalProperties": False,
    }


def json_object(text: str) -> dict:
    """Exactly one JSON object, no key twice (a fence or prose around it tolerated: see json_body);
    else ValueError saying what was wrong."""
    body, _ = json_body(text)
    try:
        value = json.loads(body, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, dict):
        raise ValueError(f"a JSON {type(value).__name__}, not an object")
    return value


def facts(text: str) -> list[str]:
    """What a text states that could be invented: numbers, and capitalised words not opening a sentence."""
    found = []
    for sentence in SENTENCE.split(text.strip()):
        found += _NUMBER.findall(sentence)
        _, _, rest = sentence.partition(" ")
        found += _NAME.findall(rest)
    return found
