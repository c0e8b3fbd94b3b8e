"""The version of tfthreads: from the package metadata, else from the git checkout.

Installed (also editable), the version is the one hatch-vcs computed from git at install
time. Imported from a bare source tree (``PYTHONPATH=src``), it is ``0+g<commit>``
(``.dirty`` added when files differ from that commit), so that results measured that way
still say which code measured them; ``0+unknown`` outside a git checkout.
"""

from __future__ import annotations

import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _from_git(directory: Path) -> str:
    """Return ``0+g<commit>[.dirty]`` for the checkout holding `directory`, or ``0+unknown``."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )

    try:
        commit = git("rev-parse", "--short", "HEAD")
        if commit.returncode != 0:
            return "0+unknown"
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "0+unknown"
    return f"0+g{commit.stdout.strip()}" + (".dirty" if dirty else "")


try:
    __version__ = version("tfthreads")
except PackageNotFoundError:  # pragma: no cover - only when run from a bare source tree
    __version__ = _from_git(Path(__file__).parent)
