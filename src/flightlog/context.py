"""Where a run comes from: user, entry-point script, git commit (MLflow's system tags)."""

from __future__ import annotations

import functools
import getpass
import os
import sys
from pathlib import Path

SOURCE_TYPE_LOCAL = "LOCAL"


@functools.lru_cache(maxsize=1)
def current_user() -> str:
    # Cached: getpass may read the passwd database, and a sweep creates thousands of runs.
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def source_name() -> str:
    """The script that is running, or the interpreter when interactive."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) if main else None
    if path:
        return str(Path(path).resolve())
    return sys.argv[0] if sys.argv and sys.argv[0] else "<interactive>"


def git_commit(start: str | os.PathLike | None = None) -> str | None:
    """HEAD's commit of the repository holding `start` (default: the running script), read from
    .git directly so run start never spawns a subprocess."""
    folder = Path(start) if start else Path(source_name()).parent
    try:
        folder = folder.resolve()
    except OSError:
        return None
    for candidate in (folder, *folder.parents):
        git = candidate / ".git"
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = git.read_text().strip()
            if text.startswith("gitdir:"):
                git = (candidate / text[len("gitdir:") :].strip()).resolve()
        if git.is_dir():
            return _resolve_head(git)
    return None


def _resolve_head(git_dir: Path) -> str | None:
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref:"):
        return head or None
    ref = head[4:].strip()
    common = git_dir
    commondir = git_dir / "commondir"
    if commondir.is_file():
        common = (git_dir / commondir.read_text().strip()).resolve()
    for base in (git_dir, common):
        ref_file = base / ref
        if ref_file.is_file():
            return ref_file.read_text().strip() or None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    return None  # a new repository with no commit yet


def system_tags() -> dict[str, str]:
    tags = {
        "mlflow.user": current_user(),
        "mlflow.source.name": source_name(),
        "mlflow.source.type": SOURCE_TYPE_LOCAL,
    }
    commit = git_commit()
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return tags
