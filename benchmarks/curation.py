"""Ingest + curate as the dump grows, the project's sharded stages against the unsharded main.

    make bench      (or: .venv/bin/python benchmarks/curation.py [--scales 1 3 10] [--baseline REV])

Synthetic JSONL dumps like the SAG paper's (943,685 posts from 429,791 users, 1.1 GB), scaled up
with the same generator and more users (x3, x10: 3.3 and 11 GB): heavy-tailed posts per user
(capped at 20,000), as many near-copies per post at every size, log-normal lengths, 5% Chinese
posts, and bad rows of every kind (truncated JSON, invalid UTF-8, missing users, unparseable
dates, empty and oversize texts, duplicate ids). For each dump:

  project   `sag ingest` then `sag curate`, each its own process as `dvc repro` runs them, with
            the committed params (shards: auto, the executor's process pool on every core)
  baseline  the same two stages from git revision REV (default: the last unsharded main), which
            hold the whole dump's text in one process; run on the paper-scale dump only

Printed per run: each stage's wall time and the peak memory of its whole process tree (the stage
and every worker it starts, sampled every 20 ms; resident memory summed over the processes, so
pages two processes share count twice), the disk both stages used at most beyond the dump (their
outputs and work folders, with DuckDB's spill; measured on the file system holding
benchmarks/.cache, so nothing else should write there meanwhile), then seconds per GB. The last lines: how time and peak
grow from the smallest dump to the largest, and the project against the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
PAPER_POSTS, PAPER_USERS = 943_685, 429_791
UNSHARDED_MAIN = "eac8993"  # the last main whose ingest and curate held the whole dump


def generate(path: Path, n_posts: int, n_users: int, seed: int = 0) -> None:
    """Write the synthetic dump; slices of one long random word stream keep this fast."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(2, 10))) for _ in range(8000)]
    zipf = 1 / np.arange(1, len(vocab) + 1)
    # The stream grows with the dump (12M words at the paper's scale), so that a bigger dump has as
    # many near-copies per post, not more: random slices of a fixed stream overlap more the more there are.
    length = max(12_000_000, round(12_000_000 * n_posts / PAPER_POSTS))
    words = np.array(vocab)[rng.choice(len(vocab), size=length, p=zipf / zipf.sum())]
    stream = " ".join(words.tolist())
    han = [chr(c) for c in rng.integers(0x4E00, 0x9FA5, size=3000)]
    cjk_stream = "".join(rng.choice(han, size=length // 4).tolist())
    # Posts per user are heavy-tailed (a Zipf law over counts, exponent 2.4: 2.2 a user on average,
    # as in the paper's corpus) and capped at 20,000 (one person's output), so a bigger forum has
    # more users, not a bigger top user. (A Zipf law over users gave one user a quarter of any dump.)
    counts = np.minimum(rng.zipf(2.4, size=n_users), 20_000)
    user_of = np.repeat(np.arange(n_users), counts)
    rng.shuffle(user_of)
    user_of = np.resize(user_of, n_posts)  # cut (or repeated) to exactly n_posts
    n_words = np.clip(rng.lognormal(np.log(120), 0.8, size=n_posts), 3, 8000).astype(int)
    starts = rng.integers(0, len(stream) - 60_000, size=n_posts)
    is_cjk = rng.random(n_posts) < 0.05
    stamps = 1_500_000_000 + rng.integers(0, 2 * 365 * 86400, size=n_posts)
    bad = rng.random(n_posts)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n_posts):
            if is_cjk[i]:
                s = int(starts[i]) % (len(cjk_stream) - 10_000)
                text = cjk_stream[s : s + int(n_words[i]) + 20]
            else:
                s = int(starts[i])
                text = stream[s : s + 6 * int(n_words[i])]
            row = {
                "post_id": f"p{i}",
                "user": f"user{user_of[i]}",
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(stamps[i]))),
                "title": stream[s : s + 40],
                "text": text,
            }
            b = bad[i]
            if b < 0.002:
                row["user"] = None
            elif b < 0.004:
                row["created_at"] = "not a date"
            elif b < 0.006:
                row["text"] = "   "
            elif b < 0.0065:
                row["text"] = stream[s : s + 120_000]  # oversize
            elif b < 0.0085 and i > 0:
                row["post_id"] = f"p{i - 1}"  # duplicate id
            line = json.dumps(row, ensure_ascii=False)
            if b > 0.99995:
                line = line[: len(line) // 2]  # truncated line
            fh.write(line + "\n")
    with path.open("ab") as fh:  # a few lines that are not UTF-8
        for i in range(20):
            fh.write(b'{"post_id": "latin%d", "user": "caf\xe9", "created_at": "2020-01-01", "text": "x"}\n' % i)


def tree_peak(proc: subprocess.Popen, every: float = 0.02) -> int:
    """The largest resident memory of `proc` and all its descendants together, sampled until it ends."""
    import psutil

    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        total = 0
        for p in tree:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        peak = max(peak, total)
        time.sleep(every)
    return peak


def run_stage(tree: Path, args: list[str], env: dict) -> tuple[float, int]:
    """One `sag` stage run from `tree`'s code: (seconds, tree peak in bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", *args], cwd=tree, env=env, stderr=subprocess.PIPE)
    peak = [0]
    sampler = threading.Thread(target=lambda: peak.__setitem__(0, tree_peak(proc)))
    sampler.start()
    _, err = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(args[:1])} from {tree} failed:\n{err.decode(errors='replace')[-3000:]}")
    return time.perf_counter() - start, peak[0]


def measure(tree: Path, dump: Path, out: Path) -> dict:
    """ingest then curate, as dvc repro runs them, with `tree`'s committed params; `disk`: the
    most the file system held beyond its use at the start (outputs, work folders, spill)."""
    env = os.environ | {"PYTHONPATH": str(tree), "SAG_CACHE": str(out / "cache"), "TQDM_DISABLE": "1"}
    params = str(tree / "params.yaml")
    out.mkdir(parents=True)
    start, disk, running = shutil.disk_usage(out).used, [0], threading.Event()

    def sample_disk() -> None:  # the file system's use, not a walk of the folders: cheap every 0.25 s
        while not running.wait(0.25):
            disk[0] = max(disk[0], shutil.disk_usage(out).used - start)

    sampler = threading.Thread(target=sample_disk)
    sampler.start()
    try:
        ingest = run_stage(
            tree, ["ingest", str(dump), str(out / "ingest"), str(out / "ingest.json"), "--params", params], env
        )
        posts = str(out / "ingest" / "posts.parquet")
        args = ["curate", posts, str(out / "curate"), str(out / "curate.json"), "--params", params]
        curate = run_stage(tree, args, env)
    finally:
        running.set()
        sampler.join()
    metrics = json.loads((out / "curate.json").read_text())
    return {"ingest": ingest, "curate": curate, "articles": metrics["articles"], "disk": disk[0]}


def baseline_tree(rev: str) -> Path:
    tree = CACHE / f"tree-{rev}"
    if not tree.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True, capture_output=True
        )
    return tree


def dump_of(scale: int) -> Path:
    dump = CACHE / f"forum-x{scale}.jsonl"
    if not dump.exists():
        t = time.perf_counter()
        generate(dump.with_suffix(".tmp"), PAPER_POSTS * scale, PAPER_USERS * scale, seed=scale)
        dump.with_suffix(".tmp").rename(dump)
        print(
            f"generated {dump.name}: {dump.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - t:.0f} s", flush=True
        )
    return dump


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 3, 10], help="dumps of this many times the paper's")
    ap.add_argument("--baseline", default=UNSHARDED_MAIN, help="git revision to compare with on the smallest dump")
    args = ap.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    dumps = {scale: dump_of(scale) for scale in sorted(args.scales)}
    runs = []
    smallest = min(dumps)
    for scale, dump in dumps.items():
        trees = [("project", ROOT)] + ([("baseline", baseline_tree(args.baseline))] if scale == smallest else [])
        for name, tree in trees:
            out = CACHE / f"out-{name}-x{scale}"
            shutil.rmtree(out, ignore_errors=True)
            try:
                r = measure(tree, dump, out) | {"name": name, "scale": scale, "gb": dump.stat().st_size / 1e9}
            finally:  # a failed run must not leave gigabytes behind
                shutil.rmtree(out, ignore_errors=True)
            runs.append(r)
            seconds = r["ingest"][0] + r["curate"][0]
            print(
                f"{name:<8} x{scale:<3} {r['gb']:6.2f} GB  ingest {r['ingest'][0]:7.1f} s {r['ingest'][1] / 2**30:5.2f} GB"
                f"  curate {r['curate'][0]:7.1f} s {r['curate'][1] / 2**30:5.2f} GB  {r['articles']:>9} articles"
                f"  disk {r['disk'] / 2**30:5.1f} GB  {seconds / r['gb']:6.1f} s/GB",
                flush=True,
            )
    project = [r for r in runs if r["name"] == "project"]
    first, last = project[0], project[-1]
    per_gb = lambda r: (r["ingest"][0] + r["curate"][0]) / r["gb"]  # noqa: E731
    peak = lambda r: max(r["ingest"][1], r["curate"][1])  # noqa: E731
    print(
        f"x{last['scale']} against x{first['scale']}: {last['gb'] / first['gb']:.1f}x the data took "
        f"{(last['ingest'][0] + last['curate'][0]) / (first['ingest'][0] + first['curate'][0]):.1f}x the time "
        f"and {peak(last) / peak(first):.2f}x the peak ({peak(last) / 2**30:.2f} GB)"
    )
    base = next((r for r in runs if r["name"] == "baseline"), None)
    if base:
        print(
            f"x{first['scale']}: project {first['ingest'][0] + first['curate'][0]:.1f} s, {peak(first) / 2**30:.2f} GB; "
            f"unsharded {args.baseline} {base['ingest'][0] + base['curate'][0]:.1f} s, {peak(base) / 2**30:.2f} GB"
        )
        print(
            f"speed-up over the unsharded main: {(base['ingest'][0] + base['curate'][0]) / (first['ingest'][0] + first['curate'][0]):.2f}x"
        )
    print(f"seconds per GB, x{last['scale']} / x{first['scale']}: {per_gb(last) / per_gb(first):.2f}")


if __name__ == "__main__":
    main()
