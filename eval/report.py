"""`sag report`: one self-contained HTML page (no scripts, no network) a person can read.

It shows the run's labels (backend, models, corpus version), every system's metrics, the paired
differences against the baseline with their 95% intervals, the plots `dvc.yaml` declares (drawn
here as inline SVG from the same files and fields `dvc plots show` uses), and side-by-side outputs.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import yaml
from jinja2 import Environment

COLUMNS = [  # (metrics key, heading, digits)
    ("rouge1", "ROUGE-1", 1),
    ("rouge2", "ROUGE-2", 1),
    ("rougeL", "ROUGE-L", 1),
    ("bleu4", "BLEU-4", 2),
    ("style_sim", "style sim.", 3),
    ("authorship_acc", "authorship acc.", 2),
    ("with_unsupported_facts", "with unsupported facts", 2),
    ("faithful_hallucination_rate", "faithful halluc.", 2),
    ("factual_hallucination_rate", "factual halluc.", 2),
    ("distinct_2", "distinct-2", 3),
    ("self_bleu", "self-BLEU", 1),
    ("pairwise_distance", "pairwise dist.", 3),
    ("words", "words", 0),
]
EXAMPLES = 3
ABLATION_ARMS = [
    ("own", "own (the author's earlier post)"),
    ("shuffled", "shuffled (another user's post)"),
    ("none", "none"),
]
ABLATION_KEYS = [("rougeL", "ROUGE-L"), ("bleu", "BLEU (per target)"), ("style_sim", "style sim.")]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SAG evaluation report</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}.sig{font-weight:bold;color:#05a}.note{background:#fff6d6;padding:.6em 1em}
.plots{display:flex;flex-wrap:wrap;gap:1em}.plots figure{margin:0;width:380px}
.ex{width:100%}.ex td{text-align:left;vertical-align:top;white-space:pre-wrap}code{background:#eee;padding:0 3px}
</style></head><body>
<h1>SAG evaluation report</h1>
{% if m.not_enough_data %}<p class="note"><b>Not enough data at this threshold.</b> {{ m.not_enough_data }}.
Lower <code>filter.threshold</code> (see the kept-pairs curve below) to evaluate.</p>{% endif %}
<p>Backend <code>{{ m.backend }}</code> (LLM <code>{{ m.llm_model }}</code>), small model <code>{{ m.small_model }}</code>,
corpus <code>{{ corpus }}</code>. {{ m.targets }} of {{ m.test_targets }} test-split targets
({{ m.authors }} authors never seen in training){% if m.targets < m.test_targets %}, a seeded sample{% endif %}.
Evaluation took {{ m.seconds }} s.</p>
{% if m.llm_roles %}<p>Who wrote what: {% for role, writer in m.llm_roles.items() %}{{ role }} by <code>{{ writer }}</code>{% if not loop.last %}, {% endif %}{% endfor %}
(the instruction is the <code>neutralize</code> stage's summary: see <code>metrics/neutralize.json</code>).</p>{% endif %}
{% if m.backend == "extractive" and (m.llm_roles or {}).values() | select("ne", "extractive: extractive-v1") | list | length == 0 %}<p class="note">The LLM backend is <b>extractive</b>: no language model wrote the
drafts, the "LLM only" outputs, or the hallucination verdicts. The draft is the instruction's {% if m.neutral_baseline == "skeleton" %}content
skeleton (as the neutral texts the small models trained on), the LLM-only output its own sentences{% else %}own sentences, and so is
the LLM-only output{% endif %}, and <i>factual</i> hallucination is not judged (no world knowledge). Plug in an OpenAI-compatible
endpoint (<code>llm.backend=openai</code>) for the paper's setting.</p>{% endif %}
<h2>Systems</h2>
<table><tr><th>system</th><th>n</th>{% for _, h, _ in columns %}<th>{{ h }}</th>{% endfor %}</tr>
{% for name, s in systems %}<tr><td>{{ name }}</td><td>{{ s.n }}</td>
{% for key, _, digits in columns %}<td>{{ fmt(s.get(key), digits) }}</td>{% endfor %}</tr>
{% endfor %}</table>
<p>ROUGE and BLEU against the author's real article (x100, CJK tokenised by character). Style similarity: cosine to
the author's other posts under the trained style filter; authorship accuracy: the nearest of {{ m.authors }} author
centroids is the true author (chance {{ fmt(1 / m.authors if m.authors else none, 2) }}). "human" is the real
article, scored the same way.</p>
<h2>Differences against {{ baseline }} (paired bootstrap, 95% interval)</h2>
<table><tr><th>comparison</th>{% for key in paired %}<th>{{ key }}</th>{% endfor %}</tr>
{% for name, c in comparisons %}<tr><td>{{ name }}</td>
{% for key in paired %}{% set d = c[key] %}<td class="{{ 'sig' if d.significant else '' }}">{{ fmt(d['diff'], 2) }}
[{{ fmt(d.low, 2) }}, {{ fmt(d.high, 2) }}]</td>{% endfor %}</tr>{% endfor %}</table>
<p>Bold: the interval excludes 0 ({{ significant }} of {{ total }} differences).</p>
{% set ra = m.reference_ablation %}{% if ra %}<h2>Reference ablation (SAG Table 7)</h2>
<p>The S-SFT model given the author's own earlier post as the style reference, another user's post, or none,
on the same {{ ra.targets }} test targets; differences against the own reference (paired bootstrap, 95% interval).</p>
<table><tr><th>reference</th>{% for key, head in ablation_keys %}<th>{{ head }}</th>{% endfor %}{% for key, head in ablation_keys %}<th>{{ head }} vs own</th>{% endfor %}</tr>
{% for arm, label in ablation_arms %}<tr><td>{{ label }}</td>{% for key, _ in ablation_keys %}<td>{{ fmt(ra.means[arm][key], 3 if key == "style_sim" else 2) }}</td>{% endfor %}
{% for key, _ in ablation_keys %}{% if arm == "own" %}<td></td>{% else %}{% set d = ra.differences[arm][key] %}<td class="{{ 'sig' if d.significant else '' }}">{{ fmt(d['diff'], 3) }}
[{{ fmt(d.low, 3) }}, {{ fmt(d.high, 3) }}]</td>{% endif %}{% endfor %}</tr>{% endfor %}</table>
<p>{{ ra.summary }}</p>{% endif %}
<h2>Plots</h2><div class="plots">{% for title, svg in plots %}<figure aria-label="{{ title }}">{{ svg | safe }}</figure>{% endfor %}</div>
<h2>Examples</h2>
{% for ex in examples %}<h3>Target {{ ex.target }} (author {{ ex.user }})</h3>
<p><b>Instruction:</b> {{ ex.instruction }}</p>
<table class="ex"><tr><th>system</th><th>output</th></tr>
{% for system, text in ex.outputs %}<tr><td>{{ system }}</td><td>{{ text }}</td></tr>{% endfor %}</table>{% endfor %}
{% if neutral %}<h2>Neutral rewrites (inverse generation)</h2>
<p>What the model trains from: the <code>neutralize</code> stage's rewrite of an article, with the article's facts
(<code>llm/fact_inventory.py</code>) it kept and lost. Only verified rewrites are used; a failed one is shown to say why.</p>
{% for ex in neutral %}<h3>Article {{ ex.post_id }}: {{ "verified" if ex.accepted else "failed verification, not used" }}{% if ex.backend %} ({{ ex.backend }}){% endif %}</h3>
<table class="ex"><tr><th>article</th><th>neutral rewrite</th></tr><tr><td>{{ ex.article }}</td><td>{{ ex.neutral }}</td></tr></table>
<p><b>Kept</b> ({{ ex.kept | length }}): {{ ex.kept | join(" · ") or "none" }}<br><b>Lost</b> ({{ ex.lost | length }}): {{ ex.lost | join(" · ") or "none" }}
{% if ex.invented %}<br><b>Made up</b>: {{ ex.invented | join(" · ") }}{% endif %}</p>{% endfor %}{% endif %}
</body></html>
"""


