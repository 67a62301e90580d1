"""The real-model experiment's page: three runs that differ in their neutral input, compared on the
test targets every run evaluated, rendered in headless Chromium."""

import json

import polars as pl
import pytest

from common.errors import InputError
from eval.neutral_comparison import Run, common_targets, system_scores, write_comparison
from tests.browser import open_page

TARGETS = [f"t{i}" for i in range(8)]


def _run(folder, name: str, evaluated: list[str], rouge_shift: float, tokens: int) -> None:
    folder.mkdir(parents=True)
    quality = {"facts_kept": 0.9, "summary_facts_kept": 0.6, "copy_ratio": 0.5, "style_removed": 0.3}
    (folder / "neutralize.json").write_text(
        json.dumps(
            {
                "backend": "llamacpp" if name == "model" else "extractive",
                "model": name,
                "targets": 24,
                "neutralized": len(evaluated) * 3,
                "calls": 50,
                "tokens_out": tokens,
                "max_targets_per_split": 8,
                "quality": quality,
            }
        )
    )
    (folder / "evaluate.json").write_text(json.dumps({"targets": len(evaluated)}))
    pl.DataFrame(
        {
            "post_id": evaluated,
            "summary": f"{name} summary",
            "neutral": [f"{name} <b>neutral</b> of {t}" for t in evaluated],
        }
    ).write_parquet(folder / "neutral.parquet")
    rows = [
        {
            "system": system,
            "target_post_id": t,
            "rougeL": 20.0 + int(t[1:]) + (rouge_shift if system == "sft" else 0.0),
            "style_sim": 0.5,
            "unsupported_facts": 0,
        }
        for system in ("base", "sft")
        for t in evaluated
    ]
    pl.DataFrame(rows).write_parquet(folder / "eval_outputs.parquet")


@pytest.fixture
def runs(tmp_path):
    _run(tmp_path / "skeleton", "skeleton", TARGETS, 0.0, 0)
    _run(tmp_path / "extractive", "extractive", TARGETS, 5.0, 0)
    _run(tmp_path / "model", "model", TARGETS[::2], -1.0, 2400)  # a model verifies only some targets
    pl.DataFrame({"post_id": TARGETS, "text": [f"article {t} <script>x</script>" for t in TARGETS]}).write_parquet(
        tmp_path / "articles.parquet"
    )
    return [tmp_path / n for n in ("skeleton", "extractive", "model")]


def test_runs_are_compared_on_the_targets_every_run_evaluated(runs):
    loaded = [Run.read(f) for f in runs]
    assert common_targets(loaded) == ["t0", "t2", "t4", "t6"]
    (base, sft) = system_scores(loaded, common_targets(loaded), resamples=200)
    assert base["system"] == "base" and sft["n"] == 4
    extractive, model = sft["runs"][1]["diffs"]["rougeL"], sft["runs"][2]["diffs"]["rougeL"]
    assert extractive["diff"] == pytest.approx(5.0) and extractive["significant"]
    assert model["diff"] == pytest.approx(-1.0) and model["significant"]
    assert base["runs"][1]["diffs"]["rougeL"]["diff"] == 0 and not base["runs"][1]["diffs"]["rougeL"]["significant"]
    assert loaded[2].tokens_per_target() == 100.0


def test_the_page_shows_every_run_side_by_side_and_renders_in_chromium(runs, tmp_path):
    page = write_comparison(runs, tmp_path / "articles.parquet", tmp_path / "out" / "report.html")
    html = page.read_text()
    assert "<script>" not in html and "&lt;b&gt;neutral" in html  # texts are escaped, never markup
    assert "Systems on the 4 test targets every run evaluated" in html and "Only 4 test targets" in html
    assert html.count("<h3>Target ") == 3 and "model &lt;b&gt;neutral&lt;/b&gt; of t4" in html

    def inspect(page):
        return [page.locator("table").nth(i).locator("tr").count() for i in range(page.locator("table").count())]

    errors, requests, rows = open_page(page, inspect, tmp_path / "page.png")
    assert errors == [] and requests == [page.as_uri()]
    # neutral measures (header, asked/verified, 6 measures, calls, tokens), systems, differences, 3 examples
    assert rows == [10, 3, 3, 2, 2, 2]
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_a_run_folder_missing_a_file_is_one_clear_error(runs, tmp_path):
    (runs[2] / "eval_outputs.parquet").unlink()
    with pytest.raises(InputError, match="model lacks eval_outputs.parquet"):
        write_comparison(runs, tmp_path / "articles.parquet", tmp_path / "r.html")
    with pytest.raises(InputError, match="at least two run folders"):
        write_comparison(runs[:1], tmp_path / "articles.parquet", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()
