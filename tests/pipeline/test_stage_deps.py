"""Every stage's DVC deps cover every project module its code imports, so `dvc status` never
calls a dataset current after the code that shaped it changed.

The closure starts at the stage module (`sag train-filter` -> pipeline/train_filter.py) and follows
every `import` of a project package, at module level or inside a function, by reading the source.
"""

import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("curation", "pipeline", "training", "eval")


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
    return {name for name in found if name.split(".")[0] in PACKAGES and module_file(name)}


def closure(start: Path) -> set[Path]:
    seen, todo = set(), [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [module_file(name) for name in imported_modules(path)]
    return {p.relative_to(REPO) for p in seen if p.name != "__init__.py"}


def stages():
    for name, stage in yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"].items():
        command = stage.get("cmd") or stage["do"]["cmd"]
        deps = stage.get("deps") or stage["do"]["deps"]
        yield name, command.split()[1].replace("-", "_"), deps


@pytest.mark.parametrize("stage, module, deps", list(stages()), ids=[s[0] for s in stages()])
def test_deps_cover_the_import_closure(stage, module, deps):
    start = REPO / "pipeline" / f"{module}.py"
    assert start.exists(), f"stage {stage}: no pipeline/{module}.py"
    covered = [Path(d) for d in deps]
    missing = sorted(str(f) for f in closure(start) if not any(f == d or d in f.parents for d in covered))
    assert missing == [], f"stage {stage} imports modules its deps do not list: {missing}"


def test_the_closure_follows_imports_inside_functions():
    files = closure(REPO / "pipeline" / "train_filter.py")
    assert Path("curation/style_filter.py") in files and Path("pipeline/params.py") in files
