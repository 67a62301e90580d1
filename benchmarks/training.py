"""S-SFT throughput: the project's trainer settings against TRL's defaults, on the same data.

    .venv/bin/python benchmarks/training.py [--examples 32]

Both train SmolLM2-135M (the cpu profile: LoRA, bf16, batch 4, its max length) for one epoch over
the same seeded sample of the default `sag` set (outputs/build_sft/sft.parquet, from `dvc repro`).
They differ where TRL's defaults differ from ours: TRL checkpoints activations (recomputes the
forward pass during backward to save memory) and samples batches at random, so short and long
examples share a batch and the short ones are padded; we group batches by length and keep the
activations (a 135M model on 2 cores has memory to spare). Tokens/s counts real (non-padding)
tokens. A sample, not the whole set: one epoch of all 601 examples takes over an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not a package; import the project from the repo root


def run(examples: list[dict], project_way: bool, out: Path) -> dict:
    from pipeline.params import load_section
    from training.sft import SFTParams, make_trainer

    cpu = load_section("sft", ROOT / "params.yaml")["profiles"]["cpu"]
    params = SFTParams(profiles={"cpu": cpu | {"max_steps": 0, "epochs": 1, "group_by_length": project_way}})
    # TRL's SFTConfig checkpoints activations by default; the project turns it off.
    trainer = make_trainer(examples, params, out, progress=False, activation_checkpointing=not project_way)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    tokens = trainer.state.num_input_tokens_seen
    return {"seconds": seconds, "tokens": tokens, "tokens_per_s": tokens / seconds}


def main() -> None:
    import polars as pl

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=32)
    parser.add_argument("--sft", type=Path, default=ROOT / "outputs/build_sft/sft.parquet")
    args = parser.parse_args()
    if not args.sft.exists():
        sys.exit(f"{args.sft} does not exist: run `make repro` (or `dvc repro build_sft`) first")
    table = pl.read_parquet(args.sft).filter(pl.col("variant") == "sag")
    examples = table.sample(min(args.examples, len(table)), seed=0).select("prompt", "completion").to_dicts()
    print(f"{len(examples)} examples of the default sag set, one epoch each, 2 CPU cores")
    results = {}
    for name, project_way in (
        ("TRL defaults (checkpointing, random batches)", False),
        ("project (no checkpointing, length-grouped)", True),
    ):
        results[name] = run(examples, project_way, Path("/tmp/sag-bench-training"))
        r = results[name]
        print(f"{name:46s} {r['seconds']:7.1f} s  {r['tokens']:7d} tokens  {r['tokens_per_s']:6.1f} tokens/s")
    trl, ours = results.values()
    print(f"speed-up over TRL defaults (real tokens/s): {ours['tokens_per_s'] / trl['tokens_per_s']:.2f}x")


if __name__ == "__main__":
    main()
