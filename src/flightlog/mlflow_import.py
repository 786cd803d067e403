"""Copy an MLflow tracking store into a flightlog store (`flightlog db import-mlflow`).

MLflow's store is read through MLflow's own client (the `mlflow` package, imported only here
and only when an import runs), so every schema MLflow can read can be imported: a SQL database
(`sqlite:///mlflow.db`, `postgresql://...`), a `./mlruns` folder, or a running `mlflow server`.
What is copied, into the flightlog store at `dest_uri`:

- experiments (by name; MLflow's "Default" becomes flightlog's, id 0), their tags and state;
- runs with their ids kept (so `runs:/<id>/...` URIs and `mlflow.parentRunId` links still
  resolve), names, users, status, start/end times, params, tags, every metric point, dataset
  inputs, deleted state, and their artifacts (downloaded from MLflow, uploaded to the run's
  flightlog artifact location);
- registered models: descriptions, tags, every version (source, run, description, tags,
  stage) and aliases. A version whose source lies in its run's MLflow artifact folder points at
  the copy in the run's flightlog artifact folder.

Not copied: MLflow 3 logged models (`models:/m-...` sources are kept as they are), traces and
the other GenAI entities, and the registry's own timestamps (versions are created anew, numbered
1, 2, ... in MLflow's order; aliases follow their versions). Running it again skips experiments'
runs and registered models that are already there, so an interrupted import can be resumed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flightlog.exceptions import FlightlogError, InvalidParameterError, ResourceNotFoundError

_METRICS_PER_BATCH = 1000
_PARAMS_PER_BATCH = 100


class MlflowMissingError(InvalidParameterError):
    """The `mlflow` package, needed to read an MLflow store, is not installed."""


@dataclass
class ImportReport:
    experiments: int = 0
    runs: int = 0
    runs_skipped: int = 0
    metric_points: int = 0
    artifacts: int = 0
    registered_models: int = 0
    model_versions: int = 0
    skipped_models: list[str] = field(default_factory=list)
    experiment_ids: dict[str, str] = field(default_factory=dict)  # MLflow id -> flightlog id

    def summary(self) -> str:
        return (
            f"{self.experiments} experiments, {self.runs} runs ({self.runs_skipped} already "
            f"there), {self.metric_points} metric points, {self.artifacts} artifact files, "
            f"{self.registered_models} registered models with {self.model_versions} versions"
        )


def _mlflow():
    try:
        import mlflow  # noqa: F401
        from mlflow import MlflowClient
    except ImportError as exc:
        raise MlflowMissingError(
            "Reading an MLflow store needs the mlflow package: pip install mlflow "
            f"(import failed: {exc})"
        ) from None
    return MlflowClient


def source_uri(uri: str) -> str:
    """`mlflow://<uri>` and `mlflow+<uri>` name the store to read; anything else as given."""
    for prefix in ("mlflow://", "mlflow+"):
        if uri.startswith(prefix):
            return uri[len(prefix) :]
    return uri


def import_mlflow(
    source: str,
    dest_uri: str,
    *,
    artifacts: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Copy the MLflow store at `source` into the flightlog store at `dest_uri`."""
    from flightlog.store import get_store

    MlflowClient = _mlflow()
    source = source_uri(source)
    _check_source(source)
    mlflow_client = MlflowClient(tracking_uri=source, registry_uri=source)
    store = get_store(dest_uri)
    report = ImportReport()
    say = progress or (lambda _msg: None)
    run_roots: dict[str, tuple[str, str]] = {}  # run id -> (MLflow artifact URI, flightlog's)
    for experiment in _all_experiments(mlflow_client):
        flightlog_id = _import_experiment(store, experiment)
        report.experiment_ids[experiment.experiment_id] = flightlog_id
        report.experiments += 1
        say(f"experiment {experiment.name!r} -> {flightlog_id}")
        for run in _all_runs(mlflow_client, experiment.experiment_id):
            new_root = _import_run(mlflow_client, store, run, flightlog_id, report, artifacts)
            if new_root is not None:
                run_roots[run.info.run_id] = (run.info.artifact_uri, new_root)
        if experiment.lifecycle_stage == "deleted":
            _quietly(store.delete_experiment, flightlog_id)
    _import_registry(mlflow_client, store, run_roots, report, say)
    return report


