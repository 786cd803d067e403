"""The UI's HTML pages. Each renders what it can on the server (tables, names, values, all
escaped by Jinja2) and hands its script the data for the interactive parts as JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from flightlog.entities import LifecycleStage, ViewType
from flightlog.exceptions import FlightlogError, InvalidParameterError, ResourceNotFoundError
from flightlog.server.deps import StoreDep
from flightlog.server.ui import summaries
from flightlog.server.ui.templating import error_page, render
from flightlog.validation import validate_run_id

router = APIRouter(include_in_schema=False)

RUNS_PAGE_SIZE = 100
MAX_COMPARED_RUNS = 100
MAX_CHILDREN_LISTED = 200
SYSTEM_TAG_PREFIX = "mlflow."


def _failure(request: Request, exc: FlightlogError) -> Response:
    status = 404 if isinstance(exc, ResourceNotFoundError) else 400
    return error_page(request, status, exc.message)


def _numeric_id(experiment) -> int:
    text = str(experiment.experiment_id)
    return int(text) if text.isdigit() else 0


@router.get("/")
def experiments_page(request: Request, store: StoreDep, view: str = "active") -> Response:
    view_type = ViewType.DELETED_ONLY if view == "deleted" else ViewType.ACTIVE_ONLY
    experiments = list(store.search_experiments(view_type=view_type, max_results=50_000))
    stats = summaries.experiment_stats(store, experiments)
    experiments.sort(key=_numeric_id)
    rows = [{"experiment": e, "stats": stats[str(e.experiment_id)]} for e in experiments]
    return render(
        request,
        "experiments.html",
        {"title": "Experiments", "nav": "experiments", "rows": rows, "deleted": view == "deleted"},
    )


@router.get("/experiments/{experiment_id}")
def runs_page(
    request: Request,
    experiment_id: str,
    store: StoreDep,
    filter: Annotated[str, Query(max_length=10_000)] = "",
    order_by: Annotated[str, Query(max_length=1000)] = "",
    view: str = "active",
) -> Response:
    try:
        experiment = store.get_experiment(experiment_id)
    except FlightlogError as exc:
        return _failure(request, exc)
    param_keys, metric_keys = summaries.experiment_keys(store, experiment.experiment_id)
    initial = {
        "experiment": {"id": str(experiment.experiment_id), "name": experiment.name},
        "filter": filter,
        "order_by": order_by,
        "view": view if view in ("active", "deleted", "all") else "active",
        "param_keys": param_keys,
        "metric_keys": metric_keys,
        "page_size": RUNS_PAGE_SIZE,
        "runs": [],
        "next_page_token": None,
        "error": None,
    }
    try:
        page = summaries.runs_page(
            store, experiment.experiment_id, filter, order_by or None, None, RUNS_PAGE_SIZE, view
        )
        initial.update(page)
    except InvalidParameterError as exc:
        initial["error"] = exc.message
    return render(
        request,
        "runs.html",
        {
            "title": experiment.name,
            "nav": "experiments",
            "experiment": experiment,
            "initial": initial,
        },
    )


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: str, store: StoreDep) -> Response:
    try:
        run = store.get_run(validate_run_id(run_id))
        experiment = store.get_experiment(run.info.experiment_id)
    except FlightlogError as exc:
        return _failure(request, exc)
    from flightlog.server.ui import artifacts

    tags = run.data.tags
    parent = None
    parent_id = tags.get(summaries.PARENT_TAG)
    if parent_id:
        try:
            parent = store.get_run(parent_id)
        except FlightlogError:
            parent = None
    children = []
    try:
        children = list(
            store.search_runs(
                [run.info.experiment_id],
                filter_string=f"tags.`{summaries.PARENT_TAG}` = '{run.info.run_id}'",
                max_results=MAX_CHILDREN_LISTED,
            )
        )
    except FlightlogError:
        pass
    artifact_error = None
    models: list[str] = []
    destination = request.app.state.artifacts
    try:
        root = artifacts.artifact_root(destination, run.info.artifact_uri)
        models = artifacts.find_models(destination, root, artifacts.model_history_paths(tags))
    except (FlightlogError, OSError) as exc:
        artifact_error = getattr(exc, "message", None) or str(exc)
    logged_models = _logged_models(store, run)
    metrics = sorted(getattr(run.data, "_metric_objs", []) or [], key=lambda m: m.key)
    user_tags = {k: v for k, v in sorted(tags.items()) if not k.startswith(SYSTEM_TAG_PREFIX)}
    system_tags = {k: v for k, v in sorted(tags.items()) if k.startswith(SYSTEM_TAG_PREFIX)}
    initial = {
        "run": summaries.run_row(run),
        "metric_keys": [m.key for m in metrics],
        "models": models,
        "logged_models": [m.model_id for m in logged_models],
        "artifact_error": artifact_error,
    }
    return render(
        request,
        "run.html",
        {
            "title": run.info.run_name or run.info.run_id,
            "nav": "experiments",
            "run": run,
            "experiment": experiment,
            "parent": parent,
            "children": children,
            "metrics": metrics,
            "params": sorted(run.data.params.items()),
            "user_tags": user_tags,
            "system_tags": system_tags,
            "models": models,
            "logged_models": logged_models,
            "artifact_error": artifact_error,
            "deleted": run.info.lifecycle_stage == LifecycleStage.DELETED,
            "initial": initial,
        },
    )


def _logged_models(store, run) -> list:
    """The run's MLflow 3 logged models (what MLflow 3's `log_model` makes on a server)."""
    try:
        return list(
            store.search_logged_models(
                [run.info.experiment_id],
                f"source_run_id = '{run.info.run_id}'",
                max_results=100,
            )
        )
    except (NotImplementedError, FlightlogError):
        return []


@router.get("/compare")
def compare_page(request: Request, store: StoreDep, runs: str = "") -> Response:
    ids = [r for r in dict.fromkeys(x.strip() for x in runs.split(",")) if r]
    if not ids:
        return error_page(request, 400, "Choose runs to compare: /compare?runs=<id>,<id>,...")
    if len(ids) > MAX_COMPARED_RUNS:
        return error_page(
            request,
            400,
            f"At most {MAX_COMPARED_RUNS} runs can be compared at once, got {len(ids)}",
        )
    try:
        found = [store.get_run(validate_run_id(i)) for i in ids]
    except FlightlogError as exc:
        return _failure(request, exc)
    rows = [summaries.run_row(r) for r in found]
    param_keys, metric_keys = summaries.keys_of_runs(found)
    experiments = {}
    for run in found:
        eid = str(run.info.experiment_id)
        if eid not in experiments:
            try:
                experiments[eid] = store.get_experiment(eid).name
            except FlightlogError:
                experiments[eid] = eid
    return render(
        request,
        "compare.html",
        {
            "title": f"Compare {len(rows)} runs",
            "nav": "experiments",
            "runs": rows,
            "experiments": experiments,
            "initial": {
                "runs": rows,
                "param_keys": param_keys,
                "metric_keys": metric_keys,
            },
        },
    )


@router.get("/models")
def models_page(request: Request, store: StoreDep) -> Response:
    try:
        models = list(store.search_registered_models(max_results=1000))
    except NotImplementedError as exc:
        return error_page(request, 400, str(exc))
    return render(request, "models.html", {"title": "Models", "nav": "models", "models": models})


@router.get("/models/{name:path}")
def model_page(request: Request, name: str, store: StoreDep) -> Response:
    try:
        model = store.get_registered_model(name)
        quoted = name.replace("'", "''")
        versions = list(
            store.search_model_versions(
                f"name = '{quoted}'", max_results=10_000, order_by=["version_number DESC"]
            )
        )
    except FlightlogError as exc:
        return _failure(request, exc)
    run_names = {}
    for mv in versions:
        if mv.run_id and mv.run_id not in run_names:
            try:
                run_names[mv.run_id] = store.get_run(mv.run_id).info.run_name
            except FlightlogError:
                run_names[mv.run_id] = None
    initial = {
        "name": model.name,
        "description": model.description or "",
        "aliases": model.aliases,
        "versions": [
            {"version": mv.version, "description": mv.description or ""} for mv in versions
        ],
    }
    return render(
        request,
        "model.html",
        {
            "title": model.name,
            "nav": "models",
            "model": model,
            "versions": versions,
            "run_names": run_names,
            "initial": initial,
        },
    )
