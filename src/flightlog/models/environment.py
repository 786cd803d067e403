"""The environment files saved beside a model: requirements.txt, python_env.yaml, conda.yaml.

Versions come from the installed packages' metadata (importlib.metadata), so writing them costs
microseconds: no `pip freeze`, no subprocess, no import of the packages themselves. The layout is
MLflow's, so `mlflow models serve` and friends can rebuild the environment.
"""

from __future__ import annotations

import functools
import os
import platform
from collections.abc import Iterable, Sequence
from importlib import metadata

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"


@functools.lru_cache(maxsize=256)
def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def pinned(distributions: Iterable[str]) -> list[str]:
    """`name==version` for each installed distribution (missing ones are left out), sorted."""
    out = set()
    for name in distributions:
        if any(op in name for op in ("=", "<", ">", "~", "@", " ")):
            out.add(name)  # already a requirement specifier
            continue
        version = installed_version(name)
        if version is not None:
            out.add(f"{name}=={version}")
    return sorted(out, key=str.lower)


def requirements_for(
    packages: Sequence[str],
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
) -> list[str]:
    """The requirement lines: the caller's own list if given, else the flavor's pinned packages;
    plus any extras."""
    base = list(pip_requirements) if pip_requirements is not None else pinned(packages)
    extras = [r for r in (extra_pip_requirements or []) if r not in base]
    return base + extras


def write_environment(path: str, requirements: Sequence[str]) -> None:
    """Write requirements.txt, python_env.yaml and conda.yaml into the model folder."""
    python_env, conda = _environment_yaml(tuple(requirements))
    with open(os.path.join(path, REQUIREMENTS_FILE), "w") as f:
        f.write("\n".join(requirements))
    with open(os.path.join(path, PYTHON_ENV_FILE), "w") as f:
        f.write(python_env)
    with open(os.path.join(path, CONDA_ENV_FILE), "w") as f:
        f.write(conda)


@functools.lru_cache(maxsize=64)
def _environment_yaml(requirements: tuple[str, ...]) -> tuple[str, str]:
    """(python_env.yaml, conda.yaml) text; the same for every model of a process and flavor."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    py = platform.python_version()
    pip_version = installed_version("pip")
    build = [
        f"{name}=={version}" if version else name
        for name, version in (
            ("pip", pip_version),
            ("setuptools", installed_version("setuptools")),
            ("wheel", None),
        )
    ]
    python_env = {
        "python": py,
        "build_dependencies": build,
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={py}",
            f"pip<={pip_version}" if pip_version else "pip",
            {"pip": list(requirements)},
        ],
        "name": "flightlog-env",
    }
    return (
        yaml.dump(python_env, Dumper=dumper, sort_keys=False, default_flow_style=False),
        yaml.dump(conda, Dumper=dumper, sort_keys=False, default_flow_style=False),
    )
