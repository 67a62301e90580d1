"""`build_dpo` stage: C-DPO pairs (LLM corrections of S-SFT samples) and judge pairs, DDPO-weighted.

    sag build-dpo outputs/select/selected_pairs.parquet outputs/neutralize/neutral.parquet outputs/curate/articles.parquet models/sft models/style_filter outputs/build_dpo metrics/build_dpo.json

out: dpo.parquet, judgements.parquet, dpo_failures.parquet (LLM answers that never parsed), llm_calls.parquet
Every LLM answer is cached in $SAG_CACHE/llm.sqlite, so a re-run pays only for new samples.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import read_table, require_model, write_metrics, write_table
from pipeline.params import build, load_section

FAILURE_COLUMNS = ("role", "input_id", "reason", "detail", "response")  # what LLMRunner.outputs records


def main(pairs_path: Path, neutral_path: Path, articles_path: Path, sft_model: Path, filter_model: Path,
         out_dir: Path, metrics_path: Path, params_path: Path) -> dict:  # fmt: skip
    import time

    import polars as pl

    from curation.embeddings import encode, load_model, resolve_model
    from curation.style_scorer import require_embedder
    from pipeline.neutralize import CACHE
    from training import correct, dpo_data, judge
    from training.dpo_data import DPODataParams
    from training.generate import Generator, SamplingParams
    from training.llm import LLMParams, LLMRunner
    from training.llm_cache import LLMCache
    from training.sft_data import SFTDataParams

    params = build(DPODataParams, "build_dpo", params_path)
    require_model(sft_model, "sft")
    filter_embedder = require_embedder(filter_model)
    llm = build(LLMParams, "llm", params_path)
    prompts = dpo_data.align_prompts(
        read_table(pairs_path, "select"), read_table(neutral_path, "neutralize"),
        read_table(articles_path, "curate"), build(SFTDataParams, "build_sft", params_path), params,
    )  # fmt: skip
    sampling = SamplingParams(params.samples, params.max_new_tokens, params.temperature, params.top_p,
                              params.batch_size, params.seed)  # fmt: skip
    start = time.perf_counter()
    candidates = Generator(sft_model)([p["prompt"] for p in prompts], sampling, desc="build_dpo: sample")
    generate_seconds = time.perf_counter() - start

    cache = LLMCache(CACHE)
    runner = LLMRunner(llm, cache, stage="build_dpo")
    failures: list[dict] = []
    items = [p | {"id": f"{p['target_post_id']}#{k}", "key": (p["target_post_id"], k), "generated": s, "candidate": s}
             for p, samples in zip(prompts, candidates, strict=True) for k, s in enumerate(samples)]  # fmt: skip
    corrections = runner.outputs(correct.ROLE, items, failures)
    verdicts, reflections, pairs = {}, {}, dpo_data.cdpo_pairs(prompts, candidates, corrections)
    if params.judge:
        verdicts = runner.outputs(judge.JUDGE, items, failures)
        if params.reflect:
            reviews = []
            for p, samples in zip(prompts, candidates, strict=True):
                scored = sorted((verdicts[(p["target_post_id"], k)]["total"], k) for k in range(len(samples))
                                if (p["target_post_id"], k) in verdicts)  # fmt: skip
                if len(scored) >= 2 and scored[0][0] != scored[-1][0]:
                    best, worst = ({"candidate": samples[k], **verdicts[(p["target_post_id"], k)]}
                                   for k in (scored[-1][1], scored[0][1]))  # fmt: skip
                    reviews.append(p | {"id": p["target_post_id"], "key": p["target_post_id"],
                                        "best": best, "worst": worst})  # fmt: skip
            reflections = runner.outputs(judge.REFLECT, reviews, failures)
        pairs += dpo_data.judge_pairs(prompts, candidates, verdicts, reflections)
    calls = pl.DataFrame(cache.calls(runner.run_id), infer_schema_length=None)
    cache.close()

    semantic = load_model(resolve_model(load_section("filter", params_path)["base_model"]), "fp32")
    style = load_model(filter_embedder, "fp32")

    def embed(texts: list[str]) -> list:  # DDPO's two spaces: the trained style filter and the base model
        return [encode(style, texts), encode(semantic, texts)]

    deviation = dpo_data.pair_deviations(pairs, prompts, candidates, embed)
    frame = dpo_data.with_weights(pairs, deviation) if pairs else pl.DataFrame()
    write_table(frame, out_dir / "dpo.parquet")
    write_table(dpo_data.judgements_frame(prompts, candidates, verdicts, reflections), out_dir / "judgements.parquet")
    write_table(
        pl.DataFrame(failures, schema=dict.fromkeys(FAILURE_COLUMNS, pl.String)), out_dir / "dpo_failures.parquet"
    )
    write_table(calls, out_dir / "llm_calls.parquet")
    metrics = {"prompts": len(prompts), "samples": sum(map(len, candidates)),
               "generate_seconds": round(generate_seconds, 1),
               "overturned": sum(r["overturn"] for r in reflections.values()), "backend": llm.backend,
               "model": llm.model, **runner.stats.as_dict()}  # fmt: skip
    for source in ("cdpo", "judge"):
        part = frame.filter(pl.col("source") == source) if len(frame) else frame
        metrics[source] = {"pairs": len(part)}
        if len(part):  # the paper's warning: DPO can learn "shorter is better" if chosen is shorter
            metrics[source] |= {
                "length_ratio": round(part["chosen_words"].sum() / max(part["rejected_words"].sum(), 1), 3),
                "chosen_shorter_share": round((part["chosen_words"] < part["rejected_words"]).mean(), 3),
                "mean_weight": round(part["weight"].mean(), 3),
            }
    write_metrics(metrics, metrics_path)
    return metrics
