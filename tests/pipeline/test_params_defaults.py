"""params.yaml is the defaults, written out: every value in it equals its dataclass's default, so
running a library function without params.yaml gives the pipeline's own behaviour."""

import dataclasses

import pytest

from common.device import ComputeParams
from curation.curate import CurateParams
from curation.ingest import IngestParams
from style.embedder import FilterTrainParams
from style.pairs import ScoreParams, SelectParams
from eval.systems import EvalParams
from llm.inverse_generation import NeutralizeParams
from llm.types import LLMParams
from tests.conftest import committed_params
from training.dpo import DPOParams
from training.dpo_data import DPODataParams
from training.sft import SFTParams
from training.sft_data import SFTDataParams

SECTIONS = {
    "compute": (ComputeParams,),
    "ingest": (IngestParams,),
    "curate": (CurateParams,),
    "filter": (FilterTrainParams, ScoreParams, SelectParams),
    "llm": (LLMParams,),
    "build_sft": (SFTDataParams,),
    "sft": (SFTParams,),
    "build_dpo": (DPODataParams,),
    "dpo": (DPOParams,),
    "evaluate": (EvalParams,),
    "neutralize": (NeutralizeParams,),
}


def defaults(cls) -> dict:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def plain(value):
    """Dataclass defaults may be tuples or nested dataclasses where YAML has lists and mappings."""
    if dataclasses.is_dataclass(value):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


@pytest.mark.parametrize("section", SECTIONS)
def test_params_yaml_writes_out_the_dataclass_defaults(section):
    written = committed_params()[section]
    known = {}
    for cls in SECTIONS[section]:
        known |= defaults(cls)
    # Training profiles live in params.yaml only (training/profiles.py checks them); the dataclass has none.
    compared = {k: v for k, v in written.items() if k in known and k != "profiles"}
    assert compared, f"{section}: no param of params.yaml is a field of {SECTIONS[section]}"
    differ = {k: (v, plain(known[k])) for k, v in compared.items() if plain(v) != plain(known[k])}
    assert differ == {}, f"{section}: params.yaml value vs dataclass default"
