"""llm.mode=batch against the loopback server's /v1/files and /v1/batches: one batch for every
uncached call, answers in the cache like any other call, and a stopped run resumes the same batch."""

import json

import pytest

from common.errors import InputError
from llm.cache import LLMCache
from llm.loopback_openai import LoopbackOpenAI, Reply, echo_neutral
from llm.roles.neutralize import ROLE
from llm.runner import LLMRunner
from llm.types import LLMParams
from tests.llm.conftest import ITEMS


def batch_runner(server, path, env_key, **kw) -> LLMRunner:
    params = LLMParams(
        backend="openai",
        model="loopback",
        base_url=server.base_url,
        api_key_env=env_key,
        mode="batch",
        batch_poll_s=0.01,
        timeout_s=5.0,
        **kw,
    )
    return LLMRunner(params, LLMCache(path), stage="test")


def test_one_batch_answers_every_item_and_lands_in_the_cache(tmp_path, env_key):
    with LoopbackOpenAI() as server:
        run = batch_runner(server, tmp_path / "llm.sqlite", env_key)
        outcomes = run.run(ROLE, ITEMS, progress=False)
        again = batch_runner(server, tmp_path / "llm.sqlite", env_key)
        second = again.run(ROLE, ITEMS, progress=False)
    assert all(o.output for o in outcomes) and [o.output for o in second] == [o.output for o in outcomes]
    assert len(server.batches) == 1 and len(server.requests) == len(ITEMS)  # no request outside the batch
    assert json.loads(server.files["file-1"].decode().splitlines()[0])["body"]["response_format"]["type"] == (
        "json_schema"
    )
    assert run.stats.calls == len(ITEMS) and again.stats.calls == 0 and again.stats.cache_hits == len(ITEMS)
    assert [r["cache_hit"] for r in run.cache.calls(run.run_id)] == [0] * len(ITEMS)


def test_a_run_that_stops_waiting_resumes_the_same_batch(tmp_path, env_key):
    with LoopbackOpenAI() as server:
        server.hold_batches = True
        with pytest.raises(InputError, match="still in_progress.*run the stage again to resume"):
            batch_runner(server, tmp_path / "llm.sqlite", env_key, batch_timeout_s=0.05).run(
                ROLE, ITEMS, progress=False
            )
        server.hold_batches = False
        outcomes = batch_runner(server, tmp_path / "llm.sqlite", env_key).run(ROLE, ITEMS, progress=False)
    assert all(o.output for o in outcomes)
    assert len(server.batches) == 1 and len(server.files) == 2  # one upload, one output: nothing paid twice


def test_a_bad_answer_in_the_batch_is_asked_again_one_by_one(tmp_path, env_key):
    def respond(request):
        return Reply("not json") if request["_n"] == 1 else echo_neutral(request)

    with LoopbackOpenAI(respond) as server:
        run = batch_runner(server, tmp_path / "llm.sqlite", env_key)
        outcomes = run.run(ROLE, ITEMS, progress=False)
    assert all(o.output for o in outcomes) and len(server.batches) == 1
    assert len(server.requests) == len(ITEMS) + 1  # the one retry went as a plain request
