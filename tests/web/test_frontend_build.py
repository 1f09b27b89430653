"""scripts/frontend.sh, which scripts/setup.sh runs: quick when the build is current,
a clear message when npm is missing. Run on a copy of the script and a stand-in tree,
so the real build is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..conftest import ROOT


def tree(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "frontend.sh", tmp_path / "scripts")
    frontend = tmp_path / "webapp" / "frontend"
    (frontend / "src").mkdir(parents=True)
    for name in ("package-lock.json", "build.mjs", "src/designer.js"):
        (frontend / name).write_text("{}")
    (tmp_path / "webapp" / "static" / "build").mkdir(parents=True)
    # A PATH with the tools the script needs and no npm.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "find", "dirname"):
        os.symlink(shutil.which(tool), bin_dir / tool)  # type: ignore[arg-type]
    return tmp_path


def run(root: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(root / "bin")}
    return subprocess.run(
        [str(root / "bin" / "bash"), str(root / "scripts" / "frontend.sh")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_current_build_is_left_alone_and_a_stale_one_needs_npm(tmp_path):
    root = tree(tmp_path)
    built = root / "webapp" / "static" / "build" / "designer.js"
    stale = run(root)  # nothing built yet
    assert stale.returncode == 1 and "npm not found" in stale.stderr
    built.write_text("")
    source = root / "webapp" / "frontend" / "src" / "designer.js"
    old = built.stat().st_mtime - 60
    os.utime(source, (old, old))
    for name in ("package-lock.json", "build.mjs"):
        os.utime(root / "webapp" / "frontend" / name, (old, old))
    current = run(root)
    assert (current.returncode, current.stderr) == (0, "")
    os.utime(source, (old + 90, old + 90))  # edited after the build
    assert run(root).returncode == 1
