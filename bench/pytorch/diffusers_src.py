"""Imports diffusers from its extracted source for the PyTorch peers of the benchmarks, offline: the
import-time stubs of tools/golden/hf_stubs.py stand in for its other dependencies.

Setup: PyTorch 2.13 from the machine's wheel cache and diffusers' source extracted as tools/golden/README.md says:
    python3 -m venv --system-site-packages /tmp/venv
    /tmp/venv/bin/pip install --no-index --no-deps --find-links /opt/wheels torch
    git --git-dir=PATH/TO/diffusers.git archive "$(cat tools/golden/DIFFUSERS_COMMIT)" src/diffusers | tar -x -C tools/golden
or point --diffusers-src at any directory that holds diffusers/ at that commit.
"""

import os
import sys

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "golden")
DEFAULT_SRC = os.path.join(GOLDEN, "src")


def import_diffusers(src):
    """Makes `import diffusers` read the source in `src` (exits with a one-line message when it is not there)."""
    if not os.path.isdir(os.path.join(src, "diffusers")):
        sys.exit(f"no diffusers/ in {src}: extract diffusers' source there (see bench/pytorch/diffusers_src.py)")
    sys.path.insert(0, os.path.abspath(GOLDEN))
    sys.path.insert(0, os.path.abspath(src))
    import hf_stubs
    hf_stubs.install()
