"""Ingest + curate at the SAG paper's scale, the project's way versus two obvious alternatives.

    make bench            (or: .venv/bin/python benchmarks/curation.py [--posts N --users N --rounds 3])

A synthetic JSONL dump like the paper's (943,685 posts from 429,791 users, about 1 GB): heavy-tailed
posts per user, log-normal lengths, 5% Chinese posts, and bad rows of every kind (truncated JSON,
invalid UTF-8, missing users, unparseable dates, empty and oversize texts, duplicate ids).
Each implementation runs in its own process, so its peak memory (max RSS) is its own:

  project  the `ingest` and `curate` stages as `dvc repro` runs them: each in its own process,
           curate reading the posts Parquet that ingest wrote; its time is theirs added up,
           its peak memory the larger stage's
  pandas   a straightforward pandas implementation of the same steps, quarantine kept too
  duckdb   a plain hand-written DuckDB SQL script of the same steps; read_json(ignore_errors)
           turns a broken line into a row of NULLs, so its content and true reason are lost

Every round is printed; the last line is the project's speed-up over the faster alternative
(medians over the rounds; peak memory is the highest round's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
PAPER_POSTS, PAPER_USERS = 943_685, 429_791


def generate(path: Path, n_posts: int, n_users: int, seed: int = 0) -> None:
    """Write the synthetic dump; slices of one long random word stream keep this fast."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlcumwfgypbvkjxqz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(2, 10))) for _ in range(8000)]
    zipf = 1 / np.arange(1, len(vocab) + 1)
    words = np.array(vocab)[rng.choice(len(vocab), size=12_000_000, p=zipf / zipf.sum())]
    stream = " ".join(words.tolist())
    han = [chr(c) for c in rng.integers(0x4E00, 0x9FA5, size=3000)]
    cjk_stream = "".join(rng.choice(han, size=3_000_000).tolist())
    # Every user posts once; the rest of the posts follow a Zipf law over users (a few very active ones).
    extra = rng.zipf(1.3, size=n_posts - n_users) % n_users
    user_of = np.concatenate([np.arange(n_users), extra])
    rng.shuffle(user_of)
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


def run_ingest(dump: Path, out: Path) -> dict:
    """The `ingest` stage as `dvc repro` runs it (`sag ingest`), with the committed params."""
    from pipeline import ingest

    metrics = ingest.main(dump, out, out / "ingest.json", ROOT / "params.yaml")
    return {"accepted": metrics["accepted"], "quarantined": metrics["quarantined"]}


def run_curate(dump: Path, out: Path) -> dict:
    """The `curate` stage (`sag curate`), reading what `run_ingest` wrote."""
    from pipeline import curate

    metrics = curate.main(out / "posts.parquet", out, out / "curate.json", ROOT / "params.yaml")
    return {"articles": metrics["articles"]}


