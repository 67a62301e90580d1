"""Every stage's DVC deps cover every project module its code imports, so `dvc status` never calls
a dataset current after the code that shaped it changed (`python -m tests.stage_deps --write`
regenerates them)."""

from pathlib import Path

import pytest

from tests.stage_deps import REPO, closure, stages, uncovered


@pytest.mark.parametrize("stage, module, deps", list(stages()), ids=[s[0] for s in stages()])
def test_deps_cover_the_import_closure(stage, module, deps):
    start = REPO / "pipeline" / f"{module}.py"
    assert start.exists(), f"stage {stage}: no pipeline/{module}.py"
    missing = uncovered(start, deps)
    assert missing == [], f"stage {stage} imports modules its deps do not list: {missing}"


def test_a_module_missing_from_the_deps_is_caught():
    _, module, deps = next(s for s in stages() if s[0] == "train_filter")
    start = REPO / "pipeline" / f"{module}.py"
    assert uncovered(start, [d for d in deps if d != "style/head.py"]) == ["style/head.py"]
    assert uncovered(start, [d for d in deps if not d.startswith("curation/")] + ["curation"]) == []


@pytest.mark.parametrize("stage, module, deps", list(stages()), ids=[s[0] for s in stages()])
def test_every_listed_dependency_exists(stage, module, deps):
    assert [d for d in deps if not d.startswith(("data", "outputs/", "models/")) and not (REPO / d).exists()] == []


def test_the_closure_follows_imports_inside_functions():
    files = closure(REPO / "pipeline" / "train_filter.py")
    assert Path("style/embedder.py") in files and Path("pipeline/params.py") in files