# --- reading MLflow ----------------------------------------------------------------------------
def _check_source(source: str) -> None:
    """Refuse a SQLite file or folder that is not there: MLflow's client would create an
    empty store in its place, and the import would copy nothing without a word."""
    from urllib.parse import urlsplit

    if source.startswith("sqlite:"):
        path = source.split(":///", 1)[1] if ":///" in source else ""
        if path and not Path(path.split("?", 1)[0]).is_file():
            raise ResourceNotFoundError(f"No MLflow database at {path!r} (from {source!r})")
        return
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("", "file"):
        folder = Path(urlsplit(source).path if scheme == "file" else source)
        if not folder.is_dir():
            raise ResourceNotFoundError(f"No MLflow store folder at {str(folder)!r}")


def _paged(call: Callable[..., Any], **kwargs: Any):
    token = None
    while True:
        page = call(page_token=token, **kwargs)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _all_experiments(client) -> list:
    from mlflow.entities import ViewType

    found = list(_paged(client.search_experiments, view_type=ViewType.ALL, max_results=1000))
    # the Default experiment first, then in MLflow's id order
    return sorted(found, key=lambda e: (e.experiment_id != "0", _as_int(e.experiment_id)))


def _all_runs(client, experiment_id: str) -> list:
    from mlflow.entities import ViewType

    runs = list(
        _paged(
            client.search_runs,
            experiment_ids=[experiment_id],
            run_view_type=ViewType.ALL,
            max_results=1000,
        )
    )
    # parents before their children, then oldest first (the order they were made in)
    return sorted(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id))


def _as_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


# --- writing flightlog -------------------------------------------------------------------------
def _quietly(call: Callable[..., Any], *args: Any) -> None:
    try:
        call(*args)
    except FlightlogError:
        pass


def _import_experiment(store, experiment) -> str:
    from flightlog.entities import RunTag

    tags = [RunTag(k, v) for k, v in (experiment.tags or {}).items()]
    if experiment.experiment_id == "0" or experiment.name == "Default":
        existing = store.get_experiment_by_name(experiment.name)
        if existing is not None:
            for tag in tags:
                store.set_experiment_tag(existing.experiment_id, tag)
            return str(existing.experiment_id)
    existing = store.get_experiment_by_name(experiment.name)
    if existing is not None:
        if existing.lifecycle_stage == "deleted":
            store.restore_experiment(existing.experiment_id)
        return str(existing.experiment_id)
    return str(store.create_experiment(experiment.name, None, tags))


def _import_run(client, store, run, experiment_id: str, report: ImportReport, artifacts: bool):
    """Copy one run; its flightlog artifact URI, or None when it was there already."""
    from flightlog.entities import Metric, Param, RunTag
    from flightlog.exceptions import RunNotFoundError

    info, data = run.info, run.data
    try:
        store.get_run(info.run_id)
        report.runs_skipped += 1
        return None
    except RunNotFoundError:
        pass
    tags = [RunTag(k, v) for k, v in data.tags.items()]
    created = store.create_run(
        experiment_id,
        info.user_id or "",
        info.start_time or 0,
        tags,
        info.run_name or None,
        run_id=info.run_id,
    )
    params = [Param(k, v) for k, v in data.params.items()]
    for start in range(0, len(params), _PARAMS_PER_BATCH):
        store.log_batch(info.run_id, params=params[start : start + _PARAMS_PER_BATCH])
    for key in data.metrics:
        points = [
            Metric(m.key, m.value, m.timestamp, m.step)
            for m in client.get_metric_history(info.run_id, key)
        ]
        for start in range(0, len(points), _METRICS_PER_BATCH):
            store.log_batch(info.run_id, metrics=points[start : start + _METRICS_PER_BATCH])
        report.metric_points += len(points)
    _import_inputs(store, run)
    new_root = created.info.artifact_uri
    if artifacts:
        report.artifacts += _copy_artifacts(client, info.run_id, new_root)
    if info.status != "RUNNING" or info.end_time:
        store.update_run_info(info.run_id, info.status, info.end_time, info.run_name or None)
    if info.lifecycle_stage == "deleted":
        store.delete_run(info.run_id)
    report.runs += 1
    return new_root


