"""`evaluate` stage: every system writes for the same test-split targets; outputs and metrics.

    sag evaluate outputs/select/selected_pairs.parquet outputs/neutralize/neutral.parquet outputs/curate/articles.parquet models outputs/evaluate metrics/evaluate.json

`models` holds style_filter, sft, dpo, sft_vanilla and sft_tst (each from its stage).
out: eval_outputs.parquet  one row per (system, target): the inputs it saw, its output, its scores
     eval_failures.parquet LLM answers that never parsed
     llm_calls.parquet     the stage's LLM calls and cache hits
"""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.build_dpo import FAILURE_COLUMNS
from pipeline.outputs import read_table, require_model, write_metrics, write_table
from pipeline.params import build, load_section

PRODUCERS = {"sft": "sft", "dpo": "dpo", "sft_vanilla": "sft_ablation@vanilla", "sft_tst": "sft_ablation@tst"}


def _small_outputs(targets: list[dict], drafts: dict, systems: list[str], models: Path, base_model: Path, params,
                   data) -> dict:  # fmt: skip
    """Greedy outputs of every small-model system, loading each model once."""
    from eval.systems import SMALL, small_prompt
    from training.generate import Generator, SamplingParams

    sampling = SamplingParams(1, params.max_new_tokens, 0.0, 1.0, params.batch_size, params.seed)
    out = {}
    for key in dict.fromkeys(SMALL[s][0] for s in systems if s in SMALL):
        mine = [s for s in systems if SMALL.get(s, ("",))[0] == key]
        folder = base_model if key == "base" else require_model(models / key, PRODUCERS[key])
        jobs = [(s, t) for s in mine for t in targets if t["target_post_id"] in drafts]
        prompts = [small_prompt(t, s, drafts[t["target_post_id"]], data) for s, t in jobs]
        texts = Generator(folder)(prompts, sampling, desc=f"evaluate: {key}")
        for (s, t), prompt, text in zip(jobs, prompts, texts, strict=True):
            out[(s, t["target_post_id"])] = (prompt[0]["content"], text[0])
    return out


def not_enough_data(why: str, out_dir: Path, metrics_path: Path, **context) -> dict:
    """Empty outputs and metrics that say why: a threshold sweep still gets a row for this point."""
    import polars as pl

    write_table(pl.DataFrame(schema={"system": pl.String, "target_post_id": pl.String, "user_id": pl.String,
                                     "output": pl.String, "article": pl.String}), out_dir / "eval_outputs.parquet")  # fmt: skip
    write_table(pl.DataFrame(schema=dict.fromkeys(FAILURE_COLUMNS, pl.String)), out_dir / "eval_failures.parquet")
    write_table(pl.DataFrame(schema={"stage": pl.String, "input_id": pl.String}), out_dir / "llm_calls.parquet")
    metrics = {"not_enough_data": why, "systems": {}, "comparisons": {}, "targets": 0, "test_targets": 0,
               "authors": 0, "seconds": 0.0, **context}  # fmt: skip
    write_metrics(metrics, metrics_path)
    return metrics


