"""The import graph of the tree: no circle, and no package imports one above it
(pipeline -> eval -> training -> llm -> style -> curation -> common)."""

from pathlib import Path

from tests.stage_deps import LAYERS, REPO, import_graph


def test_no_package_imports_a_higher_one():
    upward = [
        f"{a} imports {b}"
        for a, targets in import_graph().items()
        for b in targets
        if LAYERS.index(b.parts[0]) > LAYERS.index(a.parts[0])
    ]
    assert upward == []


def test_no_import_circle():
    graph, state, circles = import_graph(), {}, []

    def visit(node: Path, path: list[Path]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                circles.append(" -> ".join(map(str, path[path.index(nxt) :] + [nxt])))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert circles == []


def test_each_package_says_its_one_job_first():
    for layer in LAYERS:
        text = (REPO / layer / "__init__.py").read_text()
        assert text.startswith('"""') and len(text.split("\n")[0]) > 20, layer
    assert "trl" in (REPO / "training" / "__init__.py").read_text().lower()


def test_training_is_trl_only():
    """Generation and inference live elsewhere: every training module builds a TRL set or trains."""
    for path in sorted((REPO / "training").glob("*.py")):
        text = path.read_text()
        assert ".generate(" not in text, f"{path.name} generates text: that is common/generate.py's job"
