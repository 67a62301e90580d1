"""Helpers every LLM role shares: its versioned template, and strict parsing of a JSON answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_NAME = re.compile(r"\b[A-Z][a-zA-Z]+")


def read_template(path: Path) -> tuple[str, str]:
    """(system, user) from a template file with `[system]` and `[user]` parts."""
    system, user = path.read_text().split("[user]\n", 1)
    return system.removeprefix("[system]\n").strip(), user


def fence(text: str, tag: str) -> str:
    """Untrusted text inside <tag>…</tag>: break the delimiters so the data cannot close its own frame."""
    return text.replace(f"<{tag}>", f"< {tag}>").replace(f"</{tag}>", f"</ {tag}>")


def json_object(text: str) -> dict:
    """Exactly one JSON object (a ```json fence allowed); else ValueError saying what was wrong."""
    body = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", body, re.DOTALL)
    if fenced:
        body = fenced.group(1)
    try:
        value = json.loads(body)
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