def _import_inputs(store, run) -> None:
    from flightlog.entities import Dataset, DatasetInput

    inputs = getattr(run, "inputs", None)
    found = list(getattr(inputs, "dataset_inputs", None) or ())
    if not found:
        return
    copied = []
    for item in found:
        d = item.dataset
        dataset = Dataset(d.name, d.digest, d.source_type, d.source, d.schema, d.profile)
        copied.append(DatasetInput(dataset, {t.key: t.value for t in item.tags}))
    try:
        store.log_inputs(run.info.run_id, copied)
    except NotImplementedError:
        pass


def _copy_artifacts(client, run_id: str, new_root: str) -> int:
    from flightlog.artifacts import get_artifact_repository

    if not client.list_artifacts(run_id):
        return 0
    with tempfile.TemporaryDirectory(prefix="flightlog-import-") as tmp:
        local = Path(client.download_artifacts(run_id, "", tmp))
        count = sum(1 for p in local.rglob("*") if p.is_file())
        if count:
            get_artifact_repository(new_root).log_artifacts(str(local), None)
    return count


def _import_registry(client, store, run_roots, report: ImportReport, say) -> None:
    from flightlog.entities import RunTag
    from flightlog.exceptions import RegisteredModelAlreadyExistsError

    if not hasattr(store, "create_registered_model"):
        return
    try:
        models = list(_paged(client.search_registered_models, max_results=1000))
    except Exception as exc:  # noqa: BLE001 - a store without a registry (a file store) has none
        if "registry" in str(exc).lower() or "not supported" in str(exc).lower():
            return
        raise
    for model in sorted(models, key=lambda m: m.name):
        tags = [RunTag(k, v) for k, v in (model.tags or {}).items()]
        try:
            store.create_registered_model(model.name, tags, model.description or None)
        except RegisteredModelAlreadyExistsError:
            report.skipped_models.append(model.name)
            continue
        versions = sorted(
            _paged(client.search_model_versions, filter_string=f"name = '{_quoted(model.name)}'"),
            key=lambda v: int(v.version),
        )
        numbers: dict[str, str] = {}
        for version in versions:
            created = store.create_model_version(
                model.name,
                _moved_source(version.source, version.run_id, run_roots),
                run_id=version.run_id or None,
                tags=[RunTag(k, v) for k, v in (version.tags or {}).items()],
                run_link=getattr(version, "run_link", None) or None,
                description=version.description or None,
            )
            numbers[str(version.version)] = str(created.version)
            if version.current_stage and version.current_stage != "None":
                store.transition_model_version_stage(
                    model.name, created.version, version.current_stage, False
                )
            report.model_versions += 1
        for alias, version in (model.aliases or {}).items():
            if str(version) in numbers:
                store.set_registered_model_alias(model.name, alias, numbers[str(version)])
        report.registered_models += 1
        say(f"registered model {model.name!r}: {len(versions)} versions")


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")


def _moved_source(source: str, run_id: str | None, run_roots: dict[str, tuple[str, str]]) -> str:
    """A source inside its run's MLflow artifact folder, re-pointed at the flightlog copy."""
    if not run_id or run_id not in run_roots:
        return source
    old_root, new_root = run_roots[run_id]
    old = old_root.rstrip("/")
    if source == old:
        return new_root
    if source.startswith(old + "/"):
        return new_root.rstrip("/") + source[len(old) :]
    return source
