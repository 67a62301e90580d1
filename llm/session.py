"""One LLM stage's session: the shared answer cache, a runner, and the stage's failures, kept in
one schema so every stage's failure table stacks with the others (`UNION ALL` in `sag sql`)."""

from __future__ import annotations

from pathlib import Path

from common.cache_dir import cache_dir
from llm.cache import LLMCache
from llm.runner import LLMRunner
from llm.types import LLMParams, Role

# One row per item whose answer never parsed or whose call failed (what LLMRunner.outputs records).
FAILURE_COLUMNS = ("role", "input_id", "reason", "detail", "response")


def cache_path() -> Path:
    """Every stage's LLM answers, outside DVC's outputs: a re-run pays only for what is new."""
    return cache_dir() / "llm.sqlite"


class LLMSession:
    def __init__(self, params: LLMParams, stage: str, path: Path | None = None):
        self.cache = LLMCache(path or cache_path())
        self.runner = LLMRunner(params, self.cache, stage=stage)
        self.failures: list[dict] = []

    def outputs(self, role: Role, items: list[dict]) -> dict:
        """Parsed outputs by `item["key"]`; failed items are recorded in `self.failures`."""
        return self.runner.outputs(role, items, self.failures)

    @property
    def stats(self) -> dict:
        return self.runner.stats.as_dict()

    def failures_frame(self):
        import polars as pl

        return pl.DataFrame(self.failures, schema=dict.fromkeys(FAILURE_COLUMNS, pl.String))

    def calls_frame(self):
        """This run's calls and cache hits (the cache file keeps the whole history)."""
        import polars as pl

        rows = self.cache.calls(self.runner.run_id)
        return pl.DataFrame(rows, infer_schema_length=None) if rows else empty_calls_frame()

    def close(self) -> None:
        try:
            self.runner.close()  # stops a llama.cpp server, also after an error or Ctrl-C
        finally:
            self.cache.close()

    def __enter__(self) -> LLMSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def empty_calls_frame():
    import polars as pl

    return pl.DataFrame(schema={"stage": pl.String, "input_id": pl.String})