def run_pandas(dump: Path, out: Path) -> dict:
    import hashlib
    import unicodedata

    import pandas as pd

    # pandas has no per-line error handling for JSON: parse line by line, keep the broken ones.
    good, bad = [], []
    with dump.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            try:
                good.append(json.loads(line))
            except (UnicodeDecodeError, json.JSONDecodeError):
                bad.append({"record": f"line {n}", "reason": "unparseable", "raw": line.decode("utf-8", "replace")})
    df = pd.DataFrame(good)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True, errors="coerce", format="ISO8601")
    reason = pd.Series(None, index=df.index, dtype="object")
    reason[df["user"].isna()] = "missing_user"
    reason[reason.isna() & df["created_at"].isna()] = "bad_date"
    reason[reason.isna() & (df["text"].fillna("").str.strip() == "")] = "empty_body"
    reason[reason.isna() & (df["text"].str.len() > 100_000)] = "oversize"
    reason[reason.isna() & df["post_id"].duplicated()] = "duplicate_id"
    df["reason"] = reason
    quarantine = pd.concat([df[df["reason"].notna()].astype(str), pd.DataFrame(bad)])
    posts = df[df["reason"].isna()].drop(columns="reason").copy()
    posts["user_id"] = [hashlib.blake2b(u.encode(), key=b"sag-v1", digest_size=8).hexdigest() for u in posts["user"]]
    posts.to_parquet(out / "posts.parquet")
    quarantine.to_parquet(out / "quarantine.parquet")
    posts["text"] = [unicodedata.normalize("NFC", t) for t in posts["text"]]
    posts["n_words"] = posts["text"].str.count(r"[A-Za-z0-9']+") + posts["text"].str.count(r"[\u4e00-\u9fff]")
    posts = posts.sort_values(["user_id", "created_at", "post_id"])
    keep = ~posts.duplicated(["user_id", "text"]) & posts["n_words"].between(50, 2000)
    posts = posts[keep]
    posts = posts[posts.groupby("user_id")["post_id"].transform("size") >= 3].copy()
    posts["position"] = posts.groupby("user_id").cumcount()
    users = sorted(posts["user_id"].unique(), key=lambda u: hashlib.blake2b(u.encode(), digest_size=8).hexdigest())
    cut1, cut2 = int(0.8 * len(users)), int(0.9 * len(users))
    split = {u: ("train" if i < cut1 else "align" if i < cut2 else "test") for i, u in enumerate(users)}
    posts["split"] = posts["user_id"].map(split)
    posts.to_parquet(out / "articles.parquet")
    return {"accepted": int((df["reason"].isna()).sum()), "quarantined": len(quarantine), "articles": len(posts)}


DUCKDB_SCRIPT = """
CREATE TABLE raw AS SELECT * FROM read_json('{dump}', format='newline_delimited', ignore_errors=true,
    columns={{post_id: 'VARCHAR', "user": 'VARCHAR', created_at: 'VARCHAR', title: 'VARCHAR', text: 'VARCHAR'}});
CREATE TABLE checked AS SELECT *, try_cast(created_at AS TIMESTAMPTZ) AS ts,
    CASE WHEN "user" IS NULL THEN 'missing_user'
         WHEN try_cast(created_at AS TIMESTAMPTZ) IS NULL THEN 'bad_date'
         WHEN trim(coalesce(text, '')) = '' THEN 'empty_body'
         WHEN length(text) > 100000 THEN 'oversize'
         WHEN row_number() OVER (PARTITION BY post_id ORDER BY rowid) > 1 THEN 'duplicate_id' END AS reason
    FROM raw;
COPY (SELECT * FROM checked WHERE reason IS NOT NULL) TO '{out}/quarantine.parquet' (FORMAT parquet);
CREATE TABLE posts AS SELECT post_id, md5("user")[:16] AS user_id, ts AS created_at, title, nfc_normalize(text) AS text
    FROM checked WHERE reason IS NULL;
COPY posts TO '{out}/posts.parquet' (FORMAT parquet);
CREATE TABLE counted AS SELECT *,
    len(regexp_extract_all(text, '[A-Za-z0-9'']+')) + len(regexp_extract_all(text, '[\\x{{4e00}}-\\x{{9fff}}]')) AS n_words,
    row_number() OVER (PARTITION BY user_id, text ORDER BY created_at, post_id) AS copy_no
    FROM posts;
CREATE TABLE kept AS SELECT * FROM counted WHERE copy_no = 1 AND n_words BETWEEN 50 AND 2000;
CREATE TABLE articles AS SELECT * EXCLUDE (copy_no),
    row_number() OVER (PARTITION BY user_id ORDER BY created_at, post_id) - 1 AS position,
    CASE WHEN hash(user_id) % 10 < 8 THEN 'train' WHEN hash(user_id) % 10 < 9 THEN 'align' ELSE 'test' END AS split
    FROM kept QUALIFY count(*) OVER (PARTITION BY user_id) >= 3;
COPY (SELECT * FROM articles ORDER BY user_id, position) TO '{out}/articles.parquet' (FORMAT parquet);
"""


