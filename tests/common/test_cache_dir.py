from pathlib import Path

from common.cache_dir import cache_dir


def test_sag_cache_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("SAG_CACHE", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"


def test_a_queued_experiment_shares_the_project_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("SAG_CACHE", raising=False)
    copy = tmp_path / "repo" / ".dvc" / "tmp" / "exps" / "tmpab12" / "sub"
    copy.mkdir(parents=True)
    monkeypatch.chdir(copy)
    assert cache_dir() == (tmp_path / "repo" / ".cache").resolve()
    monkeypatch.chdir(tmp_path)
    assert cache_dir() == Path(".cache")
