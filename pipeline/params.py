"""Read one section of params.yaml and validate it at the edge into a library dataclass."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from common.errors import InputError


def load_section(name: str, path: Path = Path("params.yaml")) -> dict:
    if not path.exists():
        raise InputError(f"params file {str(path)!r} does not exist")
    data = yaml.safe_load(path.read_text()) or {}
    section = data.get(name)
    if not isinstance(section, dict):
        raise InputError(f"{path} has no '{name}:' section")
    return section


def build(cls, name: str, path: Path = Path("params.yaml"), shared_with: tuple = ()):
    """`cls.from_dict(section)` (or `cls(**section)`), refusing keys the dataclass does not know.

    A section that serves several stages (`filter`) lists the other stages' dataclasses in
    `shared_with`: each stage takes its own keys, and a key none of them knows is still an error."""
    section = load_section(name, path)
    own = {f.name for f in dataclasses.fields(cls)}
    known = own.union(*({f.name for f in dataclasses.fields(c)} for c in shared_with))
    unknown = sorted(set(section) - known)
    if unknown:
        raise InputError(f"{name}: unknown param(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    section = {k: v for k, v in section.items() if k in own}
    try:
        return cls.from_dict(section) if hasattr(cls, "from_dict") else cls(**section)
    except TypeError as exc:
        raise InputError(f"{name}: {exc}") from None
