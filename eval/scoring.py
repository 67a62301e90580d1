"""From generated outputs to metrics: per output (the `eval_outputs` columns), per system (the DVC
metrics), and paired differences between systems with bootstrap intervals.

Style consistency uses the trained style filter: an output's cosine similarity to the centroid of
its author's other articles, and authorship retrieval (is the nearest author centroid, among every
evaluated author, the true one?). The target article itself is left out of every centroid. The
real articles ("human") are scored the same way, as the ceiling a system is read against.
"""

from __future__ import annotations

import numpy as np

from eval import text_metrics
from eval.bootstrap import paired_difference
from llm.roles.correct import unsupported_facts

PAIRED = ("rougeL", "bleu", "style_sim", "unsupported_facts")  # per-output scores compared between systems


def text_scores(output: str, article: str, sources: list[str]) -> dict:
    """ROUGE-1/2/L and BLEU-4 (x100) against the real article; facts found in no input."""
    rouge = text_metrics.rouge(output, article)
    return {
        **{k: round(100 * v, 2) for k, v in rouge.items()},
        "bleu": round(text_metrics.sentence_bleu(output, article), 2),
        "unsupported_facts": len(unsupported_facts(output, sources)),
        "words": len(output.split()),
    }


class AuthorProfiles:
    """Style-filter centroids of each evaluated author's articles, leaving one article out on demand."""

    def __init__(self, post_ids: list[str], users: list[str], vectors: np.ndarray):
        self.users = sorted(set(users))
        self.sums = {u: np.zeros(vectors.shape[1]) for u in self.users}
        self.counts = dict.fromkeys(self.users, 0)
        self.own = {}
        for post, user, vector in zip(post_ids, users, vectors, strict=True):
            self.sums[user] += vector
            self.counts[user] += 1
            self.own[post] = (user, vector)

    def similarities(self, vector: np.ndarray, leave_out: str) -> dict[str, float]:
        """Cosine similarity of `vector` to every author's centroid, without article `leave_out`."""
        out = {}
        for user in self.users:
            total, count = self.sums[user].copy(), self.counts[user]
            if leave_out in self.own and self.own[leave_out][0] == user:
                total, count = total - self.own[leave_out][1], count - 1
            if count:
                out[user] = float(vector @ total / max(np.linalg.norm(total), 1e-12))
        return out


def style_scores(vectors: np.ndarray, targets: list[str], users: list[str], profiles: AuthorProfiles) -> list[dict]:
    rows = []
    for vector, target, user in zip(vectors, targets, users, strict=True):
        sims = profiles.similarities(vector, target)
        rows.append(
            {"style_sim": round(sims.get(user, float("nan")), 4), "author_hit": int(max(sims, key=sims.get) == user)}
        )
    return rows


def system_metrics(rows: list[dict], semantic: np.ndarray) -> dict:
    """Aggregates over one system's outputs (rows carry text_scores + style_scores + the judge)."""
    outputs = [r["output"] for r in rows]

    def mean(key: str) -> float:
        return round(float(np.nanmean([r[key] for r in rows])), 4)

    out = {"n": len(rows)}
    if "rougeL" in rows[0]:
        out |= {k: mean(k) for k in ("rouge1", "rouge2", "rougeL")}
        out["bleu4"] = round(text_metrics.bleu(outputs, [r["article"] for r in rows]), 2)
        out["unsupported_facts"] = mean("unsupported_facts")
        out["with_unsupported_facts"] = round(float(np.mean([r["unsupported_facts"] > 0 for r in rows])), 4)
        out["words"] = mean("words")
    out |= {"style_sim": mean("style_sim"), "authorship_acc": mean("author_hit")}
    for question in ("faithful", "factual"):
        flags = [r.get(f"{question}_hallucinated") for r in rows]
        judged = [f for f in flags if f is not None]
        out[f"{question}_judged"] = len(judged)
        out[f"{question}_hallucination_rate"] = round(float(np.mean(judged)), 4) if judged else None
    out |= {
        "distinct_1": round(text_metrics.distinct_n(outputs, 1), 4),
        "distinct_2": round(text_metrics.distinct_n(outputs, 2), 4),
        "self_bleu": round(text_metrics.self_bleu(outputs), 2),
        "pairwise_distance": round(text_metrics.mean_pairwise_distance(semantic), 4),
    }
    return out


def comparisons(rows_by_system: dict[str, list[dict]], baseline: str, resamples: int, seed: int) -> dict:
    """system - baseline on every paired per-output score, over the targets both systems wrote for."""
    base = {r["target_post_id"]: r for r in rows_by_system[baseline]}
    out = {}
    for system, rows in rows_by_system.items():
        if system == baseline or "rougeL" not in rows[0]:
            continue
        shared = [r for r in rows if r["target_post_id"] in base]
        out[f"{system} - {baseline}"] = {
            key: paired_difference(
                [base[r["target_post_id"]][key] for r in shared], [r[key] for r in shared], resamples, seed
            )
            for key in PAIRED
        }
    return out
