"""Find dcmtk's command-line tools, not pynetdicom's look-alikes.

pynetdicom installs its own ``storescu``, ``movescu``, ``echoscu``... into the virtual
environment's ``bin``; with that folder first on ``PATH`` they shadow dcmtk's, whose options
differ. Tests that mean dcmtk look past the environment's ``bin``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def dcmtk_tool(name: str) -> str:
    """The path of dcmtk's ``name``, skipping the Python environment's own scripts.

    Raises
    ------
    FileNotFoundError
        When dcmtk's tool is not installed (Debian package ``dcmtk``).
    """
    env_bin = (Path(sys.prefix) / "bin").resolve()
    folders = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    search = os.pathsep.join(p for p in folders if Path(p).resolve() != env_bin)
    found = shutil.which(name, path=search)
    if found is None:
        raise FileNotFoundError(f"dcmtk's {name} is not installed (Debian package dcmtk)")
    return found
