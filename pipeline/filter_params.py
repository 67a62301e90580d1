"""The `filter:` section serves three stages (train_filter, score, select): each takes its keys."""

from __future__ import annotations

from pathlib import Path

from style.embedder import FilterTrainParams
from style.pairs import ScoreParams, SelectParams
from pipeline.params import build

FILTER_STAGES = (FilterTrainParams, ScoreParams, SelectParams)


def filter_params(path: Path = Path("params.yaml")) -> FilterTrainParams:
    """The section as train_filter reads it; a key no stage knows is still an error."""
    return build(FilterTrainParams, "filter", path, shared_with=(ScoreParams, SelectParams))