def run_duckdb(dump: Path, out: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute(DUCKDB_SCRIPT.format(dump=dump, out=out))
    count = lambda sql: con.execute(sql).fetchone()[0]
    return {
        "accepted": count("SELECT count(*) FROM posts"),
        "quarantined": count("SELECT count(*) FROM checked WHERE reason IS NOT NULL"),
        "articles": count("SELECT count(*) FROM articles"),
    }


RUNNERS = {"project": (run_ingest, run_curate), "pandas": (run_pandas,), "duckdb": (run_duckdb,)}
STEPS = {f.__name__: f for steps in RUNNERS.values() for f in steps}


def measure(name: str, dump: Path) -> dict:
    """Run one implementation, each of its steps in a child process; report the wall time and
    the peak memory of each step, added up and the largest."""
    out = CACHE / f"out-{name}"
    out.mkdir(parents=True, exist_ok=True)
    total: dict = {"seconds": 0.0, "peak_mb": 0.0, "steps": {}}
    for step in RUNNERS[name]:
        proc = subprocess.run(
            [sys.executable, __file__, "--run", step.__name__, "--dump", str(dump), "--out", str(out)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"{name} ({step.__name__}) failed:\n{proc.stderr[-3000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        total["steps"][step.__name__] = (r.pop("seconds"), r.pop("peak_mb"))
        total |= r
    total["seconds"] = sum(s for s, _ in total["steps"].values())
    total["peak_mb"] = max(m for _, m in total["steps"].values())
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=PAPER_POSTS)
    ap.add_argument("--users", type=int, default=PAPER_USERS)
    ap.add_argument("--only", nargs="*", default=list(RUNNERS), choices=list(RUNNERS))
    ap.add_argument("--rounds", type=int, default=1, help="alternate the implementations this many times")
    ap.add_argument("--run", choices=list(STEPS), help=argparse.SUPPRESS)
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:  # child process
        sys.path.insert(0, str(ROOT))
        start = time.perf_counter()
        counts = STEPS[args.run](args.dump, args.out)
        seconds = time.perf_counter() - start
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec.
        hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
        peak_mb = int(hwm.split()[1]) / 1024
        print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, **counts}))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    dump = CACHE / f"forum-{args.posts}-{args.users}.jsonl"
    if not dump.exists():
        t = time.perf_counter()
        generate(dump, args.posts, args.users)
        print(f"generated {dump.name}: {dump.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - t:.0f} s")
    # Rounds alternate the implementations, so a slow spell of the machine hits each of them.
    rounds = [{name: measure(name, dump) for name in args.only} for _ in range(args.rounds)]
    print(f"{'round':<6} {'impl':<8} {'seconds':>8} {'peak MB':>8} {'accepted':>9} {'quarantined':>11} {'articles':>9}")
    for k, results in enumerate(rounds, 1):
        for name, r in results.items():
            steps = "  (" + ", ".join(f"{s}: {t:.1f} s {m:.0f} MB" for s, (t, m) in r["steps"].items()) + ")"
            print(
                f"{k:<6} {name:<8} {r['seconds']:>8.1f} {r['peak_mb']:>8.0f} {r['accepted']:>9} {r['quarantined']:>11} "
                f"{r['articles']:>9}{steps if len(r['steps']) > 1 else ''}"
            )
    if "project" not in args.only or len(args.only) < 2:
        return
    seconds = {name: statistics.median(r[name]["seconds"] for r in rounds) for name in args.only}
    peak = {name: max(r[name]["peak_mb"] for r in rounds) for name in args.only}
    others = [name for name in args.only if name != "project"]
    for name in others:
        print(
            f"project vs {name} (median of {len(rounds)} rounds): {seconds[name] / seconds['project']:.2f}x faster; "
            f"{name} needs {peak[name] / peak['project']:.2f}x the memory"
        )
    best = min(others, key=seconds.get)
    print(f"speed-up over the faster alternative ({best}): {seconds[best] / seconds['project']:.2f}x")


if __name__ == "__main__":
    main()
