"""S-SFT training examples (SAG step 4) and the paper's ablation sets, in TRL's conversational
prompt/completion format (the loss is computed on the completion, the author's article, only).

    sag:      summary S + neutral text N + style reference R -> article   (the paper's method)
    vanilla:  S + R -> article   (their Tab. 5)
    tst:      N + R -> article   (text style transfer, their Tab. 6)
    noref:    S + N -> article   (no reference)

Train-split users are trained on; align-split users' examples are written too (`split` = align),
only to measure held-out loss (they also serve C-DPO); test-split users never appear here.
Over-long inputs are cut on purpose, the style reference first, and every cut is counted.

in:  selected_pairs (user_id, ref_post_id, target_post_id), neutral (post_id, summary, neutral), articles
out: sft  variant, split, user_id, target_post_id, ref_post_id, prompt, completion, ref_truncated, input_truncated
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from common.errors import InputError

VARIANTS = {
    "sag": ("summary", "neutral", "reference"),
    "vanilla": ("summary", "reference"),
    "tst": ("neutral", "reference"),
    "noref": ("summary", "neutral"),
}
HEADINGS = {
    "summary": "Summary of the facts",
    "neutral": "The content, written neutrally",
    "reference": "An earlier post by the author",
}
INSTRUCTION = "Write the author's post. Keep every fact; write it the way the author writes."


@dataclass(frozen=True)
class SFTDataParams:
    variants: list = field(default_factory=lambda: list(VARIANTS))
    max_ref_words: int = 80  # the style reference is cut first
    max_input_words: int = 250  # then summary and neutral text, if the whole input is still longer

    def __post_init__(self):
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown or not self.variants:
            raise InputError(f"build_sft.variants={self.variants!r}; allowed: {', '.join(VARIANTS)}")
        for name in ("max_ref_words", "max_input_words"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 10:
                raise InputError(f"build_sft.{name}={getattr(self, name)!r}; must be an integer >= 10")


def _cut(text: str, words: int) -> tuple[str, bool]:
    parts = text.split()
    if len(parts) <= words:
        return text, False
    return " ".join(parts[:words]) + " ...", True


def render_prompt(fields: dict[str, str], variant: str, params: SFTDataParams) -> tuple[str, bool, bool]:
    """The user message for one example; whether the reference and the rest were cut."""
    parts = dict(fields)
    ref_cut = False
    if "reference" in VARIANTS[variant]:
        parts["reference"], ref_cut = _cut(parts["reference"], params.max_ref_words)
    budget = params.max_input_words - (len(parts["reference"].split()) if "reference" in VARIANTS[variant] else 0)
    summary_words = len(parts["summary"].split()) if "summary" in VARIANTS[variant] else 0
    input_cut = False
    if "neutral" in VARIANTS[variant]:  # the longest part: cut it before the summary
        parts["neutral"], input_cut = _cut(parts["neutral"], max(budget - summary_words, 10))
    if summary_words > budget:
        parts["summary"], _ = _cut(parts["summary"], max(budget, 10))
        input_cut = True
    sections = [f"### {HEADINGS[k]}\n{parts[k]}" for k in VARIANTS[variant]]
    return "\n\n".join([INSTRUCTION, *sections]), ref_cut, input_cut


def build_examples(pairs: pl.DataFrame, neutral: pl.DataFrame, articles: pl.DataFrame, params: SFTDataParams):
    """(sft frame, metrics). Targets without a neutral row are counted, never silently dropped."""
    for name, frame, columns in (
        ("selected_pairs", pairs, ("user_id", "ref_post_id", "target_post_id")),
        ("neutral", neutral, ("post_id", "summary", "neutral")),
        ("articles", articles, ("post_id", "text", "split")),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(f"{name} lacks column(s) {', '.join(missing)}")
    text = articles.select("post_id", "text", "split")
    joined = (
        pairs.select("user_id", "ref_post_id", "target_post_id")
        .join(text.rename({"post_id": "target_post_id", "text": "article"}), on="target_post_id")
        .join(text.select("post_id", reference="text").rename({"post_id": "ref_post_id"}), on="ref_post_id")
    )
    kept = joined.filter(pl.col("split").is_in(["train", "align"]))
    with_neutral = kept.join(
        neutral.select("post_id", "summary", "neutral"), left_on="target_post_id", right_on="post_id"
    )
    rows = []
    for row in with_neutral.sort("user_id", "target_post_id", "ref_post_id").iter_rows(named=True):
        for variant in params.variants:
            prompt, ref_cut, input_cut = render_prompt(row, variant, params)
            rows.append(
                {
                    "variant": variant,
                    "split": row["split"],
                    "user_id": row["user_id"],
                    "target_post_id": row["target_post_id"],
                    "ref_post_id": row["ref_post_id"],
                    "prompt": [{"role": "user", "content": prompt}],
                    "completion": [{"role": "assistant", "content": row["article"]}],
                    "ref_truncated": ref_cut,
                    "input_truncated": input_cut,
                }
            )
    frame = pl.DataFrame(rows) if rows else pl.DataFrame(schema={"variant": pl.String, "split": pl.String})

    def per_variant(split: str) -> dict:
        return dict(sorted(frame.filter(pl.col("split") == split).group_by("variant").len().iter_rows()))

    def count(table: pl.DataFrame, split: str) -> int:
        return int((table.get_column("split") == split).sum())

    metrics = {
        "pairs_in": len(pairs),
        "train_pairs": count(joined, "train"),
        "align_pairs": count(joined, "align"),
        "test_split_pairs": count(joined, "test"),  # never written: evaluation users stay out of training data
        "train_pairs_without_neutral": count(joined, "train") - count(with_neutral, "train"),
        "align_pairs_without_neutral": count(joined, "align") - count(with_neutral, "align"),
        "examples": per_variant("train"),
        "align_examples": per_variant("align"),  # held out: the sft stage measures loss on them
        "reference_truncated": int(frame.get_column("ref_truncated").sum()) if rows else 0,
        "input_truncated": int(frame.get_column("input_truncated").sum()) if rows else 0,
    }
    return frame, metrics
