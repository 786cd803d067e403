"""What a library reads back from its store, as JSON the two runs of a script can be compared by.

Only calls both `mlflow` and `flightlog` offer (MlflowClient's names), so each library describes
its own store. Volatile things are left out or replaced: run ids by run keys (the run name, or
"auto-N" for generated names), timestamps, users, source paths, artifact URIs.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Tags that differ between any two runs of the same script (who, where, when, which id).
VOLATILE_TAGS = {
    "mlflow.user",
    "mlflow.source.name",
    "mlflow.source.type",
    "mlflow.source.git.commit",
    "mlflow.source.git.branch",
    "mlflow.source.git.repoURL",
    "mlflow.runName",
    "mlflow.parentRunId",
    "mlflow.log-model.history",
    "mlflow.modelVersions",
}
_GENERATED_NAME = re.compile(r"^[a-z]+-[a-z]+-\d+$")


def _number(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return value


def _artifacts(client: Any, run_id: str, path: str | None = None) -> list[str]:
    found = []
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            found.extend(_artifacts(client, run_id, info.path))
        else:
            found.append(info.path)
    return found


def _all_runs(client: Any, experiment_id: str) -> list[Any]:
    runs, token = [], None
    while True:
        page = client.search_runs([experiment_id], max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def describe(lib: Any) -> dict[str, Any]:
    client = lib.MlflowClient()
    out: dict[str, Any] = {"experiments": {}, "registered_models": {}}
    keys: dict[str, str] = {}  # run id -> run key
    for experiment in client.search_experiments():
        runs = sorted(
            _all_runs(client, experiment.experiment_id),
            key=lambda r: (r.info.start_time or 0, r.info.run_name or ""),
        )
        # Runs with generated names (autolog's, a search's children) are keyed by their
        # params, so the same trial gets the same key under both libraries.
        unnamed = [
            r for r in runs if _GENERATED_NAME.match(r.info.run_name or "") or not r.info.run_name
        ]
        unnamed.sort(key=lambda r: json.dumps(dict(r.data.params), sort_keys=True))
        for i, run in enumerate(unnamed):
            keys[run.info.run_id] = f"{experiment.name}/auto-{i}"
        for run in runs:
            keys.setdefault(run.info.run_id, f"{experiment.name}/{run.info.run_name}")
        models = []
        search = getattr(client, "search_logged_models", None)
        logged = list(search([experiment.experiment_id])) if search is not None else []
        names_by_run: dict[str, set[str]] = {}
        for model in logged:
            names_by_run.setdefault(model.source_run_id, set()).add(model.name)
        described_runs = {}
        for run in runs:
            tags = dict(run.data.tags)
            parent = tags.get("mlflow.parentRunId")
            metrics = {
                key: len(client.get_metric_history(run.info.run_id, key))
                for key in sorted(run.data.metrics)
            }
            described_runs[keys[run.info.run_id]] = {
                "status": run.info.status,
                "params": dict(run.data.params),
                "metric_points": metrics,
                "tags": {k: v for k, v in tags.items() if k not in VOLATILE_TAGS},
                "parent": keys.get(parent) if parent else None,
                **_split_artifacts(
                    _artifacts(client, run.info.run_id), names_by_run.get(run.info.run_id, set())
                ),
                "inputs": sorted(
                    [
                        i.dataset.name,
                        i.dataset.digest,
                        sorted([t.key, t.value] for t in i.tags),
                    ]
                    for i in run.inputs.dataset_inputs
                )
                if run.inputs
                else [],
            }
        if logged:
            for model in logged:
                models.append(
                    {
                        "name": model.name,
                        "source_run": keys.get(model.source_run_id),
                        "status": str(getattr(model.status, "value", model.status)),
                        "model_type": model.model_type,
                        "params": dict(model.params),
                        "tags": {k: v for k, v in model.tags.items() if k not in VOLATILE_TAGS},
                        "metrics": sorted({m.key for m in model.metrics or ()}),
                    }
                )
        models.sort(key=lambda m: (str(m["source_run"]), m["name"]))
        out["experiments"][experiment.name] = {"runs": described_runs, "logged_models": models}
    for rm in client.search_registered_models():
        versions = client.search_model_versions(f"name = '{rm.name}'")
        out["registered_models"][rm.name] = {
            "description": rm.description or "",
            "tags": {k: v for k, v in rm.tags.items() if k not in VOLATILE_TAGS},
            "aliases": dict(sorted((a, str(v)) for a, v in _aliases(rm).items())),
            "versions": {
                str(v.version): {
                    "run": keys.get(v.run_id),
                    "tags": {k: val for k, val in v.tags.items() if k not in VOLATILE_TAGS},
                    "has_model_id": bool(getattr(v, "model_id", None)),
                }
                for v in versions
            },
        }
    return out


def _split_artifacts(paths: list[str], model_names: set[str]) -> dict[str, list[str]]:
    """A run's files, less the copies of its logged models (flightlog keeps a model's files
    under the run too; MLflow 3 only in the model's location): those are listed by model."""
    files, copies = [], set()
    for path in paths:
        head = path.split("/", 1)[0]
        if head in model_names and "/" in path:
            copies.add(head)
        else:
            files.append(path)
    return {"artifacts": sorted(files), "model_copies": sorted(copies)}


def _aliases(rm: Any) -> dict[str, str]:
    aliases = getattr(rm, "aliases", {}) or {}
    if isinstance(aliases, dict):
        return aliases
    return {a.alias: a.version for a in aliases}  # a list of RegisteredModelAlias
