"""Fixtures for the fault tests: small real disks (tmpfs mounts) and a private spool root.

A full disk is reproduced with a tmpfs of a few MiB (mounting needs root, which CI has). Where
mounting is not permitted the tests that need it are skipped with the reason, except under
CI=true, where that is a failure: these faults must be tested for real.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def spool_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "spool"
    monkeypatch.setenv("FLIGHTLOG_SPOOL_DIR", str(path))
    return path


def _mount_tmpfs(path: Path, size_kib: int) -> str | None:
    """Mount a tmpfs of `size_kib` at `path`; the reason it failed, or None."""
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def _unmount(path: Path) -> None:
    done = subprocess.run(["umount", str(path)], capture_output=True, timeout=30)
    if done.returncode != 0:  # something still holds a file there: detach it anyway
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Callable[[str, int], Path]]:
    """make(name, size_kib) -> a freshly mounted tmpfs folder of that size (unmounted after
    the test)."""
    mounted: list[Path] = []

    def make(name: str, size_kib: int) -> Path:
        path = tmp_path / name
        path.mkdir(parents=True, exist_ok=True)
        why = _mount_tmpfs(path, size_kib)
        if why is not None:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"cannot mount a tmpfs for the full-disk tests under CI: {why}")
            pytest.skip(f"mounting a tmpfs is not permitted here ({why}); run as root")
        mounted.append(path)
        return path

    yield make
    for path in reversed(mounted):
        _unmount(path)