def _order(system: str) -> tuple[int, str]:
    """Systems in the order of eval/systems.py (then anything else), the real articles last."""
    from eval.systems import SYSTEMS

    return (SYSTEMS.index(system) if system in SYSTEMS else len(SYSTEMS) + (system == "human"), system)


def _fmt(value, digits: int) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}"


def _svg(title: str, rows: list[dict], x: str, ys: list[str]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 2.8))
    xs = [float(r[x]) for r in rows]
    for y in ys:
        ax.plot(xs, [float(r[y]) for r in rows], label=y)
    ax.set_xlabel(x)
    ax.set_title(title, fontsize=9)
    if len(ys) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # inline: without the XML prolog and doctype


def dvc_plots(root: Path) -> list[tuple[str, str]]:
    """(title, inline SVG) for each plot dvc.yaml declares whose file exists."""
    spec = yaml.safe_load((root / "dvc.yaml").read_text()) if (root / "dvc.yaml").exists() else {}
    out = []
    for entry in spec.get("plots", []):
        ((path, props),) = entry.items()
        file = root / path
        if not file.exists() or not props:
            continue
        with file.open() as handle:
            rows = list(csv.DictReader(handle, delimiter="\t" if file.suffix == ".tsv" else ","))
        ys = props["y"] if isinstance(props["y"], list) else [props["y"]]
        if rows:
            out.append((props.get("title", path), _svg(props.get("title", path), rows, props["x"], ys)))
    return out


