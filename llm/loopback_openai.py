"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol, and the batch
API (`/v1/files`, `/v1/batches`) over the same responder.

For tests and benchmarks: it fakes only the network boundary. A `responder` decides each answer;
faults (429 with Retry-After, 500, slow answers past the client's timeout, malformed or truncated
content) are scripted per request, and every request is recorded. A batch completes on its second
status check, unless `hold_batches` keeps it in progress.

    with LoopbackOpenAI(latency_s=0.05) as server:
        client = OpenAI(base_url=server.base_url, api_key="test")
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0
    finish_reason: str = "stop"


def echo_neutral(request: dict) -> Reply:
    """A well-formed neutralize answer (or summarize answer: the system prompt asks for a summary
    only) built from the post in the last user message."""
    prompt = request["messages"][-1]["content"]
    match = re.search(r"<post>\n(.*)\n</post>", prompt, re.DOTALL)
    post = match.group(1) if match else prompt
    if '"neutral":' not in request["messages"][0]["content"]:
        return Reply(json.dumps({"summary": f"Summary: {post.split('.')[0][:200]}."}))
    return Reply(json.dumps({"neutral": " ".join(post.split())}))


def _between(text: str, tag: str) -> str:
    match = re.search(rf"<{tag}[^>]*>\n(.*?)\n</{tag}>", text, re.DOTALL)
    return match.group(1) if match else ""


def every_role(request: dict) -> Reply:
    """Well-formed answers for every LLM role, told apart by their system prompts (for end-to-end runs)."""
    system, prompt = request["messages"][0]["content"], request["messages"][-1]["content"]
    if "strict judge" in system:
        ids = re.search(r"principle ids \(([^)]*)\)", system).group(1).split(", ")
        article = _between(prompt, "article")
        return Reply(
            json.dumps(
                {pid: {"score": 1 + (len(article) + i) % 5, "reason": f"{pid}: checked"} for i, pid in enumerate(ids)}
            )
        )
    if "another judge" in system:
        return Reply(json.dumps({"overturn": False, "reason": ""}))
    if "check an article for hallucinations" in system:
        invented = any(c.isdigit() for c in _between(prompt, "article"))  # a toy rule, but a real verdict
        return Reply(
            json.dumps(
                {
                    "faithful": {"hallucinated": invented, "reason": "digits" if invented else "none"},
                    "factual": {"hallucinated": False, "reason": "nothing false"},
                }
            )
        )
    if "restyle it" in system:
        return Reply(json.dumps({"neutral": f"Plainly: {_between(prompt, 'instruction')}"}))
    if "in the style of a given author" in system:
        return Reply(json.dumps({"article": f"{_between(prompt, 'instruction')} (in the author's words)"}))
    if "<article>" in system:
        facts = _between(prompt, "facts").split(".")[0]
        return Reply(json.dumps({"corrected": f"{_between(prompt, 'article')} {facts}.", "fixes": ["added a fact"]}))
    return echo_neutral(request)


class LoopbackOpenAI:
    def __init__(self, responder: Callable[[dict], Reply] = echo_neutral, latency_s: float = 0.0):
        self.responder = responder
        self.latency_s = latency_s
        self.requests: list[dict] = []
        self.auth_headers: list[str] = []
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.hold_batches = False
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if match := re.fullmatch(r".*/batches/([\w-]+)", self.path):
                    batch = outer.batches.get(match.group(1))
                    if batch is None:
                        return self._send(404, {"error": {"message": "no such batch"}})
                    batch["checks"] += 1
                    if batch["status"] == "in_progress" and batch["checks"] >= 2 and not outer.hold_batches:
                        outer._finish(batch)
                    return self._send(200, outer._batch_json(batch))
                if match := re.fullmatch(r".*/files/([\w-]+)/content", self.path):
                    data = outer.files.get(match.group(1))
                    if data is None:
                        return self._send(404, {"error": {"message": "no such file"}})
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    return self.wfile.write(data)
                return self._send(404, {"error": {"message": "not found"}})

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.endswith("/files"):
                    return self._send(200, outer._upload(self.headers.get("Content-Type", ""), raw))
                if self.path.endswith("/batches"):
                    request = json.loads(raw)
                    with outer._lock:
                        batch_id = f"batch-{len(outer.batches) + 1}"
                        outer.batches[batch_id] = {
                            "id": batch_id,
                            "input": request["input_file_id"],
                            "status": "in_progress",
                            "checks": 0,
                            "output": None,
                        }
                    return self._send(200, outer._batch_json(outer.batches[batch_id]))
                body = json.loads(raw or b"{}")
                with outer._lock:
                    outer.requests.append(body)
                    outer.auth_headers.append(self.headers.get("Authorization", ""))
                    number = len(outer.requests)
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found"}})
                reply = outer.responder({**body, "_n": number})
                time.sleep(outer.latency_s + reply.delay_s)
                if reply.status != 200:
                    message = reply.content or f"scripted {reply.status}"
                    return self._send(reply.status, {"error": {"message": message}}, reply.headers)
                prompt_tokens = sum(len(m.get("content", "").split()) for m in body.get("messages", []))
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{number}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "loopback"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.content},
                                "finish_reason": reply.finish_reason,
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt_tokens,
                            "completion_tokens": len(reply.content.split()),
                            "total_tokens": prompt_tokens + len(reply.content.split()),
                        },
                    },
                    reply.headers,
                )

            def _send(self, status: int, payload: dict, headers: dict | None = None):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _upload(self, content_type: str, raw: bytes) -> dict:
        """A multipart/form-data upload (the openai client's files.create): keep the file's bytes."""
        from email.parser import BytesParser

        message = BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        data = next(part.get_payload(decode=True) for part in message.walk() if part.get_filename())
        with self._lock:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = data
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": "requests.jsonl",
            "purpose": "batch",
            "status": "processed",
        }

    def _finish(self, batch: dict) -> None:
        """Answer every request of the batch with the responder, as a JSONL output file."""
        lines = []
        for line in self.files[batch["input"]].decode().splitlines():
            request = json.loads(line)
            with self._lock:
                self.requests.append(request["body"])
                number = len(self.requests)
            reply = self.responder({**request["body"], "_n": number})
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }
            usage = {"prompt_tokens": 1, "completion_tokens": len(reply.content.split())}
            body = {"id": f"chatcmpl-{number}", "object": "chat.completion", "choices": [choice], "usage": usage}
            lines.append(
                json.dumps({"custom_id": request["custom_id"], "response": {"status_code": 200, "body": body}})
            )
        with self._lock:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = "\n".join(lines).encode()
        batch |= {"status": "completed", "output": file_id}

    @staticmethod
    def _batch_json(batch: dict) -> dict:
        return {
            "id": batch["id"],
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "status": batch["status"],
            "input_file_id": batch["input"],
            "output_file_id": batch["output"],
            "completion_window": "24h",
            "created_at": int(time.time()),
        }

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> LoopbackOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    """Serve until killed, printing the base URL: for subprocess tests (kill and resume)."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.0)
    args = ap.parse_args()
    server = LoopbackOpenAI(latency_s=args.latency)
    with server:
        print(server.base_url, flush=True)
        try:
            while True:
                time.sleep(1)
                print(f"requests {len(server.requests)}", flush=True)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
