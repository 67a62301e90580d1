"""The real-model experiment's page (`make repro-llm`): the pipeline run once per neutral input (the
`skeleton` and `extractive` baselines and a real local model), side by side on the same test targets.

For each run: how its neutral texts measure (its neutralize metrics), what every system trained on
them scores on the test targets that every run evaluated (a paired bootstrap against the first
run), and the neutral texts of three of those targets beside their article. A run folder holds what
`make repro-llm` keeps of a run: RUN_FILES.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from jinja2 import Environment

from common.errors import InputError
from eval.bootstrap import paired_difference

RUN_FILES = ("neutralize.json", "evaluate.json", "neutral.parquet", "eval_outputs.parquet")
NEUTRAL_ROWS = [  # (neutralize.json key under quality, heading, digits)
    ("facts_kept", "facts kept", 3),
    ("summary_facts_kept", "facts kept by the summary", 3),
    ("facts_invented_per_target", "facts invented per target", 2),
    ("copy_ratio", "copy ratio (ROUGE-L to the article)", 3),
    ("style_removed", "style removed", 3),
    ("meaning_coverage", "meaning coverage", 3),
]
SCORES = [("rougeL", "ROUGE-L", 1), ("style_sim", "style sim.", 3), ("unsupported_facts", "unsupported facts", 2)]
PAIRED = ("rougeL", "style_sim")  # compared against the first run
EXAMPLES = 3


@dataclass(frozen=True)
class Run:
    name: str
    neutralize: dict
    evaluate: dict
    neutral: pl.DataFrame
    outputs: pl.DataFrame

    @classmethod
    def read(cls, folder: Path) -> Run:
        missing = [f for f in RUN_FILES if not (folder / f).exists()]
        if missing:
            raise InputError(
                f"{folder} lacks {', '.join(missing)}: a run folder is what `make repro-llm` keeps of a run"
            )
        return cls(
            folder.name,
            json.loads((folder / "neutralize.json").read_text()),
            json.loads((folder / "evaluate.json").read_text()),
            pl.read_parquet(folder / "neutral.parquet"),
            pl.read_parquet(folder / "eval_outputs.parquet"),
        )

    def tokens_per_target(self) -> float | None:
        n = self.neutralize.get("targets") or 0
        return round(self.neutralize.get("tokens_out", 0) / n, 1) if n else None


def common_targets(runs: list[Run]) -> list[str]:
    """Test targets every run evaluated (a model's run evaluates only the ones it verified)."""
    sets = [set(r.outputs["target_post_id"].to_list()) for r in runs]
    return sorted(set.intersection(*sets)) if sets else []


def system_scores(runs: list[Run], targets: list[str], resamples: int = 1000, seed: int = 0) -> list[dict]:
    """Per system (present in every run): each run's mean scores on `targets`, and each later run's
    paired difference against the first run's."""
    if not targets:
        return []
    keys = [k for k, _, _ in SCORES]
    out = []
    for system in sorted(set.intersection(*(set(r.outputs["system"].to_list()) for r in runs))):
        per_run = [
            run.outputs.filter((pl.col("system") == system) & pl.col("target_post_id").is_in(targets))
            .sort("target_post_id")
            .select(pl.col(keys).cast(pl.Float64))
            for run in runs
        ]
        if any(len(m) != len(targets) for m in per_run):
            continue  # a system that failed on some common target: no paired comparison
        first = per_run[0]
        cells = [
            {
                "run": run.name,
                "means": {k: mine[k].mean() for k in keys},
                "diffs": {
                    k: paired_difference(first[k].to_numpy(), mine[k].to_numpy(), resamples, seed)
                    for k in PAIRED
                    if run is not runs[0]
                },
            }
            for run, mine in zip(runs, per_run, strict=True)
        ]
        out.append({"system": system, "n": len(targets), "runs": cells})
    return out


def examples(runs: list[Run], targets: list[str], articles: pl.DataFrame, n: int = EXAMPLES) -> list[dict]:
    """The first `n` common targets: the article, and each run's summary and neutral text."""
    text = dict(articles.filter(pl.col("post_id").is_in(targets[:n])).select("post_id", "text").iter_rows())
    out = []
    for target in targets[:n]:
        rows = []
        for run in runs:
            mine = run.neutral.filter(pl.col("post_id") == target)
            row = mine.row(0, named=True) if len(mine) else {"summary": "", "neutral": ""}
            rows.append({"run": run.name, "summary": row["summary"], "neutral": row["neutral"]})
        out.append({"target": target, "article": text.get(target, ""), "runs": rows})
    return out


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SAG: three neutral inputs side by side</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}.sig{font-weight:bold;color:#05a}.note{background:#fff6d6;padding:.6em 1em}
.ex{width:100%}.ex td{text-align:left;vertical-align:top;white-space:pre-wrap}code{background:#eee;padding:0 3px}
</style></head><body>
<h1>Three neutral inputs, the same pipeline</h1>
<p>Each column is one run of every stage (<code>make repro-llm</code>), differing only in who wrote the neutral texts
S-SFT trains on: {% for r in runs %}<b>{{ r.name }}</b> ({{ r.neutralize.backend }}: <code>{{ r.neutralize.model }}</code>,
{{ r.neutralize.max_targets_per_split or "every" }} targets per split){% if not loop.last %}, {% endif %}{% endfor %}.</p>
{% if targets | length < 10 %}<p class="note">Only {{ targets | length }} test targets are common to every run: the
intervals below are wide, and a difference here is a hint, not a finding.</p>{% endif %}
<h2>The neutral texts (inverse generation)</h2>
<table><tr><th></th>{% for r in runs %}<th>{{ r.name }}</th>{% endfor %}</tr>
<tr><td>targets asked / verified</td>{% for r in runs %}<td>{{ r.neutralize.targets }} / {{ r.neutralize.neutralized }}</td>{% endfor %}</tr>
{% for key, head, digits in neutral_rows %}<tr><td>{{ head }}</td>{% for r in runs %}<td>{{ fmt(r.neutralize.quality.get(key), digits) }}</td>{% endfor %}</tr>
{% endfor %}<tr><td>calls not answered from the cache (a baseline's cost nothing)</td>{% for r in runs %}<td>{{ r.neutralize.calls }}</td>{% endfor %}</tr>
<tr><td>generated tokens per target</td>{% for r in runs %}<td>{{ fmt(r.tokens_per_target(), 1) }}</td>{% endfor %}</tr></table>
<p>Over every answer that parsed, verified or not; only verified texts are trained on. Style removed: the style filter's
same-author probability of (reference, article) minus that of (reference, neutral text).</p>
<h2>Systems on the {{ targets | length }} test targets every run evaluated</h2>
<table><tr><th>system</th>{% for r in runs %}{% for _, head, _ in scores %}<th>{{ r.name }}: {{ head }}</th>{% endfor %}{% endfor %}</tr>
{% for s in systems %}<tr><td>{{ s.system }}</td>{% for cell in s.runs %}{% for key, _, digits in scores %}<td>{{ fmt(cell.means[key], digits) }}</td>{% endfor %}{% endfor %}</tr>
{% endfor %}</table>
<p>A run's instruction is its own <code>neutralize</code> summary (a model's in a model run) and its test-time draft its own
<code>draft</code> role's, so a run differs in more than the training texts; without a model, <code>llm</code> returns the instruction.</p>
{% if systems %}<h3>Against {{ runs[0].name }} (paired bootstrap, 95% interval)</h3>
<table><tr><th>system</th>{% for r in runs[1:] %}<th>{{ r.name }}: ROUGE-L</th><th>{{ r.name }}: style sim.</th>{% endfor %}</tr>
{% for s in systems %}<tr><td>{{ s.system }}</td>{% for cell in s.runs[1:] %}{% for key in paired %}{% set d = cell.diffs[key] %}<td class="{{ 'sig' if d.significant else '' }}">{{ fmt(d['diff'], 3) }} [{{ fmt(d.low, 3) }}, {{ fmt(d.high, 3) }}]</td>{% endfor %}{% endfor %}</tr>
{% endfor %}</table><p>Bold: the interval excludes 0.</p>{% else %}<p class="note">No system has outputs for a common test target in every run.</p>{% endif %}
<h2>Neutral texts of {{ examples | length }} common test targets</h2>
{% for ex in examples %}<h3>Target {{ ex.target }}</h3>
<table class="ex"><tr><th>article</th>{% for r in ex.runs %}<th>{{ r.run }}</th>{% endfor %}</tr>
<tr><td>{{ ex.article }}</td>{% for r in ex.runs %}<td><b>Summary:</b> {{ r.summary }}

<b>Neutral:</b> {{ r.neutral }}</td>{% endfor %}</tr></table>{% endfor %}
</body></html>
"""


def _fmt(value, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def write_comparison(folders: list[Path], articles_path: Path, out_path: Path) -> Path:
    """Render the page for these run folders (the first is the one the others are compared with)."""
    if len(folders) < 2:
        raise InputError("give at least two run folders to compare")
    if not Path(articles_path).exists():
        raise InputError(f"{articles_path} does not exist; run the curate stage first")
    runs = [Run.read(Path(f)) for f in folders]
    targets = common_targets(runs)
    html = (
        Environment(autoescape=True)
        .from_string(PAGE)
        .render(
            runs=runs,
            targets=targets,
            neutral_rows=NEUTRAL_ROWS,
            scores=SCORES,
            paired=PAIRED,
            systems=system_scores(runs, targets),
            examples=examples(runs, targets, pl.read_parquet(articles_path, columns=["post_id", "text"])),
            fmt=_fmt,
        )
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html)
    return out_path