def main(pairs_path: Path, neutral_path: Path, articles_path: Path, models: Path, out_dir: Path,
         metrics_path: Path, params_path: Path) -> dict:  # fmt: skip
    import numpy as np
    import polars as pl

    from curation.embeddings import encode, load_model, resolve_model
    from curation.errors import NotEnoughData
    from curation.style_scorer import require_embedder
    from eval import factcheck, scoring
    from eval.systems import SMALL, EvalParams, evaluation_targets
    from pipeline.neutralize import CACHE
    from training.collaborate import DRAFT, WRITE
    from training.llm import LLMParams, LLMRunner
    from training.llm_cache import LLMCache
    from training.model_store import plain_model_dir
    from training.sft_data import SFTDataParams

    start = time.perf_counter()
    params = build(EvalParams, "evaluate", params_path)
    llm = build(LLMParams, "llm", params_path)
    data = build(SFTDataParams, "build_sft", params_path)
    style = load_model(require_embedder(models / "style_filter"), "fp32")
    articles = read_table(articles_path, "curate")
    try:
        frame = evaluation_targets(
            read_table(pairs_path, "select"), read_table(neutral_path, "neutralize"), articles, params
        )
    except NotEnoughData as why:
        return not_enough_data(str(why), out_dir, metrics_path, backend=llm.backend, llm_model=llm.model,
                               small_model=load_section("sft", params_path)["model"], baseline=params.baseline)  # fmt: skip
    targets = frame.to_dicts()

    cache = LLMCache(CACHE)
    runner = LLMRunner(llm, cache, stage="evaluate")
    failures: list[dict] = []
    items = [t | {"id": t["target_post_id"], "key": t["target_post_id"]} for t in targets]
    drafts = {k: v["neutral"] for k, v in runner.outputs(DRAFT, items, failures).items()}
    written = runner.outputs(WRITE, items, failures) if "llm" in params.systems else {}
    generate_start = time.perf_counter()
    small_model = load_section("sft", params_path)["model"]
    base_model = plain_model_dir(small_model, "sft.model")
    small = _small_outputs(targets, drafts, params.systems, models, base_model, params, data)
    generate_seconds = time.perf_counter() - generate_start

    rows = []
    for t in targets:
        target = t["target_post_id"]
        for system in params.systems:
            if system == "llm" and target in written:
                prompt, output = WRITE.format_input(t | {"id": target})[-1]["content"], written[target]["article"]
            elif (system, target) in small:
                prompt, output = small[(system, target)]
            else:
                continue  # its draft or answer failed: recorded in eval_failures
            ref = SMALL.get(system, ("", "", "own"))[2]
            reference = {"own": t["reference"], "shuffled": t["shuffled_reference"], None: ""}[ref]
            rows.append({"system": system, "target_post_id": target, "user_id": t["user_id"],
                         "ref_post_id": t["ref_post_id"] if ref == "own" else None, "instruction": t["instruction"],
                         "neutral": drafts.get(target) if system != "llm" else None, "reference": reference,
                         "prompt": prompt, "output": output, "article": t["article"]})  # fmt: skip
    if params.judge:
        checks = runner.outputs(factcheck.ROLE, [r | {"id": f"{r['system']}/{r['target_post_id']}",
                                "key": (r["system"], r["target_post_id"])} for r in rows], failures)  # fmt: skip
    for r in rows:
        r |= scoring.text_scores(r["output"], r["article"], factcheck.sources(r))
        verdict = checks.get((r["system"], r["target_post_id"])) if params.judge else None
        for question in factcheck.QUESTIONS:
            r[f"{question}_hallucinated"] = verdict[question]["hallucinated"] if verdict else None
            r[f"{question}_reason"] = verdict[question]["reason"] if verdict else None
    calls = pl.DataFrame(cache.calls(runner.run_id), infer_schema_length=None)
    cache.close()

    # Style: every article of the evaluated authors, and every output, under the trained filter.
    users = sorted({t["user_id"] for t in targets})
    theirs = articles.filter(pl.col("user_id").is_in(users)).sort("post_id")
    profiles = scoring.AuthorProfiles(theirs["post_id"].to_list(), theirs["user_id"].to_list(),
                                      encode(style, theirs["text"].to_list()))  # fmt: skip
    semantic = load_model(resolve_model(load_section("filter", params_path)["base_model"]), "fp32")
    out_vectors = encode(style, [r["output"] for r in rows]) if rows else np.zeros((0, 1))
    for r, s in zip(rows, scoring.style_scores(out_vectors, [r["target_post_id"] for r in rows],
                                               [r["user_id"] for r in rows], profiles), strict=True):  # fmt: skip
        r |= s
    by_system = {s: [r for r in rows if r["system"] == s] for s in params.systems}
    metrics = {"systems": {}, "backend": llm.backend, "llm_model": llm.model,
               "small_model": small_model, "baseline": params.baseline, "test_targets": int(frame["test_targets"][0])
               if len(frame) else 0, "targets": len(targets), "authors": len(users)}  # fmt: skip
    for system, mine in by_system.items():
        if mine:
            metrics["systems"][system] = scoring.system_metrics(mine, encode(semantic, [r["output"] for r in mine]))
    # The real articles were encoded for the author profiles already: reuse those vectors.
    real = np.array([profiles.own[t["target_post_id"]][1] for t in targets]) if targets else np.zeros((0, 1))
    human = [{"output": t["article"]} | s for t, s in zip(targets, scoring.style_scores(
        real, [t["target_post_id"] for t in targets], [t["user_id"] for t in targets], profiles), strict=True)]  # fmt: skip
    if human:
        metrics["systems"]["human"] = scoring.system_metrics(human, encode(semantic, [t["article"] for t in targets]))
    metrics["comparisons"] = scoring.comparisons({s: m for s, m in by_system.items() if m}, params.baseline,
                                                 params.bootstrap, params.seed)  # fmt: skip
    metrics |= {"generate_seconds": round(generate_seconds, 1), "seconds": round(time.perf_counter() - start, 1),
                **runner.stats.as_dict()}  # fmt: skip

    write_table(pl.DataFrame(rows, infer_schema_length=None), out_dir / "eval_outputs.parquet")
    write_table(pl.DataFrame(failures, schema=dict.fromkeys(FAILURE_COLUMNS, pl.String)),
                out_dir / "eval_failures.parquet")  # fmt: skip
    write_table(calls, out_dir / "llm_calls.parquet")
    write_metrics(metrics, metrics_path)
    return metrics
