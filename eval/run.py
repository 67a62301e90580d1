"""The `evaluate` job: every system writes for the same test-split targets, then each output is
scored (ROUGE/BLEU, unsupported facts, the fact-check judge, style under the trained filter) and
the systems are compared with paired bootstrap intervals."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from common.device import batch_size
from common.generate import Generator, SamplingParams
from eval import scoring
from eval.reference_ablation import reference_ablation
from eval.systems import SMALL, EvalParams, small_prompt
from llm.roles import factcheck
from llm.roles.collaborate import DRAFT, WRITE
from llm.session import LLMSession
from llm.types import Role
from style.embeddings import encode, load_model
from training.sft_data import SFTDataParams


def model_keys(systems: list[str]) -> list[str]:
    """The small models (`base`, `sft`, `dpo`, `sft_vanilla`, `sft_tst`) these systems need."""
    return list(dict.fromkeys(SMALL[s][0] for s in systems if s in SMALL))


def small_outputs(
    targets: list[dict],
    drafts: dict,
    systems: list[str],
    models: dict[str, Path],
    params: EvalParams,
    data: SFTDataParams,
) -> dict:
    """Greedy outputs of every small-model system by (system, target), loading each model once."""
    sampling = SamplingParams(1, params.max_new_tokens, 0.0, 1.0, batch_size("generate"), params.seed)
    out = {}
    for key in model_keys(systems):
        mine = [s for s in systems if SMALL.get(s, ("",))[0] == key]
        jobs = [(s, t) for s in mine for t in targets if t["target_post_id"] in drafts]
        prompts = [small_prompt(t, s, drafts[t["target_post_id"]], data) for s, t in jobs]
        texts = Generator(models[key])(prompts, sampling, desc=f"evaluate: {key}")
        for (s, t), prompt, text in zip(jobs, prompts, texts, strict=True):
            out[(s, t["target_post_id"])] = (prompt[0]["content"], text[0])
    return out


def system_rows(targets: list[dict], systems: list[str], drafts: dict, written: dict, small: dict) -> list[dict]:
    """One row per (system, target) that produced an output, with the inputs it saw."""
    rows = []
    for t in targets:
        target = t["target_post_id"]
        for system in systems:
            if system == "llm" and target in written:
                prompt, output = WRITE.format_input(t | {"id": target})[-1]["content"], written[target]["article"]
            elif (system, target) in small:
                prompt, output = small[(system, target)]
            else:
                continue  # its draft or answer failed: recorded in eval_failures
            ref = SMALL.get(system, ("", "", "own"))[2]
            reference = {"own": t["reference"], "shuffled": t["shuffled_reference"], None: ""}[ref]
            rows.append(
                {
                    "system": system,
                    "target_post_id": target,
                    "user_id": t["user_id"],
                    "ref_post_id": t["ref_post_id"] if ref == "own" else None,
                    "instruction": t["instruction"],
                    "neutral": drafts.get(target) if system != "llm" else None,
                    "reference": reference,
                    "prompt": prompt,
                    "output": output,
                    "article": t["article"],
                }
            )
    return rows


def add_fact_checks(rows: list[dict], session: LLMSession, judge: bool) -> None:
    """The deterministic scores always; the fact-check judge's verdicts when `judge` is on."""
    checks = {}
    if judge:
        items = [
            r | {"id": f"{r['system']}/{r['target_post_id']}", "key": (r["system"], r["target_post_id"])} for r in rows
        ]
        checks = session.outputs(factcheck.ROLE, items)
    for r in rows:
        r |= scoring.text_scores(r["output"], r["article"], factcheck.sources(r))
        verdict = checks.get((r["system"], r["target_post_id"]))
        for question in factcheck.QUESTIONS:
            r[f"{question}_hallucinated"] = verdict[question]["hallucinated"] if verdict else None
            r[f"{question}_reason"] = verdict[question]["reason"] if verdict else None


def evaluate(
    targets: list[dict],
    authors_articles,
    models: dict[str, Path],
    style_filter: Path,
    semantic: Path,
    params: EvalParams,
    data: SFTDataParams,
    session: LLMSession,
    draft: Role = DRAFT,
) -> tuple[list[dict], dict]:
    """(rows of eval_outputs, metrics). `authors_articles` holds every article of the targets' authors
    (post_id, user_id, text): their style profiles. `draft`: the DRAFT role (its no-model answer
    follows `neutralize.baseline`, llm/roles/collaborate.py)."""
    drafts = {
        k: v["neutral"]
        for k, v in session.outputs(
            draft, [t | {"id": t["target_post_id"], "key": t["target_post_id"]} for t in targets]
        ).items()
    }
    written = {}
    if "llm" in params.systems:
        written = session.outputs(WRITE, [t | {"id": t["target_post_id"], "key": t["target_post_id"]} for t in targets])
    start = time.perf_counter()
    small = small_outputs(targets, drafts, params.systems, models, params, data)
    generate_seconds = time.perf_counter() - start
    rows = system_rows(targets, params.systems, drafts, written, small)
    add_fact_checks(rows, session, params.judge)

    # Style: every article of the evaluated authors, and every output, under the trained filter.
    style = load_model(style_filter, "fp32")
    theirs = authors_articles.sort("post_id")
    profiles = scoring.AuthorProfiles(
        theirs["post_id"].to_list(), theirs["user_id"].to_list(), encode(style, theirs["text"].to_list())
    )
    out_vectors = encode(style, [r["output"] for r in rows]) if rows else np.zeros((0, 1))
    ids, users = [r["target_post_id"] for r in rows], [r["user_id"] for r in rows]
    for r, s in zip(rows, scoring.style_scores(out_vectors, ids, users, profiles), strict=True):
        r |= s
    semantic_model = load_model(semantic, "fp32")
    by_system = {s: [r for r in rows if r["system"] == s] for s in params.systems}
    metrics = {"systems": {}, "targets": len(targets), "authors": len({t["user_id"] for t in targets})}
    for system, mine in by_system.items():
        if mine:
            metrics["systems"][system] = scoring.system_metrics(
                mine, encode(semantic_model, [r["output"] for r in mine])
            )
    # The real articles were encoded for the author profiles already: reuse those vectors.
    real = np.array([profiles.own[t["target_post_id"]][1] for t in targets]) if targets else np.zeros((0, 1))
    ids, users = [t["target_post_id"] for t in targets], [t["user_id"] for t in targets]
    human = [
        {"output": t["article"]} | s
        for t, s in zip(targets, scoring.style_scores(real, ids, users, profiles), strict=True)
    ]
    if human:
        metrics["systems"]["human"] = scoring.system_metrics(
            human, encode(semantic_model, [t["article"] for t in targets])
        )
    metrics["comparisons"] = scoring.comparisons(
        {s: m for s, m in by_system.items() if m}, params.baseline, params.bootstrap, params.seed
    )
    metrics["reference_ablation"] = reference_ablation(by_system, params.bootstrap, params.seed)
    metrics["generate_seconds"] = round(generate_seconds, 1)
    return rows, metrics
