"""What the interop tests log (the same with either client) and how they describe a run.

`describe(reader)` turns what a client reads back into plain JSON, so the official mlflow client
(run in a subprocess, see mlflow_peer.py) and flightlog's client can be compared value for value.
This module imports neither client.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
from typing import Any

EXPERIMENT = "interop"
PARENT = "parent"
CHILDREN = ("child-0", "child-1")
PARAMS = {"lr": "0.01", "optimizer": "adam", "layers": "3"}
TAGS = {"team": "vision", "note": "ünïcode ✓"}
STEPS = 100
# System tags both clients set that the comparison keeps (others name the process or host).
KEPT_SYSTEM_TAGS = ("mlflow.runName", "mlflow.parentRunId")


def parent_metrics() -> dict[str, list[tuple[int, float]]]:
    return {
        "loss": [(s, 1.0 / (s + 1)) for s in range(STEPS)],
        "acc": [(s, s / STEPS) for s in range(STEPS)],
        "odd": [(0, math.nan), (1, math.inf), (2, -math.inf), (3, 0.0)],
    }


def child_metrics(i: int) -> dict[str, list[tuple[int, float]]]:
    return {"val_loss": [(s, (i + 1) * 0.1 + s * 0.01) for s in range(10)]}


def artifact_files(root: str) -> None:
    """Files for log_artifacts, written under `root`."""
    os.makedirs(os.path.join(root, "sub"), exist_ok=True)
    with open(os.path.join(root, "a.csv"), "w") as f:
        f.write("x,y\n1,2\n")
    with open(os.path.join(root, "sub", "b.bin"), "wb") as f:
        f.write(bytes(range(256)) * 40)


DICT_ARTIFACT = {"layers": [64, 32], "dropout": 0.1}
TEXT_ARTIFACT = "hello from interop\n"


def number(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _number_as_mlflow_stores(value: float) -> float | str:
    if math.isinf(value):
        return math.copysign(sys.float_info.max, value)
    return number(value)


def digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def expected(inf_as_float_max: bool = False) -> dict[str, Any]:
    """The logged values (no timestamps), in describe()'s shape. MLflow's SQL store keeps
    +/-inf as +/-sys.float_info.max, so an mlflow server hands those back (to either client)."""
    number = _number_as_mlflow_stores if inf_as_float_max else globals()["number"]
    runs: dict[str, Any] = {
        PARENT: {
            "params": PARAMS,
            "user_tags": TAGS,
            "parent": None,
            "metrics": {k: [[s, number(v)] for s, v in pts] for k, pts in parent_metrics().items()},
        }
    }
    for i, name in enumerate(CHILDREN):
        runs[name] = {
            "params": {"fold": str(i)},
            "user_tags": {},
            "parent": PARENT,
            "metrics": {k: [[s, number(v)] for s, v in pts] for k, pts in child_metrics(i).items()},
        }
    return runs


def strip_timestamps(described: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, run in described["runs"].items():
        out[name] = {
            "params": run["params"],
            "user_tags": run["user_tags"],
            "parent": run["parent"],
            "metrics": {k: [[p[0], p[1]] for p in pts] for k, pts in run["metrics"].items()},
        }
    return out


def describe(client: Any, run_ids: dict[str, str], scratch: str) -> dict[str, Any]:
    """Everything `client` (an mlflow.MlflowClient or a flightlog.TrackingClient: same method
    names) reads back about the runs, as JSON-ready data."""
    names = {run_id: name for name, run_id in run_ids.items()}
    runs = {}
    for name, run_id in run_ids.items():
        run = client.get_run(run_id)
        tags = dict(run.data.tags)
        parent_id = tags.get("mlflow.parentRunId")
        metrics = {}
        for key in sorted(run.data.metrics):
            history = client.get_metric_history(run_id, key)
            metrics[key] = [[m.step, number(m.value), m.timestamp] for m in history]
        runs[name] = {
            "run_id": run.info.run_id,
            "run_name": run.info.run_name,
            "status": run.info.status,
            "artifact_uri": run.info.artifact_uri,
            "params": dict(run.data.params),
            "user_tags": {k: v for k, v in tags.items() if not k.startswith("mlflow.")},
            "run_name_tag": tags.get("mlflow.runName"),
            "parent": names.get(parent_id) if parent_id else None,
            "metrics": metrics,
            "latest": {k: number(v) for k, v in sorted(run.data.metrics.items())},
            "artifacts": _artifacts(client, run_id, "", os.path.join(scratch, run_id)),
        }
    return {"runs": runs}


def _artifacts(client: Any, run_id: str, path: str, scratch: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for info in client.list_artifacts(run_id, path or None):
        if info.is_dir:
            found.update(_artifacts(client, run_id, info.path, scratch))
        else:
            local = client.download_artifacts(run_id, info.path, scratch)
            found[info.path] = digest(local)
    return found
