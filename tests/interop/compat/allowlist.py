"""Deliberate differences between what mlflow and flightlog store for the compatibility scripts.

Each entry: (fnmatch pattern over a difference's path, reason). The same list, with the same
reasons, is in docs/user-guide.md ("Deliberate differences from MLflow"). A difference that
matches nothing here fails test_compat_suite.py: fix it, or add it here *and* to the docs.
"""

from __future__ import annotations

# Differences every script may show.
GLOBAL_ALLOWED: list[tuple[str, str]] = [
    (
        "experiments/*/runs/*/artifacts/*",
        "a logged model is also kept under the run's artifacts at <name>/ (MLflow 2's place), "
        "so the run page, MLflow 2 readers and runs:/<run>/<name> find it without a lookup; "
        "MLflow 3 keeps it only in the logged model's own location",
    ),
]

ALLOWED: dict[str, list[tuple[str, str]]] = {
    "manual_tracking": [
        (
            "experiments/compat-manual/runs/compat-manual/baseline/tags/mlflow.loggedArtifacts",
            "log_table does not yet record MLflow's mlflow.loggedArtifacts tag (the UI "
            "finds tables by file type)",
        ),
    ],
}
