import pytest
import yaml
from click.testing import CliRunner

from pipeline.cli import main
from tests.conftest import REPO


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_help_lists_one_subcommand_per_dvc_stage():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    # the subcommand each stage runs (a foreach stage, like sft_ablation, runs its `do` command)
    commands = {(spec.get("do") or spec)["cmd"].split()[1] for spec in stages.values()}
    out = run("--help")
    assert out.exit_code == 0
    listed = {line.split()[0] for line in out.output.split("Commands:")[1].strip().splitlines()}
    assert commands <= listed and {"sql", "tables", "fetch-data", "generate", "report"} <= listed
    assert {s.replace("_", "-") for s in stages} - listed == {"sft-ablation"}  # runs `sag sft --variant`


def _one_line_error(out, *fragments):
    assert out.exit_code != 0
    assert "Traceback" not in out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_input_is_one_line(project):
    out = run_stage(project, "ingest", "nope")
    _one_line_error(out, "nope", "does not exist")


def set_param(project, section: str, key: str, value, sub: str | None = None) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    target = params[section][sub] if sub else params[section]
    target[key] = value
    (project / "params.yaml").write_text(yaml.safe_dump(params))


def run_stage(project, stage: str, source: str):
    """`sag <stage> <source> out m.json --params params.yaml` inside the project."""
    paths = [str(project / source), str(project / "out"), str(project / "m.json")]
    return run(stage, *paths, "--params", str(project / "params.yaml"))


def test_bad_param_is_one_line(project):
    set_param(project, "curate", "min_words", "many")
    out = run_stage(project, "curate", "posts.parquet")
    _one_line_error(out, "curate.min_words='many'")


def test_unknown_param_is_one_line(project):
    set_param(project, "ingest", "fromat", "jsonl")
    out = run_stage(project, "ingest", "data")
    _one_line_error(out, "unknown param(s) fromat")


@pytest.mark.parametrize(
    "section, key, value, fragment",
    [
        (
            "ingest",
            "subject_patterns",
            ["(unclosed"],
            "ingest.subject_patterns: '(unclosed' is not a regular expression",
        ),
        ("ingest", "sender_patterns", "noreply", "ingest.sender_patterns='noreply'; must be a list"),
        ("ingest", "user_salt", 12345, "ingest.user_salt=12345; must be a string"),
        ("ingest", "max_chars", True, "ingest.max_chars=True; must be an integer"),
        ("ingest", "hash_users", "yes", "ingest.hash_users='yes'; must be true or false"),
    ],
)
def test_params_of_the_wrong_kind_are_one_line(project, section, key, value, fragment):
    set_param(project, section, key, value)
    _one_line_error(run_stage(project, "ingest", "data"), fragment)


@pytest.mark.parametrize(
    "text, fragment",
    [("ingest: [unclosed\n", "is not valid YAML at line"), ("- a list\n", "must be a mapping of sections")],
)
def test_a_broken_params_file_is_one_line(project, text, fragment):
    (project / "params.yaml").write_text(text)
    _one_line_error(run_stage(project, "ingest", "data"), fragment)


def test_params_pointing_at_a_folder_is_one_line(project):
    out = run("ingest", str(project / "data"), str(project / "out"), str(project / "m.json"), "--params", str(project))
    _one_line_error(out, "is not a file")


@pytest.mark.parametrize("column", ["user", "text"])
def test_wrong_column_name_is_one_line(project, column):
    set_param(project, "ingest", column, "author", sub="columns")
    out = run_stage(project, "ingest", "data/forum.jsonl")
    _one_line_error(out, f"ingest.columns.{column}='author'", "columns there:")


def test_generate_and_report_mistakes_are_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _one_line_error(run("generate", "-i", "x", "--model", "nowhere"), "params.yaml", "does not exist")
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text())
    _one_line_error(run("generate", "-i", "a meetup on Friday", "--model", "nowhere"), "nowhere", "not a model folder")
    _one_line_error(run("report", "missing.json", "out.parquet", "r.html"), "missing.json", "dvc repro evaluate")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")  # a project, but no articles table yet
    _one_line_error(run("generate", "-i", "x", "-p", "abc"), "articles")


def test_output_paths_that_cannot_be_written_are_one_line(project):
    (project / "out").write_text("a file where the stage wants a folder")
    _one_line_error(run_stage(project, "ingest", "data"), "out is a file, not a folder")
    (project / "out").unlink()
    (project / "m.json").mkdir()
    _one_line_error(run_stage(project, "ingest", "data"), "m.json: it is a folder")
    assert not (project / "out").exists()  # nothing written before the check


def test_curate_given_a_file_that_is_not_parquet_is_one_line(project):
    (project / "posts.parquet").write_text("user,text\nbob,hi\n")
    _one_line_error(run_stage(project, "curate", "posts.parquet"), "is not a readable Parquet table")


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_reported_by_polars_is_one_line():
    import click
    import polars as pl

    from pipeline.cli import user_errors

    @user_errors
    def write():
        pl.DataFrame({"n": list(range(10_000))}).write_parquet("/dev/full")

    with pytest.raises(click.ClickException) as caught:
        write()
    assert caught.value.message.startswith("no space left on the device (ComputeError: ")
    assert "\n" not in caught.value.message and "os error 28" in caught.value.message
