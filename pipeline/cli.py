"""The `sag` command: one subcommand per DVC stage, plus inspection commands.

Heavy libraries are imported inside the commands so that `sag --help` starts fast.
"""

from __future__ import annotations

import errno
import functools
import json
import sys
from pathlib import Path

import click

PARAMS = click.option(
    "--params",
    "params_path",
    type=click.Path(path_type=Path),
    default=Path("params.yaml"),
    show_default=True,
    help="params.yaml to read this stage's section from.",
)


def path_args(*names: str):
    """Positional path arguments, in order: the stage's inputs and outputs as dvc.yaml passes them."""

    def decorate(fn):
        for name in reversed(names):
            fn = click.argument(name, type=click.Path(path_type=Path))(fn)
        return fn

    return decorate


def user_errors(fn):
    """Report a user mistake as one line (`Error: ...`), never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from common.errors import InputError

        try:
            return fn(*args, **kwargs)
        except (InputError, FileNotFoundError) as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            raise click.ClickException(f"no space left on the device writing {exc.filename or 'an output'}") from None
        except Exception as exc:
            # Polars, Arrow and DuckDB report a full disk as their own errors, with the OS's words.
            if "No space left on device" not in str(exc):
                raise
            raise click.ClickException(
                f"no space left on the device ({type(exc).__name__}: {_first_line(exc)})"
            ) from None

    return wrapper


def _first_line(exc: Exception) -> str:
    return next((line.strip() for line in str(exc).splitlines() if "No space left" in line), str(exc)[:200])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """SAG toolkit: curate forum dumps, train a small style model with a large one, measure it.

    Stages run through DVC (`dvc repro`); each stage is also a subcommand here.
    """
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@main.command("fetch-data")
@click.argument("data_dir", type=click.Path(path_type=Path), default=Path("data"))
@user_errors
def fetch_data(data_dir: Path):
    """Fetch the default real corpus (SpamAssassin ham mail) into DATA_DIR.

    Example: sag fetch-data data && dvc status data.dvc
    """
    from curation.corpus import fetch_default_corpus

    target = fetch_default_corpus(data_dir)
    click.echo(f"wrote {sum(1 for p in target.rglob('*') if p.is_file())} messages to {target}")


@main.command()
@path_args("input_path", "out_dir", "metrics_path")
@PARAMS
@user_errors
def ingest(input_path: Path, out_dir: Path, metrics_path: Path, params_path: Path):
    """Read a dump (mail, JSONL, CSV, Parquet) into posts + quarantine.

    Example: sag ingest data outputs/ingest metrics/ingest.json
    """
    from pipeline import ingest as stage

    metrics = stage.main(input_path, out_dir, metrics_path, params_path)
    click.echo(f"ingest: read {metrics['read']}, accepted {metrics['accepted']}, quarantined {metrics['quarantined']}")
    for reason, n in metrics["quarantined_by_reason"].items():
        click.echo(f"  {reason}: {n}")


@main.command()
@path_args("posts_path", "out_dir", "metrics_path")
@PARAMS
@user_errors
def curate(posts_path: Path, out_dir: Path, metrics_path: Path, params_path: Path):
    """Normalise, filter and order posts per user in time; split users into train/align/test.

    Example: sag curate outputs/ingest/posts.parquet outputs/curate metrics/curate.json
    """
    from pipeline import curate as stage

    m = stage.main(posts_path, out_dir, metrics_path, params_path)
    click.echo(f"curate: {m['posts_in']} posts -> {m['articles']} articles from {m['users']} users")
    for split, counts in m["splits"].items():
        click.echo(f"  {split}: {counts['users']} users, {counts['articles']} articles")


@main.command("train-filter")
@path_args("articles_path", "model_out", "metrics_path", "live_dir", "curve_path")
@PARAMS
@user_errors
def train_filter(articles_path, model_out, metrics_path, live_dir, curve_path, params_path):
    """Train the style embedder and the calibrated scorers on train users; measure every scorer on test users.

    Example: sag train-filter outputs/curate/articles.parquet models/style_filter metrics/filter.json plots/filter plots/filter_reliability.csv
    """
    from pipeline import train_filter as stage
    from style.filter import MEASURED

    m = stage.main(articles_path, model_out, metrics_path, live_dir, curve_path, params_path)
    for name in MEASURED:
        click.echo(
            f"  {name:<10} AUC {m[name]['auc']:.3f} {m[name]['auc_ci95']}"
            f"  retrieval {m[name]['retrieval_accuracy']:.3f} {m[name]['retrieval_accuracy_ci95']}"
        )
    click.echo(f"  best: {m['best_scorer']}; fused model: {m['scorer_fit']['fused_model']}")


@main.command()
@path_args("articles_path", "model_dir", "pairs_path", "metrics_path", "plot_path")
@PARAMS
@user_errors
def score(articles_path, model_dir, pairs_path, metrics_path, plot_path, params_path):
    """Score every earlier->later pair of a user's articles with the calibrated style filter (filter.scorer).

    Example: sag score outputs/curate/articles.parquet models/style_filter outputs/score/pairs.parquet metrics/score.json plots/pair_scores.csv
    """
    from pipeline import score as stage

    m = stage.main(articles_path, model_dir, pairs_path, metrics_path, plot_path, params_path)
    click.echo(
        f"score: {m['pairs']} pairs ({m['pairs_cut_by_max_refs']} cut by max_refs_per_target); embedded {m['embedding']}"
    )


@main.command()
@path_args("pairs_path", "out_path", "dropped_path", "metrics_path", "plot_path")
@PARAMS
@user_errors
def select(pairs_path, out_path, dropped_path, metrics_path, plot_path, params_path):
    """Keep the pairs the filter gives at least filter.threshold (best filter.refs_per_target per target).

    Example: sag select outputs/score/pairs.parquet outputs/select/selected_pairs.parquet outputs/select/dropped_pairs.parquet metrics/select.json plots/kept_vs_threshold.csv
    """
    from pipeline import select as stage

    m = stage.main(pairs_path, out_path, dropped_path, metrics_path, plot_path, params_path)
    click.echo(
        f"select: kept {m['pairs_kept']} of {m['pairs_in']} pairs, {m['targets_kept']} of {m['targets_in']} targets;"
        f" dropped {m['pairs_dropped']}"
    )


@main.command()
@path_args("pairs_path", "articles_path", "out_dir", "metrics_path")
@click.option(
    "--style-filter",
    "style_filter",
    type=click.Path(path_type=Path),
    default=None,
    help="The trained style filter: also measure how much style the rewrite removed.",
)
@PARAMS
@user_errors
def neutralize(pairs_path, articles_path, out_dir, metrics_path, style_filter, params_path):
    """Summarise and neutrally rewrite every selected target article with the LLM (cached, resumable).

    Example: sag neutralize outputs/select/selected_pairs.parquet outputs/curate/articles.parquet outputs/neutralize metrics/neutralize.json --style-filter models/style_filter
    """
    from pipeline import neutralize as stage

    m = stage.main(pairs_path, articles_path, out_dir, metrics_path, params_path, style_filter)
    click.echo(
        f"neutralize ({m['backend']}: {m['model']}): {m['neutralized']} of {m['targets']} targets; "
        f"{m['calls']} calls, {m['cache_hits']} cache hits, failures {m['failures'] or 0}"
    )
    for name, q in {"verified": m["quality"], **m["baselines"]}.items():
        click.echo(
            f"  {name + ':':<11} facts kept {q['facts_kept']}, copy ratio {q['copy_ratio']}, "
            f"style removed {q.get('style_removed')}, meaning coverage {q.get('meaning_coverage')}"
        )


@main.command("build-sft")
@path_args("pairs_path", "neutral_path", "articles_path", "out_path", "metrics_path")
@PARAMS
@user_errors
def build_sft(pairs_path, neutral_path, articles_path, out_path, metrics_path, params_path):
    """Build S-SFT examples (summary + neutral + reference -> article) and the ablation sets.

    Example: sag build-sft outputs/select/selected_pairs.parquet outputs/neutralize/neutral.parquet outputs/curate/articles.parquet outputs/build_sft/sft.parquet metrics/build_sft.json
    """
    from pipeline import build_sft as stage

    m = stage.main(pairs_path, neutral_path, articles_path, out_path, metrics_path, params_path)
    click.echo(f"build_sft: {m['examples']} examples; reference cut in {m['reference_truncated']}")


@main.command()
@path_args("sft_path", "model_out", "metrics_path", "live_dir")
@PARAMS
@user_errors
@click.option("--variant", default=None, help="Train on this build_sft variant instead of sft.variant (ablations).")
def sft(sft_path, model_out, metrics_path, live_dir, params_path, variant):
    """Fine-tune the small model on the S-SFT set (TRL SFTTrainer; profile cpu or paper).

    Example: sag sft outputs/build_sft/sft.parquet models/sft metrics/sft.json plots/sft
    """
    from pipeline import sft as stage

    m = stage.main(sft_path, model_out, metrics_path, live_dir, params_path, variant)
    click.echo(f"sft: {m['steps']} steps on {m['examples']} examples, loss {m['first_loss']} -> {m['final_loss']}")
    if m.get("not_enough_data"):
        click.echo(f"  not trained: {m['not_enough_data']}")


@main.command("build-dpo")
@path_args("pairs_path", "neutral_path", "articles_path", "sft_model", "filter_model", "out_dir", "metrics_path")
@PARAMS
@user_errors
def build_dpo(pairs_path, neutral_path, articles_path, sft_model, filter_model, out_dir, metrics_path, params_path):
    """Sample the S-SFT model on align-split prompts; build C-DPO and judge preference pairs with DDPO weights.

    Example: sag build-dpo outputs/select/selected_pairs.parquet outputs/neutralize/neutral.parquet outputs/curate/articles.parquet models/sft models/style_filter outputs/build_dpo metrics/build_dpo.json
    """
    from pipeline import build_dpo as stage

    m = stage.main(pairs_path, neutral_path, articles_path, sft_model, filter_model, out_dir, metrics_path, params_path)
    click.echo(
        f"build_dpo: {m['cdpo']['pairs']} C-DPO and {m['judge']['pairs']} judge pairs from {m['prompts']} prompts"
    )


@main.command()
@path_args("dpo_path", "sft_model", "model_out", "metrics_path", "live_dir")
@PARAMS
@user_errors
def dpo(dpo_path, sft_model, model_out, metrics_path, live_dir, params_path):
    """Align the S-SFT model with (deviation-weighted) DPO on the dpo set (TRL DPOTrainer).

    Example: sag dpo outputs/build_dpo/dpo.parquet models/sft models/dpo metrics/dpo.json plots/dpo
    """
    from pipeline import dpo as stage

    m = stage.main(dpo_path, sft_model, model_out, metrics_path, live_dir, params_path)
    click.echo(f"dpo: {m['steps']} steps on {m['pairs']} pairs, loss {m['first_loss']} -> {m['final_loss']}")
    if m.get("not_enough_data"):
        click.echo(f"  not trained: {m['not_enough_data']}")


def _named_model(ctx, param, values) -> dict:
    models = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name or not folder:
            raise click.BadParameter(f"{value!r}; expected NAME=FOLDER, e.g. sft=models/sft")
        models[name] = Path(folder)
    return models


@main.command()
@path_args("pairs_path", "neutral_path", "articles_path", "out_dir", "metrics_path")
@click.option(
    "--style-filter",
    "style_filter",
    type=click.Path(path_type=Path),
    default=Path("models/style_filter"),
    show_default=True,
    help="The trained style filter (train_filter's model folder).",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    callback=_named_model,
    metavar="NAME=FOLDER",
    help="A small model the systems need: sft, dpo, sft_vanilla, sft_tst (base defaults to sft.model).",
)
@PARAMS
@user_errors
def evaluate(pairs_path, neutral_path, articles_path, out_dir, metrics_path, style_filter, models, params_path):
    """Every system writes for the same test-split targets; ROUGE/BLEU, style, hallucination, diversity, CIs.

    Example: sag evaluate outputs/select/selected_pairs.parquet outputs/neutralize/neutral.parquet outputs/curate/articles.parquet outputs/evaluate metrics/evaluate.json --model sft=models/sft --model dpo=models/dpo --model sft_vanilla=models/sft_vanilla --model sft_tst=models/sft_tst
    """
    from pipeline import evaluate as stage

    m = stage.main(pairs_path, neutral_path, articles_path, out_dir, metrics_path, params_path, style_filter, models)
    click.echo(
        f"evaluate: {len(m['systems'])} systems on {m['targets']} of {m['test_targets']} test targets "
        f"in {m['seconds']} s"
    )
    if m.get("not_enough_data"):
        click.echo(f"  not enough data: {m['not_enough_data']}")


@main.command()
@path_args("metrics_path", "outputs_path", "out_path")
@click.option("--neutral", "neutral_dir", type=click.Path(path_type=Path), help="neutralize's output folder")
@click.option("--articles", type=click.Path(path_type=Path), help="curate's articles.parquet (with --neutral)")
@user_errors
def report(metrics_path, outputs_path, out_path, neutral_dir, articles):
    """Write the evaluation report: one self-contained HTML page (tables with intervals, plots, examples,
    and with --neutral three neutral rewrites beside their articles).

    Example: sag report metrics/evaluate.json outputs/evaluate/eval_outputs.parquet reports/report.html
    --neutral outputs/neutralize --articles outputs/curate/articles.parquet
    """
    from pipeline import report as stage

    stage.main(metrics_path, outputs_path, out_path, neutral_dir, articles)
    click.echo(f"report: {out_path}")


@main.command("compare-neutral")
@click.argument("runs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--articles", required=True, type=click.Path(path_type=Path), help="curate's articles.parquet")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path), help="the HTML page to write")
@user_errors
def compare_neutral(runs, articles, out_path):
    """Compare runs of the pipeline that differ in their neutral input (make repro-llm keeps one folder
    per run): the neutral texts' measures, every system's scores on the test targets all runs
    evaluated with paired intervals against the first run, and three targets' neutral texts.

    Example: sag compare-neutral reports/real_llm/skeleton reports/real_llm/extractive reports/real_llm/model
    --articles outputs/curate/articles.parquet --out reports/real_llm/report.html
    """
    from eval.neutral_comparison import write_comparison

    write_comparison(list(runs), articles, out_path)
    click.echo(f"compare-neutral: {out_path}")


@main.command()
@click.option("--instruction", "-i", required=True, help="What to write about, with its key facts.")
@click.option("--reference", "-r", "references", multiple=True, help="A style reference text (repeatable).")
@click.option(
    "--reference-post",
    "-p",
    "reference_posts",
    multiple=True,
    help="A post_id from the articles table to use as a style reference (repeatable).",
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path),
    default=Path("models/dpo"),
    show_default=True,
    help="The small model folder (models/sft, models/dpo, or your own).",
)
@click.option("--max-new-tokens", type=int, default=256, show_default=True)
@click.option("--temperature", type=float, default=0.0, show_default=True, help="0 = greedy.")
@click.option("--json", "as_json", is_flag=True, help="Print the neutral content and the article as JSON.")
@PARAMS
@user_errors
def generate(instruction, references, reference_posts, model_dir, max_new_tokens, temperature, as_json, params_path):
    """Write an article in an author's style: the LLM drafts neutral content, the small model styles it.

    Example: sag generate -i "Our meetup moves to Friday 7 pm at the Old Mill." -p 123 --model models/dpo
    """
    from eval.inference import generate as run

    texts = list(references)
    if reference_posts:
        from pipeline.tables import find_root, query

        found = dict(query(find_root(Path.cwd()), "SELECT post_id, text FROM articles").fetchall())
        missing = [p for p in reference_posts if p not in found]
        if missing:
            raise click.ClickException(
                f'no article with post_id {", ".join(missing)} (see: sag sql "SELECT post_id FROM articles")'
            )
        texts += [found[p] for p in reference_posts]
    from llm.inverse_generation import NeutralizeParams
    from llm.session import cache_path
    from llm.types import LLMParams
    from pipeline.params import build, use_compute
    from training.sft_data import SFTDataParams

    llm, data = build(LLMParams, "llm", params_path), build(SFTDataParams, "build_sft", params_path)
    baseline = build(NeutralizeParams, "neutralize", params_path).baseline
    use_compute(params_path)
    result = run(
        instruction,
        texts,
        model_dir,
        llm,
        data,
        cache_path(),
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        baseline=baseline,
    )
    click.echo(json.dumps(result, ensure_ascii=False, indent=1) if as_json else result["article"])


@main.command()
@click.argument("sql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--max-rows", type=int, default=40, show_default=True, help="Rows shown in table format.")
@click.option("--max-width", type=int, default=None, help="Characters per line in table format (default: terminal).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=600.0,
    show_default=True,
    help="Seconds before the query is stopped.",
)
@click.option("--memory-limit", default="4GB", show_default=True, help="DuckDB memory limit (nothing spills to disk).")
@user_errors
def sql(sql: str, fmt: str, max_rows: int, max_width: int | None, timeout: float, memory_limit: str):
    """Run one read-only SQL query (DuckDB) over the stage outputs.

    Tables: posts, quarantine, articles, and each later stage's tables.

    Example: sag sql "SELECT reason, count(*) FROM quarantine GROUP BY ALL" --format csv
    """
    import duckdb

    from common.errors import InputError
    from pipeline.tables import connect, find_root, query, time_limit

    root = find_root(Path.cwd())
    con = connect(root, memory_limit)
    rel = query(root, sql, con)
    try:
        with time_limit(con, timeout):
            _print_relation(rel, fmt, max_rows, max_width)
    except duckdb.Error as exc:
        raise InputError(f"SQL error: {str(exc).strip().splitlines()[0]}") from None


def _print_relation(rel, fmt: str, max_rows: int, max_width: int | None) -> None:
    if fmt == "table":
        rel.show(max_rows=max_rows, max_width=max_width or _terminal_width())
    elif fmt == "csv":
        rel.pl().write_csv(sys.stdout)
    else:
        click.echo(json.dumps(rel.pl().to_dicts(), default=str, ensure_ascii=False, indent=1))


@main.command()
@user_errors
def tables():
    """List the tables `sag sql` can query, with their rows and files.

    Example: sag tables
    """
    from pipeline.tables import connect, find_root, table_files

    root = find_root(Path.cwd())
    con = connect(root)
    for name, files in sorted(table_files(root).items()):
        present = [f for f in files if f.exists()]
        rows = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] if present else "not built"
        click.echo(f"{name:<16} {rows!s:>10}  {', '.join(str(f.relative_to(root)) for f in files)}")


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((160, 40)).columns


if __name__ == "__main__":
    main()
