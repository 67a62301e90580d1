"""Read one section of params.yaml and validate it at the edge into a library dataclass."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

import yaml

from common.errors import InputError


def load_section(name: str, path: Path = Path("params.yaml")) -> dict:
    if not path.exists():
        raise InputError(f"params file {str(path)!r} does not exist")
    if not path.is_file():
        raise InputError(f"params file {str(path)!r} is not a file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise InputError(f"{path} is not valid YAML{line}: {getattr(exc, 'problem', None) or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} must be a mapping of sections (ingest:, curate:, ...)")
    section = data.get(name)
    if not isinstance(section, dict):
        raise InputError(f"{path} has no '{name}:' section")
    return section


def use_compute(path: Path = Path("params.yaml")) -> str:
    """The `compute` section made this process's device policy (every model stage calls it first)."""
    from common.device import ComputeParams, configure
    from common.executor import ExecutorParams

    return configure(build(ComputeParams, "compute", path, shared_with=(ExecutorParams,)))


def use_executor(path: Path = Path("params.yaml")):
    """The `compute` keys that say how a sharded stage's tasks run (common/executor.py)."""
    from common.device import ComputeParams
    from common.executor import ExecutorParams

    return build(ExecutorParams, "compute", path, shared_with=(ComputeParams,))


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
    check_types(cls, name, section)
    try:
        return cls.from_dict(section) if hasattr(cls, "from_dict") else cls(**section)
    except TypeError as exc:
        raise InputError(f"{name}: {exc}") from None


_NAMES = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a mapping",
}


def _expected(value, hint) -> str | None:
    """What `value` should have been for the type `hint`, or None when it fits."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        wrong = [_expected(value, a) for a in args]
        return None if None in wrong else " or ".join(w for w in wrong if w)
    if hint is type(None):
        return None if value is None else "null"
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            return "a list"
        element = args[0] if args else None
        bad = [_expected(v, element) for v in value] if element not in (None, Ellipsis) else []
        return next((f"a list of {b.removeprefix('a ').removeprefix('an ')}s" for b in bad if b), None)
    if dataclasses.is_dataclass(hint):
        return None if isinstance(value, dict) else "a mapping"
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:  # YAML's true is not 1
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif hint in (str, list, dict):
        ok = isinstance(value, hint)
    else:
        return None  # a type this check does not know: the dataclass validates it
    return None if ok else _NAMES[hint]


def check_types(cls, name: str, section: dict) -> None:
    """Refuse a value of the wrong type the same way in every section: `true` for a count, a string
    where a list of patterns belongs (it would be split into characters), a number for a URL."""
    hints = typing.get_type_hints(cls)
    for key, value in section.items():
        expected = _expected(value, hints.get(key))
        if expected:
            raise InputError(f"{name}.{key}={value!r}; must be {expected}")