def write_report(
    metrics_path: Path, outputs_path: Path, out_path: Path, root: Path, neutral: list[dict] | None = None
) -> Path:
    """`neutral`: eval/neutral_examples.py's rewrites to show beside their articles (none: no section)."""
    import polars as pl

    from common.errors import InputError
    from eval.scoring import PAIRED

    for path, stage in ((metrics_path, "evaluate"), (outputs_path, "evaluate")):
        if not Path(path).exists():
            raise InputError(f"{path} does not exist; run the {stage} stage first (dvc repro {stage})")
    metrics = json.loads(Path(metrics_path).read_text())
    outputs = pl.read_parquet(outputs_path)
    lock = root / "data.dvc"
    corpus = yaml.safe_load(lock.read_text())["outs"][0]["md5"][:12] if lock.exists() else "unknown"
    examples = []
    if len(outputs):
        for target in outputs["target_post_id"].unique(maintain_order=True).head(EXAMPLES):
            mine = outputs.filter(pl.col("target_post_id") == target)
            first = mine.row(0, named=True)
            examples.append(
                {
                    "target": target,
                    "user": first["user_id"],
                    "instruction": first["instruction"],
                    "outputs": [
                        *mine.select("system", "output").iter_rows(),
                        ("human (real article)", first["article"]),
                    ],
                }
            )
    differences = [d for c in metrics.get("comparisons", {}).values() for d in c.values()]
    html = (
        Environment(autoescape=True)
        .from_string(PAGE)
        .render(
            m=metrics,
            systems=sorted(metrics["systems"].items(), key=lambda kv: _order(kv[0])),
            comparisons=sorted(metrics.get("comparisons", {}).items(), key=lambda kv: _order(kv[0].split(" - ")[0])),
            corpus=corpus,
            columns=COLUMNS,
            paired=PAIRED,
            ablation_arms=ABLATION_ARMS,
            ablation_keys=ABLATION_KEYS,
            fmt=_fmt,
            none=None,
            baseline=metrics.get("baseline", "the baseline"),
            significant=sum(d["significant"] for d in differences),
            total=len(differences),
            plots=dvc_plots(root),
            examples=examples,
            neutral=neutral or [],
        )
    )
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html)
    return out_path
