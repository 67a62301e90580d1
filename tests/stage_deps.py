"""The project's import graph, read from the source with `ast`, and each DVC stage's import closure.

    python -m tests.stage_deps --write    rewrite the .py deps of every stage in dvc.yaml

The closure starts at the stage module (`sag train-filter` -> pipeline/train_filter.py) and follows
every `import` of a project package, at module level or inside a function.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# Lower layers never import higher ones: pipeline -> eval -> training -> llm -> style -> curation -> common.
LAYERS = ("common", "curation", "style", "llm", "training", "eval", "pipeline")


def module_file(name: str) -> Path | None:
    path = REPO / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}  # `from pkg import module`
    return {name for name in found if name.split(".")[0] in LAYERS and module_file(name)}


def closure(start: Path) -> set[Path]:
    seen, todo = set(), [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [module_file(name) for name in imported_modules(path)]
    return {p.relative_to(REPO) for p in seen if p.name != "__init__.py"}


def uncovered(start: Path, deps: list[str]) -> list[str]:
    """The modules in `start`'s closure that no dep (a file, or a folder above it) covers."""
    covered = [Path(d) for d in deps]
    return sorted(str(f) for f in closure(start) if not any(f == d or d in f.parents for d in covered))


def project_modules() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (REPO / layer).rglob("*.py"))


def import_graph() -> dict[Path, set[Path]]:
    """Module file -> the project module files it imports (package __init__ files left out)."""
    graph = {}
    for path in project_modules():
        targets = {module_file(name) for name in imported_modules(path)}
        graph[path.relative_to(REPO)] = {t.relative_to(REPO) for t in targets if t.name != "__init__.py"} - {
            path.relative_to(REPO)
        }
    return graph


def stages():
    for name, stage in yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"].items():
        command = stage.get("cmd") or stage["do"]["cmd"]
        deps = stage.get("deps") or stage["do"]["deps"]
        yield name, command.split()[1].replace("-", "_"), deps


def rewrite_dvc_yaml(path: Path = REPO / "dvc.yaml") -> None:
    """Replace each stage's .py deps by its import closure, keeping every other line as it is."""
    modules = {name: module for name, module, _ in stages()}
    lines, out, stage, in_deps = path.read_text().splitlines(), [], None, False
    for line in lines:
        if m := re.match(r"^  (\w+):\s*(#.*)?$", line):
            stage = m.group(1)
        if re.match(r"^\s+deps:\s*$", line):
            in_deps, indent = True, None
            out.append(line)
            continue
        if in_deps:
            item = re.match(r"^(\s+)- (.+)$", line)
            if item:
                indent = item.group(1)
                if not item.group(2).endswith(".py"):
                    out.append(line)
                continue
            closure_files = sorted(closure(REPO / "pipeline" / f"{modules[stage]}.py"))
            out += [f"{indent}- {f}" for f in closure_files]
            in_deps = False
        out.append(line)
    path.write_text("\n".join(out) + "\n")


if __name__ == "__main__" and "--write" in sys.argv:
    rewrite_dvc_yaml()
