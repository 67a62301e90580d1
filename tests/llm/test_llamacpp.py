"""The llamacpp backend against a real llama.cpp server (xllamacpp) with the smallest packaged GGUF,
and how packaged GGUF files are found, assembled and verified."""

import hashlib
import socket
import urllib.parse

import pytest

from common.errors import InputError
from common.models import assemble, gguf_file
from llm.cache import LLMCache
from llm.llamacpp_server import LlamaCppServer
from llm.roles.neutralize import ROLE
from llm.runner import LLMRunner
from llm.types import DEFAULT_MODELS, LLMParams

SMALL = "packaged:smollm2-135m-instruct"


def refuses_connections(base_url: str) -> bool:
    url = urllib.parse.urlparse(base_url)
    try:
        socket.create_connection((url.hostname, url.port), timeout=2).close()
    except OSError:
        return True
    return False


def test_the_server_binds_loopback_answers_health_and_stops():
    with LlamaCppServer(gguf_file(SMALL), threads=2, context=1024) as server:
        url = server.base_url
        assert url.startswith("http://127.0.0.1:") and server.load_seconds is not None
    assert refuses_connections(url)


def test_the_runner_neutralizes_through_the_server_with_schema_constrained_answers(tmp_path):
    params = LLMParams(roles={"neutralize": {"backend": "llamacpp", "model": SMALL}}, max_tokens=160, context=2048)
    items = [
        {"id": "a", "title": "Re: disk", "text": "My 40GB Maxtor is clicking again!! Third time since March :("},
        {"id": "b", "title": "meetup", "text": "hey all, meetup moved to Friday 7pm at the Old Mill. be there!"},
    ]
    cache = LLMCache(tmp_path / "llm.sqlite")
    runner = LLMRunner(params, cache, "test")
    try:
        outcomes = runner.run(ROLE, items, progress=False)
        url = next(iter(runner._backends.values())).server.base_url
        log = cache.calls(runner.run_id)
    finally:
        runner.close()
        cache.close()
    assert refuses_connections(url)  # the stage's end stops the server
    parsed = [o for o in outcomes if o.output is not None]
    assert [o.error for o in outcomes if o.output is None] in ([], ["truncated_answer"], ["truncated_answer"] * 2)
    assert all(set(o.output) == {"neutral"} and o.output["neutral"] for o in parsed)
    assert {row["backend"] for row in log} == {"llamacpp"} and {row["model"] for row in log} == {SMALL}
    assert runner.stats.calls >= 2 and runner.stats.tokens_out > 0


def test_each_role_runs_on_its_own_backend():
    params = LLMParams(roles={"neutralize": {"backend": "llamacpp"}, "draft": {}})
    assert params.for_role("neutralize").backend == "llamacpp"
    assert params.for_role("neutralize").model == DEFAULT_MODELS["llamacpp"]
    assert params.for_role("correct") == params and params.for_role("draft") == params
    with pytest.raises(InputError, match="llm.roles.poet: unknown role"):
        LLMParams(roles={"poet": {"backend": "llamacpp"}})
    with pytest.raises(InputError, match="llm.roles.judge"):
        LLMParams(roles={"judge": {"backend": "gpt"}})
    with pytest.raises(InputError, match="give backend and/or model"):
        LLMParams(roles={"judge": {"backend": "llamacpp", "threads": 3}})


def test_a_model_that_is_not_a_gguf_file_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="is not a .gguf file"):
        gguf_file(str(tmp_path / "missing.gguf"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="is not a .gguf file"):
        gguf_file(str(tmp_path / "notes.txt"))


def test_parts_are_assembled_only_when_size_and_sha256_match(tmp_path):
    parts = []
    for i, data in enumerate([b"GGUF" + b"a" * 10, b"b" * 7]):
        parts.append(tmp_path / f"part{i}.bin")
        parts[-1].write_bytes(data)
    whole = b"GGUF" + b"a" * 10 + b"b" * 7
    target = tmp_path / "models" / "m.gguf"
    with pytest.raises(InputError, match="does not match its size and SHA-256"):
        assemble("packaged:m", parts, len(whole), "0" * 64, target)
    assert not target.exists() and list((tmp_path / "models").iterdir()) == []  # nothing half-written kept
    assert assemble("packaged:m", parts, len(whole), hashlib.sha256(whole).hexdigest(), target) == target
    assert target.read_bytes() == whole
