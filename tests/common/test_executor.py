"""The executor runs every task once, keeps each result in a completion marker, and a rerun does
only the tasks without one; a user mistake in its params is one line."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.errors import InputError
from common.executor import ExecutorParams, Task, run_tasks


def square(n: int, log: Path) -> dict:
    """A task with a side effect the test can count: one line per run."""
    with log.open("a") as fh:
        fh.write(f"{n}\n")
    return {"n": n, "square": n * n, "pid": os.getpid()}


def sleep_long(n: int, log: Path) -> dict:
    """A task that is still running when its stage is killed: says its pid, then waits."""
    (log / f"{n}.pid").write_text(str(os.getpid()))
    time.sleep(120)
    return {}


def write_to_a_full_disk(n: int, log: Path) -> dict:
    import polars as pl

    pl.DataFrame({"n": [n] * 10_000}).write_parquet("/dev/full")  # a real ENOSPC, as Polars reports it
    return {}


def fail_on(n: int, bad: int, log: Path) -> dict:
    if n == bad:
        raise ValueError(f"task {n} broke")
    return square(n, log)


def tasks(log: Path, n: int = 6, fn=square, *extra) -> list[Task]:
    return [Task(f"{i:05d}", fn, (i, *extra, log)) for i in range(n)]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_task_order_with_a_marker_each(tmp_path, workers):
    log = tmp_path / "log.txt"
    results = run_tasks(tasks(log), tmp_path / "phase", ExecutorParams(workers=workers), "squares")
    assert [r["square"] for r in results] == [0, 1, 4, 9, 16, 25]
    assert sorted(int(x) for x in log.read_text().split()) == list(range(6))
    assert sorted(p.name for p in (tmp_path / "phase").iterdir()) == [f"{i:05d}.done" for i in range(6)]
    if workers == 2:  # a pool of processes, not this one
        assert os.getpid() not in {r["pid"] for r in results}


def test_a_rerun_does_only_the_tasks_without_a_marker(tmp_path):
    log, phase = tmp_path / "log.txt", tmp_path / "phase"
    with pytest.raises(ValueError, match="task 4 broke"):  # the first run stops at task 4 (one worker: in order)
        run_tasks(tasks(log, 6, fail_on, 4), phase, ExecutorParams(workers=1), "squares")
    assert log.read_text().split() == ["0", "1", "2", "3"]
    (phase / "00001.done").write_text('{"cut off')  # a marker cut short is no marker: that task runs again
    results = run_tasks(tasks(log, 6), phase, ExecutorParams(workers=1), "squares")
    assert log.read_text().split() == ["0", "1", "2", "3", "1", "4", "5"]
    assert [r["square"] for r in results] == [0, 1, 4, 9, 16, 25]
    assert json.loads((phase / "00001.done").read_text())["square"] == 1


def test_later_phases_reuse_the_pool_and_a_failed_phase_leaves_none(tmp_path):
    log, two = tmp_path / "log.txt", ExecutorParams(workers=2)
    first = {r["pid"] for r in run_tasks(tasks(log), tmp_path / "a", two, "squares")}
    second = {r["pid"] for r in run_tasks(tasks(log), tmp_path / "b", two, "squares")}
    assert second <= first  # the same workers: no imports paid again
    with pytest.raises(ValueError, match="task 2 broke"):
        run_tasks(tasks(log, 6, fail_on, 2), tmp_path / "c", two, "squares")
    after = {r["pid"] for r in run_tasks(tasks(log), tmp_path / "d", two, "squares")}
    assert not after & first  # a fresh pool after the failure
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [f"{i:05d}.done" for i in range(6)]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_is_one_line_whatever_library_wrote(tmp_path, workers):
    with pytest.raises(InputError, match=r"^no space left on the device writing task 00000's files$"):
        run_tasks(
            tasks(tmp_path / "log", 1, write_to_a_full_disk), tmp_path / "p", ExecutorParams(workers=workers), "w"
        )
    assert not list((tmp_path / "p").glob("*.done"))  # nothing marked done


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"executor": "slurm"}, "compute.executor='slurm'; allowed: local, ray"),
        ({"workers": -1}, "compute.workers=-1"),
        ({"workers": True}, "compute.workers=True"),
        ({"spill_memory": "lots"}, "compute.spill_memory='lots'"),
        ({"ray_address": ""}, "compute.ray_address=''"),
    ],
)
def test_a_bad_executor_param_names_itself(params, fragment):
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        ExecutorParams(**params)


def test_a_ray_address_with_no_cluster_is_one_line(tmp_path):
    import ray

    if ray.is_initialized():  # another test's local cluster: this one must connect on its own
        pytest.skip("a Ray cluster is already running in this process")
    params = ExecutorParams(executor="ray", ray_address="127.0.0.1:1")  # a port nothing listens on
    with pytest.raises(InputError) as error:
        run_tasks(tasks(tmp_path / "log.txt", 1), tmp_path / "phase", params, "squares")
    assert "compute.ray_address='127.0.0.1:1'" in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "phase" / "00000.done").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (killed, not yet reaped by init) is gone too
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


_STAGE_OF_TWO_SLEEPERS = (
    "import sys; from pathlib import Path; from common.executor import ExecutorParams, run_tasks; "
    "from tests.common.test_executor import tasks, sleep_long; "
    "run_tasks(tasks(Path(sys.argv[1]), 2, sleep_long), Path(sys.argv[1]) / 'phase', "
    "ExecutorParams(workers=2), 'sleep')"
)


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_a_stage_killed_with_sigkill_leaves_no_worker_behind(tmp_path):
    stage = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _STAGE_OF_TWO_SLEEPERS,
            str(tmp_path),
        ],
        cwd=Path(__file__).parents[2],
    )
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("*.pid"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = [int(p.read_text()) for p in tmp_path.glob("*.pid")]
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    stage.send_signal(signal.SIGKILL)
    stage.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
