"""`llm.mode: batch`: the OpenAI batch API for calls at the paper's scale. The calls a role still
needs go up as one JSONL file, one batch is created, polled, and its answers downloaded.

The batch id is stored in the answer cache under a key of the exact requests, so a killed run (or
one that stopped waiting after `llm.batch_timeout_s`) resumes the same batch instead of paying twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import time

from common.errors import InputError
from llm.cache import LLMCache
from llm.types import Completion, LLMParams

DONE = ("completed", "failed", "expired", "cancelled")


def request_body(params: LLMParams, messages: list[dict], schema: dict | None) -> dict:
    body = {
        "model": params.model,
        "messages": messages,
        "temperature": params.temperature,
        "max_tokens": params.max_tokens,
    }
    if schema:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
    return body


def run_batch(client, params: LLMParams, requests: dict[str, dict], cache: LLMCache) -> dict[str, Completion]:
    """Answers by request key for `requests` (key -> chat-completions body), through one batch."""
    batch_key = hashlib.sha256(json.dumps(sorted(requests)).encode()).hexdigest()
    batch_id = cache.batch_id(batch_key)
    if batch_id is None:
        lines = [
            json.dumps({"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": body})
            for key, body in requests.items()
        ]
        upload = client.files.create(file=("requests.jsonl", io.BytesIO("\n".join(lines).encode())), purpose="batch")
        batch_id = client.batches.create(
            input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
        ).id
        cache.put_batch(batch_key, batch_id)
    deadline = time.monotonic() + params.batch_timeout_s
    batch = client.batches.retrieve(batch_id)
    while batch.status not in DONE:
        if time.monotonic() > deadline:
            raise InputError(
                f"LLM batch {batch_id} is still {batch.status} after llm.batch_timeout_s={params.batch_timeout_s}:"
                " run the stage again to resume it"
            )
        time.sleep(params.batch_poll_s)
        batch = client.batches.retrieve(batch_id)
    if batch.status != "completed" or not batch.output_file_id:
        cache.put_batch(batch_key, None)  # the next run submits a new batch
        raise InputError(f"LLM batch {batch_id} ended {batch.status}; run the stage again to submit a new one")
    answers = {}
    for line in client.files.content(batch.output_file_id).text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        body = (row.get("response") or {}).get("body") or {}
        if not body.get("choices"):
            continue  # a request the batch failed: asked again one by one
        choice, usage = body["choices"][0], body.get("usage") or {}
        answers[row["custom_id"]] = Completion(
            text=choice["message"].get("content") or "",
            tokens_in=usage.get("prompt_tokens", 0),
            tokens_out=usage.get("completion_tokens", 0),
            finish_reason=choice.get("finish_reason") or "stop",
        )
    return answers  # the batch's row stays: the next run asks for other keys, or none
