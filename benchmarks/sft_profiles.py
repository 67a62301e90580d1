"""Which `cpu` S-SFT profile learns on 2 cores: candidate settings side by side, judged on held-out
(align-split) users' loss, never on test users.

    .venv/bin/python benchmarks/sft_profiles.py [--variant sag] [--only NAME ...]

Every candidate trains SmolLM2-135M (LoRA, bf16) on the train-split examples of one variant of
outputs/build_sft/sft.parquet (from `dvc repro`) and measures the loss on the same seeded sample of
align-split examples (sft.held_out_examples) before training (the base model) and after. A row:
wall seconds, steps, training loss first/last, held-out loss base -> trained and the drop. The
last line compares the committed cpu profile with the old one (8 steps, dropout 0.05): held-out
loss drop and seconds. Candidates at another max_length see another cut of the same examples, so
compare their drops, not their raw losses. Do not run it beside another heavy job.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not a package; import the project from the repo root

OLD = {"max_steps": 8, "learning_rate": 2e-4, "lora_dropout": 0.05, "max_length": 768}
CANDIDATES = {
    "old": OLD,
    "no-dropout": OLD | {"lora_dropout": 0.0},
    "lr5e-4x16": OLD | {"lora_dropout": 0.0, "learning_rate": 5e-4, "max_steps": 16},
    "lr1e-3x16": OLD | {"lora_dropout": 0.0, "learning_rate": 1e-3, "max_steps": 16},
    "lr1e-3x24": OLD | {"lora_dropout": 0.0, "learning_rate": 1e-3, "max_steps": 24},
    # with a set built with shorter prompts (--sft), so that 512 tokens keep ~180 of the article
    "short512x16": OLD | {"lora_dropout": 0.0, "learning_rate": 1e-3, "max_steps": 16, "max_length": 512},
    "short512x24": OLD | {"lora_dropout": 0.0, "learning_rate": 1e-3, "max_steps": 24, "max_length": 512},
    "committed": {},
}


def run(name: str, changes: dict, variant: str, sft_path: Path, out: Path) -> dict:
    import polars as pl

    from pipeline.params import load_section
    from pipeline.sft import split_examples
    from training.sft import SFTParams, train

    section = load_section("sft", ROOT / "params.yaml")
    cpu = section["profiles"]["cpu"] | changes | {"save_steps": 0}
    params = SFTParams(
        variant=variant, profiles={"cpu": cpu}, seed=section["seed"], held_out_examples=section["held_out_examples"]
    )
    examples, held_out = split_examples(pl.read_parquet(sft_path), params)
    start = time.perf_counter()
    metrics = train(examples, params, out / name / "model", out / name / "live", progress=False, held_out=held_out)
    return {"name": name, "seconds": time.perf_counter() - start, **metrics}


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="sag")
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--sft", type=Path, default=ROOT / "outputs/build_sft/sft.parquet")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only:
            r = rows[name] = run(name, CANDIDATES[name], args.variant, args.sft, Path(tmp))
            drop = r["held_out_loss_base"] - r["held_out_loss"]
            print(
                f"{name:12s} {r['seconds']:6.0f} s  {r['steps']:3d} steps  train {r['first_loss']:.3f} -> "
                f"{r['final_loss']:.3f}  held-out ({r['held_out_examples']} ex) {r['held_out_loss_base']:.3f} -> "
                f"{r['held_out_loss']:.3f}  drop {drop:.3f}",
                flush=True,
            )
    if "old" in rows and "committed" in rows:
        old, new = rows["old"], rows["committed"]
        drops = [r["held_out_loss_base"] - r["held_out_loss"] for r in (new, old)]
        print(
            f"committed vs old cpu profile: held-out loss drop {drops[0]:.3f} vs {drops[1]:.3f} "
            f"({drops[0] / max(drops[1], 1e-9):.1f}x), seconds {new['seconds']:.0f} vs {old['seconds']:.0f} "
            f"({new['seconds'] / old['seconds']:.2f}x)"
        )


if __name__ == "__main__":
    main()
