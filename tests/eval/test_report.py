"""The report renders in a real headless Chromium: no console errors, tables and plots present."""

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from eval.reference_ablation import reference_ablation
from eval.report import write_report
from tests.browser import open_page

SYSTEM = {
    "n": 2,
    "rouge1": 30.0,
    "rouge2": 10.0,
    "rougeL": 25.0,
    "bleu4": 5.0,
    "style_sim": 0.5,
    "authorship_acc": 0.5,
    "with_unsupported_facts": 0.5,
    "faithful_hallucination_rate": 0.5,
    "factual_hallucination_rate": None,
    "distinct_2": 0.9,
    "self_bleu": 3.0,
    "pairwise_distance": 0.4,
    "words": 80,
}
DIFF = {"diff": 1.5, "low": 0.5, "high": 2.5, "significant": True, "n": 2}


@pytest.fixture
def report(tmp_path) -> Path:
    metrics = {
        "backend": "extractive",
        "llm_model": "extractive-v1",
        "small_model": "tiny",
        "test_targets": 9,
        "baseline": "sft",
        "targets": 2,
        "authors": 2,
        "seconds": 1.0,
        "systems": {"sft": SYSTEM, "dpo": SYSTEM},
        "comparisons": {"dpo - sft": dict.fromkeys(["rougeL", "bleu", "style_sim", "unsupported_facts"], DIFF)},
        "reference_ablation": reference_ablation(
            {
                system: [
                    {"target_post_id": f"t{i}", "rougeL": 20.0 + i, "bleu": 4.0, "style_sim": 0.5 - shift}
                    for i in range(6)
                ]
                for system, shift in (("sft", 0.0), ("sft_shuffled", 0.1), ("sft_noref", 0.0))
            },
            200,
            0,
        ),
    }
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    pl.DataFrame(
        {
            "system": ["sft", "dpo"],
            "target_post_id": "t1",
            "user_id": "u",
            "instruction": "Write <b>it</b>",
            "output": ["one <script>alert(1)</script>", "two"],
            "article": "real",
        }
    ).write_parquet(tmp_path / "outputs.parquet")
    shutil.copy(Path(__file__).parents[2] / "dvc.yaml", tmp_path / "dvc.yaml")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "kept_vs_threshold.csv").write_text("threshold,pairs,targets\n0.1,10,5\n0.5,4,3\n")
    return write_report(tmp_path / "metrics.json", tmp_path / "outputs.parquet", tmp_path / "report.html", tmp_path)


def test_the_page_holds_every_section_and_escapes_outputs(report):
    html = report.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html  # an output can never run code in the report
    assert "2 of 9 test-split targets" in html and "a seeded sample" in html and "extractive" in html
    assert html.count("<svg") == 1 and "Kept pairs and targets vs filter.threshold" in html
    assert "1 of 4" not in html and "4 of 4 differences" in html
    ablation = html[html.index("Reference ablation (SAG Table 7)") :]
    assert "same 6 test targets" in ablation and "shuffled (another user&#39;s post)" in ablation
    assert '<td class="sig">-0.100' in ablation  # the shuffled reference's style loss, marked significant
    assert "lowers style similarity by 0.1" in ablation and "no reference leaves ROUGE-L" in ablation


def test_the_page_renders_in_headless_chromium_without_console_errors(report, tmp_path):
    def inspect(page):
        return page.locator("table").first.locator("tr").count(), page.locator("svg").first.bounding_box()

    errors, requests, (rows, svg_box) = open_page(report, inspect, tmp_path / "report.png")
    assert errors == []
    assert requests == [report.as_uri()]  # self-contained: nothing else is fetched
    assert rows == 3 and svg_box["width"] > 100 and svg_box["height"] > 100
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_a_threshold_that_leaves_no_targets_gives_a_page_that_says_so(tmp_path):
    from pipeline.evaluate import not_enough_data

    why = "1 test-split user(s) with a selected reference and a neutral text; the evaluation needs 2"
    not_enough_data(
        why,
        tmp_path / "out",
        tmp_path / "metrics.json",
        backend="extractive",
        llm_model="x",
        small_model="tiny",
        baseline="sft",
    )
    shutil.copy(Path(__file__).parents[2] / "dvc.yaml", tmp_path / "dvc.yaml")
    html = write_report(
        tmp_path / "metrics.json", tmp_path / "out" / "eval_outputs.parquet", tmp_path / "r.html", tmp_path
    ).read_text()
    assert "Not enough data at this threshold" in html and why in html
    assert pl.read_parquet(tmp_path / "out" / "eval_outputs.parquet").is_empty()


def test_neutral_rewrites_are_shown_beside_their_articles_with_facts_kept_and_lost(tmp_path):
    from eval.neutral_examples import neutral_examples
    from pipeline import report as stage

    article = "Dave paid $1,299 for a 40GB Maxtor at http://frys.com on 3 March."
    pl.DataFrame({"post_id": ["a", "b"], "text": [article, "They saw Jane and Bob in Dublin."]}).write_parquet(
        tmp_path / "articles.parquet"
    )
    (tmp_path / "n").mkdir()
    pl.DataFrame(
        {
            "post_id": ["a"],
            "neutral": ["The author paid $1,299 for a 40GB Maxtor disk at frys.com on 3 March."],
            "backend": "llamacpp",
            "model": "m",
        }
    ).write_parquet(tmp_path / "n" / "neutral.parquet")
    detail = json.dumps([{"chunk": 0, "missing": ["Dublin"], "invented": ["Paris"]}])
    pl.DataFrame(
        {
            "role": "neutralize",
            "input_id": ["b"],
            "reason": "facts_missing",
            "detail": detail,
            "response": "Bob met Paris.",
        }
    ).write_parquet(tmp_path / "n" / "neutral_failures.parquet")
    verified, failed = neutral_examples(tmp_path / "n", tmp_path / "articles.parquet")
    assert verified["accepted"] and verified["lost"] == [] and "$1,299" in verified["kept"]
    assert not failed["accepted"] and failed["lost"] == ["Jane", "Dublin"] and failed["invented"] == ["Paris"]
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"systems": {}, "targets": 0, "test_targets": 0}))
    pl.DataFrame(schema={"target_post_id": pl.String}).write_parquet(tmp_path / "outputs.parquet")
    stage.main(
        metrics, tmp_path / "outputs.parquet", tmp_path / "r.html", tmp_path / "n", tmp_path / "articles.parquet"
    )
    html = (tmp_path / "r.html").read_text()
    assert "failed verification, not used" in html and "<b>Lost</b> (2): Jane · Dublin" in html
    assert "<b>Made up</b>: Paris" in html
