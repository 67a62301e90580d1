"""Training curves as DVC plots, for every trainer in the project (style embedder, SFT, DPO)."""

from __future__ import annotations

from pathlib import Path


def live_files(live_dir: Path):
    """A dvclive `Live` that writes its files (metrics.json, plots/metrics/*.tsv) into `live_dir` only."""
    from dvclive import Live

    class FilesOnly(Live):
        # Without dvclive's own DVC integration: the stage already runs under DVC, and that
        # integration fails in a git repository without commits ("Empty git repo",
        # treeverse/dvclive#522 is back in this version).
        def _init_dvc(self):
            pass

    return FilesOnly(str(live_dir), save_dvc_exp=False, dvcyaml=None)


def dvclive_callback(live_dir: Path):
    """A Hugging Face trainer callback writing curves into `live_dir/plots/metrics/*.tsv` (DVC plots)."""
    from transformers.integrations import DVCLiveCallback

    return DVCLiveCallback(live=live_files(live_dir))
