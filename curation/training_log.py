"""Training curves as DVC plots, for every trainer in the project (style embedder, SFT, DPO)."""

from __future__ import annotations

from pathlib import Path


def dvclive_callback(live_dir: Path):
    """Curves into `live_dir/plots/metrics/*.tsv` (DVC plots) without touching dvc.yaml or git."""
    from dvclive import Live
    from transformers.integrations import DVCLiveCallback

    class FilesOnly(Live):
        # dvclive's files (metrics.json, plots/metrics/*.tsv) without its own DVC integration: the
        # stage already runs under DVC, and that integration fails in a git repository without
        # commits ("Empty git repo", treeverse/dvclive#522 is back in this version).
        def _init_dvc(self):
            pass

    return DVCLiveCallback(live=FilesOnly(str(live_dir), save_dvc_exp=False, dvcyaml=None))
