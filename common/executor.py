"""How per-shard work runs: `compute.executor` is `local` (a process pool on this machine) or `ray`
(the same tasks on a Ray cluster). What a task does is the stage's business; this module owns
where it runs, the completion markers and resume (DataTrove's executors work the same way).

A task writes its outputs itself, each one atomically (a temporary name, then a rename); when it
returns, its result is written to `<work>/<phase>/<task>.done` (JSON), atomically too. A rerun
skips every task whose marker is there and reads its result back, so a stage killed with
`kill -9` redoes only the tasks it had not finished. `work` must outlive DVC's deletion of the
stage's outputs: stages keep it under the project cache (common/cache_dir.py).

    run_tasks(tasks, work / "phase", params, "curate: shards")  ->  [result of each task, in order]
"""

from __future__ import annotations

import atexit
import concurrent.futures
import ctypes
import errno
import functools
import json
import logging
import multiprocessing
import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from common.errors import InputError

EXECUTORS = ("local", "ray")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExecutorParams:
    """The `compute` keys that say how shards run. `workers: 0` means one per CPU core."""

    executor: str = "local"
    workers: int = 0
    ray_address: str | None = None  # unset: a local Ray cluster started for the stage
    spill_memory: str = "1GB"  # what a cross-shard step (DuckDB) holds before it spills to disk

    def __post_init__(self):
        if self.executor not in EXECUTORS:
            raise InputError(f"compute.executor={self.executor!r}; allowed: {', '.join(EXECUTORS)}")
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) or self.workers < 0:
            raise InputError(f"compute.workers={self.workers!r}; must be 0 (one per core) or a positive integer")
        if not isinstance(self.spill_memory, str) or not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", self.spill_memory):
            raise InputError(f"compute.spill_memory={self.spill_memory!r}; must be a size such as 512MB or 2GB")
        if self.ray_address is not None and (not isinstance(self.ray_address, str) or not self.ray_address.strip()):
            raise InputError(f"compute.ray_address={self.ray_address!r}; must be an address such as 10.0.0.5:6379")

    @property
    def processes(self) -> int:
        return self.workers or os.cpu_count() or 1


@dataclass(frozen=True)
class Task:
    name: str  # unique within its phase: the marker's file name
    fn: Callable[..., dict]  # a module-level function (it is pickled to a worker), returns JSON-able
    args: tuple


def run_tasks(tasks: list[Task], phase: Path, params: ExecutorParams, what: str) -> list[dict]:
    """Run the tasks not yet marked done in `phase`; each one's result, in the order given."""
    phase.mkdir(parents=True, exist_ok=True)
    done = {t.name: _read_marker(phase / f"{t.name}.done") for t in tasks}
    todo = [t for t in tasks if done[t.name] is None]
    if len(todo) < len(tasks):
        log.warning(
            "%s: %d of %d already done (resumed), running %d", what, len(tasks) - len(todo), len(tasks), len(todo)
        )
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=what, unit="task", disable=None)
    start = time.perf_counter()
    try:
        for task, result in _results(todo, params):
            _write_marker(phase / f"{task.name}.done", result)
            done[task.name] = result
            bar.update()
    finally:
        bar.close()
    log.info("%s: %d tasks in %.1f s", what, len(todo), time.perf_counter() - start)
    return [done[t.name] for t in tasks]


def _results(todo: list[Task], params: ExecutorParams):
    if not todo:
        return
    if params.executor == "ray":
        yield from _on_ray(todo, params)
    elif params.processes == 1 or len(todo) == 1:  # no pool to start for one task at a time
        for task in todo:
            yield task, _call(task)
    else:
        yield from _in_pool(todo, params.processes)


def _call(task: Task) -> dict:
    try:
        return task.fn(*task.args)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise InputError(f"no space left on the device for {exc.filename or 'a shard'} ({task.name})") from None
        raise
    except Exception as exc:  # Polars and Arrow say it in their own exceptions
        if "No space left on device" in str(exc):
            raise InputError(f"no space left on the device writing task {task.name}'s files") from None
        raise
    finally:
        _release_memory()


def _release_memory() -> None:
    """Give the task's freed memory back to the system: a pool's worker lives on, idle, beside the
    next phase's memory (glibc keeps freed pages otherwise; elsewhere nothing to do)."""
    if (trim := _malloc_trim()) is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, loaded once per process; None where there is no glibc."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_pools: dict[int, concurrent.futures.ProcessPoolExecutor] = {}


def _pool(processes: int) -> concurrent.futures.ProcessPoolExecutor:
    """The stage's pool of `processes` workers, started on first use and kept for every later phase:
    a spawned worker pays its imports and compiled kernels' loading once per stage, not per phase.
    Spawn, not fork: the stage process runs Polars' and Numba's thread pools, which fork does not
    copy safely. The workers end with the stage process, even one killed with `kill -9`."""
    if processes not in _pools:
        if not _pools:
            atexit.register(_close_pools)
        context = multiprocessing.get_context("spawn")
        _pools[processes] = concurrent.futures.ProcessPoolExecutor(
            processes, mp_context=context, initializer=_die_with, initargs=(os.getpid(),)
        )
    return _pools[processes]


_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """A worker's start: killed when the stage process dies. A pool's workers outlived a stage
    killed with SIGKILL (no atexit runs), each holding its last task's memory, idle for good;
    Linux's parent-death signal ends them (elsewhere nothing to do). The pool is started from the
    stage's main thread, whose end is the process's."""
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the stage died before the signal was set
        os._exit(1)


def _close_pools() -> None:
    """At exit, before the interpreter tears its modules down (a pool left to the garbage
    collector then prints an ignored exception)."""
    while _pools:
        _pools.popitem()[1].shutdown(wait=True)


def _in_pool(todo: list[Task], processes: int):
    pool = _pool(processes)
    futures = {pool.submit(_call, task): task for task in todo}
    try:
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        for future in futures:
            future.cancel()
        _pools.pop(processes, None)  # a failed or interrupted phase leaves no pool for the next one
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def _on_ray(todo: list[Task], params: ExecutorParams):
    """The same tasks as Ray tasks, one CPU each: a cluster at `compute.ray_address`, else a local one."""
    import ray

    started = not ray.is_initialized()
    if started:
        _connect(ray, params)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(_call)
        pending = {remote.remote(task): task for task in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            task = pending.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayTaskError as exc:
                raise exc.as_instanceof_cause() from None
            yield task, result
    finally:
        if started:
            ray.shutdown()


def _connect(ray, params: ExecutorParams) -> None:
    if params.ray_address is None:
        ray.init(num_cpus=params.processes, include_dashboard=False, logging_level=logging.WARNING)
        return
    _check_reachable(params.ray_address)
    try:
        ray.init(address=params.ray_address, include_dashboard=False, logging_level=logging.WARNING)
    except (ConnectionError, ValueError, RuntimeError, TimeoutError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"compute.ray_address={params.ray_address!r}: no Ray cluster there ({first})") from None


def _check_reachable(address: str) -> None:
    """A one-line error at once when nothing listens at `host:port` (Ray itself retries for
    minutes). `auto` (a cluster started on this machine with `ray start`) is left to Ray."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=10).close()
    except ValueError:
        raise InputError(f"compute.ray_address={address!r}; must be host:port (or auto)") from None
    except OSError as exc:
        raise InputError(
            f"compute.ray_address={address!r}: no Ray cluster answers there ({exc.strerror or exc})"
        ) from None


def _read_marker(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError):  # not ours, or cut off by a full disk: do the task again
        return None


def _write_marker(path: Path, result: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, sort_keys=True))
    os.replace(tmp, path)
