"""The device policy (issue 16): resolution, batch sizes per device class, world size, and every
model stage asking it. A GPU is simulated by patching what torch reports; nothing needs one."""

import ast
import dataclasses
from pathlib import Path

import pytest
import yaml

from common import device as compute
from common.device import ComputeParams, configure
from common.errors import InputError

REPO = Path(__file__).resolve().parents[2]
MODEL_STAGES = ("train_filter", "score", "neutralize", "sft", "sft_ablation", "build_dpo", "dpo", "evaluate")


@pytest.fixture
def gpus(monkeypatch):
    """Pretend torch sees `n` GPUs; the policy goes back to the default afterwards."""

    def pretend(n: int) -> None:
        monkeypatch.setattr(compute, "_cuda_devices", lambda: n)

    yield pretend
    monkeypatch.undo()
    configure(ComputeParams())


def test_auto_is_cpu_without_a_gpu_and_cuda_with_one(gpus):
    gpus(0)
    assert configure(ComputeParams()) == "cpu" and compute.batch_size("generate") == 16
    gpus(2)
    assert configure(ComputeParams()) == "cuda" and compute.batch_size("embed") == 256
    assert configure(ComputeParams(device="cuda:1")) == "cuda:1" and compute.device_class() == "cuda"
    assert configure(ComputeParams(device="cpu")) == "cpu" and compute.batch_size("embed") == 32


@pytest.mark.parametrize("spec, seen", [("cuda", 0), ("cuda:1", 1)])
def test_asking_for_a_gpu_that_is_not_there_is_one_line(gpus, spec, seen):
    gpus(seen)
    with pytest.raises(InputError, match=rf"compute.device='{spec}', but torch sees") as err:
        configure(ComputeParams(device=spec))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"device": "gpu"}, "compute.device='gpu'"),
        ({"device": "cuda:x"}, "compute.device='cuda:x'"),
        ({"embed_batch_size": {"cpu": 32}}, "compute.embed_batch_size"),
        ({"generate_batch_size": {"cpu": 0, "cuda": 8}}, "compute.generate_batch_size"),
    ],
)
def test_bad_compute_params_are_refused(kwargs, fragment):
    with pytest.raises(InputError, match=fragment.replace("(", r"\(")):
        ComputeParams(**kwargs)


def test_gradient_accumulation_follows_the_world_size(monkeypatch):
    assert compute.gradient_accumulation(8) == 8
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert compute.gradient_accumulation(8) == 2 and compute.gradient_accumulation(2) == 1


def test_trainers_and_filter_training_follow_the_policy(gpus, tmp_path, monkeypatch):
    from training.trainer_setup import trainer_kwargs

    settings = {
        "learning_rate": 1e-5,
        "lr_scheduler": "cosine",
        "warmup_ratio": 0.0,
        "epochs": 1,
        "max_steps": 1,
        "per_device_batch_size": 1,
        "gradient_accumulation_steps": 4,
        "max_length": 64,
        "precision": "fp32",
        "logging_steps": 1,
        "save_steps": 0,
    }
    gpus(0)
    configure(ComputeParams())
    assert trainer_kwargs(settings, tmp_path, 1)["use_cpu"] is True
    gpus(2)
    configure(ComputeParams())
    monkeypatch.setenv("WORLD_SIZE", "2")
    kwargs = trainer_kwargs(settings, tmp_path, 1)
    assert kwargs["use_cpu"] is False and kwargs["gradient_accumulation_steps"] == 2


def test_the_embedder_is_placed_where_the_policy_says(monkeypatch):
    from style.embeddings import encode, load_model, resolve_model

    asked = []
    monkeypatch.setattr(compute, "device", lambda: asked.append("device") or "cpu")
    model = load_model(resolve_model("packaged:all-MiniLM-L6-v2"), "fp32")
    assert asked and str(model.device) == "cpu"
    assert encode(model, ["a post", "another"]).shape == (2, 384)


def test_every_model_stage_asks_the_policy():
    """Each model stage's entry point calls use_compute, and dvc.yaml lists the device policy's
    keys in its params, so `dvc exp run -S compute.device=cuda` re-runs exactly the model stages
    (and `-S compute.workers=4`, which only the sharded curation stages read, none of them)."""
    policy = {f"compute.{f.name}" for f in dataclasses.fields(ComputeParams)}
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    stages = {name: stage.get("do", stage) for name, stage in stages.items()}  # foreach stages too
    for name in MODEL_STAGES:
        assert policy <= set(stages[name]["params"]), name
        assert not any(p.startswith("compute.") and p not in policy for p in stages[name]["params"]), name
        module = stages[name]["cmd"].split()[1].replace("-", "_")
        tree = ast.parse((REPO / "pipeline" / f"{module}.py").read_text())
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "use_compute" in calls, name
    for name in set(stages) - set(MODEL_STAGES):
        declared = set(stages[name].get("params") or [])
        assert "compute" not in declared and not policy & declared, name
