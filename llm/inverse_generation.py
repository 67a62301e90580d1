"""How good an inverse generation is (SAG step 3), per run, measured against the article itself:

  valid_json_rate  answers that parsed (exact keys, non-empty) / targets asked
  accepted_rate    answers that also passed verification (llm/faithful_rewrite.py) / targets asked
  facts_kept       share of the article's fact inventory (llm/fact_inventory.py) the neutral text states
  summary_facts_kept  the same for the summary (a few sentences: it keeps the key ones only), over
                   the accepted answers (only those are summarised)
  facts_invented   facts in summary or neutral the article does not state, per target
  copy_ratio       ROUGE-L F1 of neutral vs article: 1 = a copy, the inverse generation did nothing
  style_removed    the style filter's same-author probability of (reference, article) minus that of
                   (reference, neutral): how much of the author's style the rewrite took out
  meaning_coverage / meaning_support   llm/meaning_coverage.py

Every figure is over the answers that parsed, accepted or not (a rejected answer's facts count too).

Both no-model baselines (skeleton, extractive) are measured on the same targets in every run, so
they sit beside the model's (or the chosen baseline's) verified answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from common.errors import InputError
from llm.fact_inventory import invented, inventory, missing
from llm.roles.neutralize import BASELINES

SPLITS = ("train", "align", "test")


@dataclass(frozen=True)
class NeutralizeParams:
    # 0 = every selected target; else at most this many per split (train, align, test), a seeded
    # sample, so that S-SFT, DPO and the evaluation each still get targets (a slow local model).
    max_targets: int = 0
    seed: int = 13
    # A model backend rewrites articles in chunks of whole paragraphs of at most this many words
    # (the extractive baseline takes whole articles); 0 = whole articles.
    chunk_words: int = 80
    # How many times a model's rewrite still missing facts is asked for them (llm/faithful_rewrite.py).
    repairs: int = 2
    # The no-model neutral text (llm/roles/neutralize.py): skeleton or extractive.
    baseline: str = "skeleton"

    def __post_init__(self):
        if self.baseline not in BASELINES:
            raise InputError(f"neutralize.baseline={self.baseline!r}; allowed: {', '.join(BASELINES)}")
        for name in ("max_targets", "chunk_words", "repairs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"neutralize.{name}={value!r}; must be an integer >= 0")


def choose_targets(targets: pl.DataFrame, params: NeutralizeParams) -> pl.DataFrame:
    """`targets` (post_id, split, ...) capped per split as `params` says, in post_id order."""
    if not params.max_targets:
        return targets.sort("post_id")
    parts = []
    for split in SPLITS:
        mine = targets.filter(pl.col("split") == split).sort("post_id")
        parts.append(mine.sample(min(params.max_targets, len(mine)), seed=params.seed) if len(mine) else mine)
    return pl.concat(parts).sort("post_id")


def fact_scores(
    article: str, summary: str, neutral: str, title: str | None = None
) -> tuple[float | None, float | None, int]:
    """(share of the article's facts the neutral text keeps, the same for the summary, None when
    the article has none; facts invented by either: stated by neither the article nor its title)."""
    own = inventory(article)
    kept = 1 - len(missing(own, neutral)) / len(own) if own else None
    in_summary = 1 - len(missing(own, summary)) / len(own) if own else None
    return kept, in_summary, len({f.text for f in invented(summary + "\n" + neutral, article, title)})


def copy_ratios(pairs: list[tuple[str, str]]) -> list[float]:
    """ROUGE-L F1 of each (neutral, article): 1 = a copy."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"])
    return [scorer.score(article, neutral)["rougeL"].fmeasure for neutral, article in pairs]


class StyleProbe:
    """The trained style filter's same-author probability of (reference, text) pairs, loaded once."""

    def __init__(self, filter_dir: Path, scorer: str, precision: str):
        from style.filter import Embedders
        from style.scorer import StyleScorer

        self.model, self.scorer = StyleScorer.load(filter_dir), scorer
        self.embedders = Embedders.for_filter(filter_dir, self.model.meta, precision)

    def __call__(self, references: list[str], *texts: list[str]) -> list[np.ndarray]:
        """For each list of texts, the probability of each text with its reference (one embedding pass)."""
        from style.features import pair_features

        n = len(references)
        feats = self.embedders.features(references + [t for group in texts for t in group], self.model.tfidf)
        refs = np.arange(n)
        return [
            self.model.predict(self.scorer, pair_features(feats, refs + n * (k + 1), refs)) for k in range(len(texts))
        ]


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 4) if values else None


def inverse_metrics(rows: list[dict], asked: int, style: StyleProbe | None = None, meaning=None) -> dict:
    """Metrics over rows of {article, summary, neutral, reference, accepted}; `asked` = targets sent
    to the model; `meaning` a MeaningCoverage with its threshold chosen."""
    scores = [fact_scores(r["article"], r["summary"], r["neutral"], r.get("title")) for r in rows]
    accepted = sum(r.get("accepted", True) for r in rows)
    out = {
        "targets": len(rows),
        "valid_json_rate": round(len(rows) / asked, 4) if asked else None,
        "accepted_rate": round(accepted / asked, 4) if asked else None,
        "facts_kept": _mean(k for k, _, _ in scores),
        # a rejected rewrite is never summarised (its summary is empty): over the summarised ones
        "summary_facts_kept": _mean(k for (_, k, _), r in zip(scores, rows, strict=True) if r["summary"]),
        "facts_invented_per_target": _mean(i for _, _, i in scores),
        "targets_with_invented_facts": round(sum(i > 0 for _, _, i in scores) / len(rows), 4) if rows else None,
        "copy_ratio": _mean(copy_ratios([(r["neutral"], r["article"]) for r in rows])),
    }
    if meaning is not None and meaning.threshold is not None and rows:
        both = meaning.many([(r["article"], r["neutral"]) for r in rows])
        out |= {"meaning_coverage": _mean(c for c, _ in both), "meaning_support": _mean(s for _, s in both)}
    with_ref = [r for r in rows if r.get("reference")]
    if style and with_ref:
        refs = [r["reference"] for r in with_ref]
        article, neutral = style(refs, [r["article"] for r in with_ref], [r["neutral"] for r in with_ref])
        out |= {
            "style_article": round(float(article.mean()), 4),
            "style_neutral": round(float(neutral.mean()), 4),
            "style_removed": round(float((article - neutral).mean()), 4),
        }
    return out
