"""The reference ablation (SAG Table 7): the S-SFT model given the author's own earlier post as the
style reference, another user's post (shuffled), or none, on the same test targets. Each other arm
is compared with the own reference by paired bootstrap, and one sentence says what is and is not
significant, so the report never leaves a reader to guess from overlapping numbers."""

from __future__ import annotations

import numpy as np

from eval.bootstrap import paired_difference

ARMS = {"own": "sft", "shuffled": "sft_shuffled", "none": "sft_noref"}  # reference -> evaluate system
KEYS = {"rougeL": "ROUGE-L", "bleu": "BLEU", "style_sim": "style similarity"}  # per-output scores compared


def reference_ablation(rows_by_system: dict[str, list[dict]], resamples: int, seed: int) -> dict | None:
    """Means per arm and `arm - own` differences over the targets every arm wrote for; None when an
    arm was not evaluated (evaluate.systems lacks it)."""
    if any(not rows_by_system.get(system) for system in ARMS.values()):
        return None
    by_target = {arm: {r["target_post_id"]: r for r in rows_by_system[system]} for arm, system in ARMS.items()}
    shared = sorted(set.intersection(*(set(rows) for rows in by_target.values())))
    if not shared:
        return None

    def scores(arm: str, key: str) -> list[float]:
        return [by_target[arm][t][key] for t in shared]

    means = {arm: {key: round(float(np.mean(scores(arm, key))), 4) for key in KEYS} for arm in ARMS}
    differences = {
        arm: {key: paired_difference(scores("own", key), scores(arm, key), resamples, seed) for key in KEYS}
        for arm in ARMS
        if arm != "own"
    }
    return {"targets": len(shared), "means": means, "differences": differences, "summary": summary(differences)}


def summary(differences: dict) -> str:
    """One sentence per arm: which scores differ significantly from the own reference, and which do not."""
    sentences = []
    for arm, scores in differences.items():
        what = "a shuffled reference (another user's post)" if arm == "shuffled" else "no reference"
        moved = [
            f"{'raises' if d['diff'] > 0 else 'lowers'} {KEYS[key]} by {abs(d['diff']):.3g} "
            f"[{d['low']:.3g}, {d['high']:.3g}]"
            for key, d in scores.items()
            if d["significant"]
        ]
        still = [KEYS[key] for key, d in scores.items() if not d["significant"]]
        parts = []
        if moved:
            parts.append(", ".join(moved))
        if still:
            parts.append(f"leaves {' and '.join(still)} within noise (95% interval includes 0)")
        sentences.append(f"Compared with the author's own reference, {what} {'; it '.join(parts)}.")
    return " ".join(sentences)
