"""A persistent cache of LLM answers and a log of every call, in one SQLite file.

The cache lives outside DVC's outputs (DVC deletes a stage's outputs before re-running it), and
each answer is committed as soon as it arrives, so a killed run loses at most the calls in flight.
Keys hash everything that decides an answer: backend, model, template and its version,
generation parameters and the rendered messages. The API key is never part of anything stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY, response TEXT NOT NULL, tokens_in INTEGER, tokens_out INTEGER, created REAL
);
CREATE TABLE IF NOT EXISTS batches (
    batch_key TEXT PRIMARY KEY, batch_id TEXT NOT NULL, created REAL
);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT, stage TEXT, key TEXT, backend TEXT, model TEXT,
    template TEXT, input_id TEXT, prompt TEXT, response TEXT, cache_hit INTEGER, ok INTEGER,
    error TEXT, latency_s REAL, tokens_in INTEGER, tokens_out INTEGER, created REAL
);
"""


def call_key(backend: str, model: str, template: str, generation: dict, messages: list[dict]) -> str:
    payload = json.dumps([backend, model, template, generation, messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class LLMCache:
    """Thread-safe: one connection, one lock (calls are network-bound, writes are tiny)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")  # survives a kill between writes
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, int, int] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT response, tokens_in, tokens_out FROM answers WHERE key = ?", (key,)
            ).fetchone()
        return row

    def put(self, key: str, response: str, tokens_in: int, tokens_out: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                (key, response, tokens_in, tokens_out, time.time()),
            )

    def batch_id(self, batch_key: str) -> str | None:
        """The endpoint's id of a batch submitted for exactly these requests (llm.mode=batch)."""
        with self._lock:
            row = self._db.execute("SELECT batch_id FROM batches WHERE batch_key = ?", (batch_key,)).fetchone()
        return row[0] if row else None

    def put_batch(self, batch_key: str, batch_id: str | None) -> None:
        with self._lock:
            if batch_id is None:
                self._db.execute("DELETE FROM batches WHERE batch_key = ?", (batch_key,))
            else:
                self._db.execute("INSERT OR REPLACE INTO batches VALUES (?, ?, ?)", (batch_key, batch_id, time.time()))

    def log(self, **row) -> None:
        row.setdefault("created", time.time())
        columns = ", ".join(row)
        with self._lock:
            self._db.execute(f"INSERT INTO calls ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values()))

    def calls(self, run: str) -> list[dict]:
        with self._lock:
            cursor = self._db.execute("SELECT * FROM calls WHERE run = ? ORDER BY id", (run,))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        self._db.close()
