"""`neutralize` stage: a neutral rewrite and a summary of every target article in selected_pairs.

    sag neutralize outputs/select/selected_pairs.parquet outputs/curate/articles.parquet outputs/neutralize metrics/neutralize.json --style-filter models/style_filter

out: neutral.parquet           post_id, summary, neutral, backend, model, template, facts (the
                               article's fact inventory, every one stated by neutral), chunks,
                               repaired (chunks asked again), dropped (sentences taken out)
     neutral_failures.parquet  role, input_id, reason, detail, response: answers that never parsed,
                               calls that failed, and rewrites that failed verification
                               (facts_missing / facts_invented / cut_off, the list in detail)
     llm_calls.parquet         this run's calls and cache hits (the full history stays in the cache file)
metrics: counts, and the inverse generation's quality (llm/inverse_generation.py) for the verified
     answers (a model's, or the `neutralize.baseline`'s) and, under `baselines`, for every no-model
     baseline (skeleton, extractive) on the same targets, meaning coverage included.

Every answer is verified against the article's fact inventory and asked again once naming what
is wrong (llm/faithful_rewrite.py); only verified rewrites reach neutral.parquet.

LLM answers are cached in $SAG_CACHE/llm.sqlite (default .cache/), outside DVC's outputs, so a
re-run, a killed run or a threshold experiment pays only for targets never seen before.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.outputs import read_table, require_filter, write_llm_tables, write_metrics, write_table
from pipeline.params import build, use_compute


def _best_references(pairs, articles):
    """Each target's best-scoring selected reference text (for the style measure)."""

    best = pairs.sort(["target_post_id", "score"], descending=[False, True]).unique("target_post_id", keep="first")
    texts = articles.select(ref_post_id="post_id", reference="text")
    return dict(best.join(texts, on="ref_post_id").select("target_post_id", "reference").iter_rows())


def main(
    pairs_path: Path,
    articles_path: Path,
    out_dir: Path,
    metrics_path: Path,
    params_path: Path,
    style_filter: Path | None = None,
) -> dict:
    from collections import Counter

    import polars as pl

    from llm.faithful_rewrite import faithful_rewrites
    from llm.inverse_generation import NeutralizeParams, StyleProbe, choose_targets, inverse_metrics
    from llm.meaning_coverage import MeaningCoverage
    from llm.roles.neutralize import BASELINES, ROLE, baseline_answer
    from llm.session import LLMSession
    from llm.types import LLMParams
    from pipeline.filter_params import FILTER_STAGES
    from style.pairs import ScoreParams

    llm = build(LLMParams, "llm", params_path)
    params = build(NeutralizeParams, "neutralize", params_path)
    use_compute(params_path)
    role_params = llm.for_role(ROLE.name)
    pairs = read_table(pairs_path, "select")
    targets = pairs.get_column("target_post_id").unique().sort()
    all_articles = read_table(articles_path, "curate")
    articles = choose_targets(all_articles.filter(pl.col("post_id").is_in(targets.implode())), params)
    items = [
        {"id": r["post_id"], "key": r["post_id"], "text": r["text"], "title": r["title"]}
        for r in articles.iter_rows(named=True)
    ]
    model = role_params.backend != "extractive"  # a baseline takes whole texts: no chunks, never cut off
    name = role_params.model if model else params.baseline  # what wrote the neutral texts
    with LLMSession(llm, "neutralize") as session:
        # A model rewrites prose only: header, link and closing lines go into the text framed as they are.
        answers, failures = faithful_rewrites(
            session,
            items,
            params.chunk_words if model else 0,
            model,
            frame=model,
            baseline=params.baseline,
            repairs=params.repairs,
        )
        session.failures.extend(failures)
        done = {k: v for k, v in answers.items() if v["accepted"]}
        columns = {"summary": pl.String, "neutral": pl.String, "facts": pl.List(pl.String)}
        columns |= dict.fromkeys(("chunks", "repaired", "dropped"), pl.Int32)
        neutral = pl.DataFrame(
            [{"post_id": k, **{c: v[c] for c in columns}} for k, v in done.items()],
            schema={"post_id": pl.String, **columns},
        ).with_columns(backend=pl.lit(role_params.backend), model=pl.lit(name), template=pl.lit(ROLE.version))
        write_table(neutral.sort("post_id"), out_dir / "neutral.parquet")
        write_llm_tables(session, out_dir, "neutral_failures.parquet")
    present = set(all_articles.get_column("post_id").to_list())
    references = _best_references(pairs, all_articles)
    text, title = {i["id"]: i["text"] for i in items}, {i["id"]: i["title"] for i in items}

    def rows(answers: dict) -> list[dict]:
        return [
            {"article": text[k], "title": title[k], "reference": references.get(k), **v} for k, v in answers.items()
        ]

    score = build(ScoreParams, "filter", params_path, shared_with=FILTER_STAGES)
    train = all_articles.filter(pl.col("split") == "train")  # the threshold is chosen on train users only
    meaning = MeaningCoverage(score.precision)
    threshold = meaning.choose_threshold(train["text"].to_list(), train["user_id"].to_list(), params.seed)

    style = None
    if style_filter is not None:
        style = StyleProbe(require_filter(style_filter), score.scorer, score.precision)
    # Every baseline's raw answer on the targets that were answered: side by side with the run's.
    answered = [i for i in items if i["id"] in answers]
    baselines = {}
    for baseline_name in BASELINES:
        baselines[baseline_name] = inverse_metrics(
            rows({i["id"]: baseline_answer(baseline_name, i) for i in answered}), len(answered), style, meaning
        )
    quality = inverse_metrics(rows(answers), len(items), style, meaning)
    metrics = {
        "selected_targets": len(targets),
        # A target whose article is not in `articles` (curated away since select ran) cannot be neutralized.
        "missing_articles": sum(t not in present for t in targets.to_list()),
        "targets": len(items),
        "neutralized": len(done),
        # targets not neutralized (one may have two failure rows: its repair call failed too); a
        # summary_* reason is a summary call that failed for a neutralized article
        "failed": len({f["input_id"] for f in session.failures} - set(done)),
        "failure_reasons": dict(sorted(Counter(f["reason"] for f in session.failures).items())),
        "repaired_chunks": sum(v["repaired"] for v in answers.values()),
        "dropped_sentences": sum(v["dropped"] for v in answers.values()),
        "chunks": sum(v["chunks"] for v in answers.values()),
        "verbatim_lines": sum(v["verbatim"] for v in answers.values()),
        "chunk_words": params.chunk_words if model else 0,
        "repairs": params.repairs,
        # chosen on train users; None: fewer than two train users, so coverage is not measured
        "meaning_threshold": None if threshold is None else round(threshold, 4),
        "max_targets_per_split": params.max_targets,
        "backend": role_params.backend,
        "model": name,
        "template": ROLE.version,
        "quality": quality,  # the answers this run verified (a baseline's: after the same checks)
        "baselines": baselines,
        **session.stats,
    }
    write_metrics(metrics, metrics_path)
    return metrics
