"""Shared fixtures: real messages of the default corpus and small salted dumps built per test."""

from pathlib import Path

import pytest

from curation.ingest import IngestParams
from tests.stage_deps import LAYERS

FIXTURES = Path(__file__).parent / "fixtures"
MAIL = FIXTURES / "mail"


def real_message(prefix: str) -> bytes:
    """A real SpamAssassin ham message, chosen by its file-name prefix (e.g. "00008")."""
    return next(MAIL.glob(f"{prefix}.*.eml")).read_bytes()


@pytest.fixture
def params() -> IngestParams:
    return IngestParams()


REPO = Path(__file__).resolve().parents[1]


def committed_params() -> dict:
    """params.yaml as committed: `dvc exp run -S ...` rewrites the workspace's copy, and a user's
    experiment must not change what the tests see. Outside a git checkout: the file itself."""
    import subprocess

    import yaml

    shown = subprocess.run(["git", "show", "HEAD:params.yaml"], cwd=REPO, capture_output=True, text=True, check=False)
    return yaml.safe_load(shown.stdout if shown.returncode == 0 else (REPO / "params.yaml").read_text())


WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "my",
    "friend",
    "writes",
    "long",
    "letters",
    "about",
    "gardens",
    "and",
    "trains",
]


def write_tiny_forum(path: Path, users: int = 20, per_user: int = 4) -> None:
    """A small JSONL forum whose posts pass the default curation (50+ words, 3+ posts per user)."""
    import json
    import random

    rng = random.Random(0)
    with path.open("w") as fh:
        for u in range(users):
            for k in range(per_user):
                text = " ".join(rng.choice(WORDS) for _ in range(60 + 5 * k))
                row = {
                    "post_id": f"u{u}-{k}",
                    "user": f"writer{u}",
                    "created_at": f"2024-02-{k + 1:02d}T12:00:00Z",
                    "title": f"t{k}",
                    "text": text,
                }
                fh.write(json.dumps(row) + "\n")


@pytest.fixture
def project(tmp_path, tiny_lm) -> Path:
    """A copy of the project's pipeline (dvc.yaml, params.yaml, code it depends on) over a tiny corpus."""
    import shutil

    import yaml

    shutil.copy(REPO / "dvc.yaml", tmp_path / "dvc.yaml")
    params = committed_params()
    # Seconds, not minutes: a few tiny training steps are enough to exercise the real stages.
    # threshold 0: the tiny forum's random words carry no style, and the stages after select need pairs
    params["filter"] |= {"batch_size": 4, "head_epochs": 2, "bootstrap": 20, "folds": 2, "threshold": 0.0}
    tiny = {"max_steps": 2, "per_device_batch_size": 2, "max_length": 512, "precision": "fp32"}
    params["sft"]["model"] = str(tiny_lm)
    params["sft"]["profiles"]["cpu"] |= tiny
    params["build_dpo"] |= {"max_prompts": 2, "max_new_tokens": 12}
    params["compute"]["generate_batch_size"]["cpu"] = 2
    params["dpo"]["profiles"]["cpu"] |= tiny | {"max_steps": 1}
    params["evaluate"] |= {"max_targets": 4, "max_new_tokens": 12, "bootstrap": 50}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for package in LAYERS:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(MAIL, tmp_path / "data" / "mail")
    write_tiny_forum(tmp_path / "data" / "forum.jsonl")
    import json

    # writer1 reposts writer0's first post later: curate must quarantine it as a near-duplicate.
    with (tmp_path / "data" / "forum.jsonl").open("r+") as fh:
        first = json.loads(fh.readline())
        fh.seek(0, 2)
        copy = first | {"post_id": "copy", "user": "writer1", "created_at": "2024-03-01T12:00:00Z"}
        fh.write(json.dumps(copy) + "\n")
    return tmp_path


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """A real but tiny Llama (2 layers, 64 wide, random weights) with SmolLM2's tokenizer and chat template:
    trains in a second a step, so tests can train for real and check that the weights moved."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, set_seed

    from common.models import DEFAULT, plain_model_dir

    tokenizer = AutoTokenizer.from_pretrained(plain_model_dir(DEFAULT))
    set_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    folder = tmp_path_factory.mktemp("tiny_lm")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def cpu_profile(section: str, **changes) -> dict:
    """`{section}.profiles` with the repository's cpu profile, changed: for tests that train in seconds."""

    params = committed_params()
    return {"cpu": params[section]["profiles"]["cpu"] | changes}


def chat_example(prompt: str, completion: str) -> dict:
    return {
        "prompt": [{"role": "user", "content": prompt}],
        "completion": [{"role": "assistant", "content": completion}],
    }
