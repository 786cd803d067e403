"""RestStore: the tracking store behind an http(s):// tracking URI.

Speaks MLflow's REST API 2.0, so the same code talks to `flightlog server` and to a real
`mlflow server`. Batches are cut to MLflow's request limits; transient trouble (connection
errors, 429, 5xx) is retried with backoff and then raised as StoreUnavailableError, which the
logging queue answers by spooling the batch and replaying it later.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from flightlog.entities import (
    DatasetInput,
    Experiment,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from flightlog.exceptions import (
    ExperimentNotFoundError,
    FlightlogError,
    InvalidParameterError,
    ParamConflictError,
    ResourceNotFoundError,
    RunNotFoundError,
    StoreUnavailableError,
)
from flightlog.rest_client import AmbiguousRequestError, RestClient
from flightlog.store.base import AbstractStore
from flightlog.store.rest_registry import RestRegistryMixin

API = "/api/2.0/mlflow"

# MLflow's limits for one runs/log-batch request (mlflow.utils.validation).
MAX_METRICS_PER_REQUEST = 1000
MAX_PARAMS_TAGS_PER_REQUEST = 100
MAX_ENTITIES_PER_REQUEST = 1000
# MLflow refuses log-batch bodies over 1 MB; stay well under it.
MAX_REQUEST_BYTES = 900_000

# How many unresolved log-batch requests a store remembers (the queue retries far fewer).
_MAX_UNCERTAIN = 10_000

_VIEW_NAMES = {ViewType.ACTIVE_ONLY: "ACTIVE_ONLY", ViewType.DELETED_ONLY: "DELETED_ONLY"}
_VIEW_NAMES[ViewType.ALL] = "ALL"


def _json_number(value: float) -> float | str:
    """Proto3 JSON writes non-finite doubles as strings; plain JSON has no NaN."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _metric_json(m: Metric) -> dict[str, Any]:
    value = m.value
    return {
        "key": m.key,
        "value": value if math.isfinite(value) else _json_number(value),
        "timestamp": m.timestamp,
        "step": m.step,
    }


def _param_conflict(error: FlightlogError) -> FlightlogError:
    """Both servers report a changed param as INVALID_PARAMETER_VALUE; name it precisely."""
    text = error.message.lower()
    if type(error) is InvalidParameterError and (
        "changing param values is not allowed" in text or "already logged with value" in text
    ):
        return ParamConflictError(error.message)
    return error


class RestStore(RestRegistryMixin, AbstractStore):
    """A tracking store reached over HTTP (MLflow REST API 2.0)."""

    # The logging queue journals batches for remote stores before sending them.
    is_remote = True
    max_metrics_per_batch = MAX_METRICS_PER_REQUEST
    max_params_per_batch = MAX_PARAMS_TAGS_PER_REQUEST
    max_tags_per_batch = MAX_PARAMS_TAGS_PER_REQUEST
    max_entities_per_batch = MAX_ENTITIES_PER_REQUEST

    def __init__(self, uri: str, *, client: RestClient | None = None):
        self.uri = uri.rstrip("/")
        self.client = client or RestClient(self.uri)
        # log-batch requests whose outcome is unknown, by content signature (insertion order).
        self._uncertain: dict[tuple, bool] = {}

    def __repr__(self) -> str:
        return f"RestStore({self.uri!r})"

    # --- plumbing ------------------------------------------------------------------------
    def _post(self, endpoint: str, body: dict[str, Any], not_found: type | None = None) -> dict:
        try:
            return self.client.call("POST", API + endpoint, body)
        except ResourceNotFoundError as exc:
            raise _narrow(exc, not_found) from None

    def _get(self, endpoint: str, params: dict[str, Any], not_found: type | None = None) -> dict:
        try:
            return self.client.call("GET", API + endpoint, params=params)
        except ResourceNotFoundError as exc:
            raise _narrow(exc, not_found) from None

    def close(self) -> None:
        self.client.close()

    def reset_after_fork(self) -> None:
        self.client.reset_after_fork()

    # --- experiments ---------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str:
        body: dict[str, Any] = {"name": name, "tags": [t.to_dict() for t in tags]}
        if artifact_location:
            body["artifact_location"] = artifact_location
        return str(self._post("/experiments/create", body)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        reply = self._get(
            "/experiments/get", {"experiment_id": str(experiment_id)}, ExperimentNotFoundError
        )
        return Experiment.from_dict(reply["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            reply = self._get("/experiments/get-by-name", {"experiment_name": name})
        except ResourceNotFoundError:
            return None
        return Experiment.from_dict(reply["experiment"])

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        body: dict[str, Any] = {"view_type": _VIEW_NAMES[ViewType.from_any(view_type)]}
        if max_results is not None:
            body["max_results"] = max_results
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        reply = self._post("/experiments/search", body)
        experiments = [Experiment.from_dict(e) for e in reply.get("experiments", [])]
        return PagedList(experiments, reply.get("next_page_token") or None)

    def delete_experiment(self, experiment_id: str) -> None:
        self._post(
            "/experiments/delete", {"experiment_id": str(experiment_id)}, ExperimentNotFoundError
        )

    def restore_experiment(self, experiment_id: str) -> None:
        self._post(
            "/experiments/restore", {"experiment_id": str(experiment_id)}, ExperimentNotFoundError
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._post(
            "/experiments/update",
            {"experiment_id": str(experiment_id), "new_name": new_name},
            ExperimentNotFoundError,
        )

    def set_experiment_tag(self, experiment_id: str, tag: RunTag) -> None:
        self._post(
            "/experiments/set-experiment-tag",
            {"experiment_id": str(experiment_id), "key": tag.key, "value": tag.value},
            ExperimentNotFoundError,
        )

    # --- runs ----------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag],
        run_name: str | None,
    ) -> Run:
        body: dict[str, Any] = {
            "experiment_id": str(experiment_id),
            "user_id": user_id,
            "start_time": start_time,
            "tags": [t.to_dict() for t in tags],
        }
        if run_name:
            body["run_name"] = run_name
        reply = self._post("/runs/create", body, ExperimentNotFoundError)
        return Run.from_dict(reply["run"])

    def get_run(self, run_id: str) -> Run:
        reply = self._get("/runs/get", {"run_id": run_id}, RunNotFoundError)
        return Run.from_dict(reply["run"])

    def update_run_info(
        self, run_id: str, run_status: str, end_time: int | None, run_name: str | None = None
    ) -> RunInfo:
        body: dict[str, Any] = {"run_id": run_id, "run_uuid": run_id, "status": run_status}
        if end_time is not None:
            body["end_time"] = end_time
        if run_name is not None:
            body["run_name"] = run_name
        reply = self._post("/runs/update", body, RunNotFoundError)
        return RunInfo.from_dict(reply["run_info"])

    def delete_run(self, run_id: str) -> None:
        self._post("/runs/delete", {"run_id": run_id}, RunNotFoundError)

    def restore_run(self, run_id: str) -> None:
        self._post("/runs/restore", {"run_id": run_id}, RunNotFoundError)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Send in requests that fit MLflow's limits. Each request is atomic on the server;
        a batch larger than one request is not (the queue never sends one that large).

        A request whose outcome is unknown (the connection broke after it was sent) is not
        blindly sent again, which could store its points twice: the run's latest metrics show
        whether it was stored, and it is re-sent only if it was not.
        """
        for body in _batch_requests(run_id, metrics, params, tags):
            try:
                self._send_batch(run_id, body)
            except InvalidParameterError as exc:
                raise _param_conflict(exc) from None

    def _send_batch(self, run_id: str, body: dict[str, Any]) -> None:
        signature = _signature(body)
        # An earlier call may have left this request's fate unknown (the queue retries it now).
        uncertain = signature is not None and signature in self._uncertain
        if uncertain and self._batch_is_stored(run_id, body):
            self._uncertain.pop(signature, None)
            return
        for _attempt in range(self.client.max_retries + 1):
            try:
                self.client.call("POST", API + "/runs/log-batch", body, retry_ambiguous=False)
            except ResourceNotFoundError as exc:
                raise _narrow(exc, RunNotFoundError) from None
            except AmbiguousRequestError as exc:
                last_error = exc
                if signature is None:
                    continue  # params and tags only: storing them twice changes nothing
                self._remember_uncertain(signature)
                # Raises StoreUnavailableError while the server stays away; the signature
                # stays remembered for the queue's next attempt.
                if self._batch_is_stored(run_id, body):
                    self._uncertain.pop(signature, None)
                    return
                continue
            if signature is not None:
                self._uncertain.pop(signature, None)
            return
        raise StoreUnavailableError(f"Could not deliver a batch to {self.uri}: {last_error}")

    def _remember_uncertain(self, signature: tuple) -> None:
        self._uncertain[signature] = True
        while len(self._uncertain) > _MAX_UNCERTAIN:
            self._uncertain.pop(next(iter(self._uncertain)))

    def _batch_is_stored(self, run_id: str, body: dict[str, Any]) -> bool:
        """Whether a log-batch request took effect: a stored batch left, for every metric key
        it carries, its newest point as the run's latest value of that key (batches of one
        writer are sent in order, and a run's latest metric only moves forward). If anything
        else moved a key further since, the answer is "not stored", so points may repeat but
        are never lost."""
        newest: dict[str, tuple[int, int, float | str]] = {}
        for m in body["metrics"]:
            point = (m["step"], m["timestamp"], m["value"])
            old = newest.get(m["key"])
            if old is None or point[:2] >= old[:2]:
                newest[m["key"]] = point
        latest = {m.key: m for m in self.get_run(run_id).data._metric_objs}
        for key, (step, timestamp, value) in newest.items():
            found = latest.get(key)
            if found is None or (found.step, found.timestamp) != (step, timestamp):
                return False
            expected = float(value)
            if not (found.value == expected or (math.isnan(found.value) and math.isnan(expected))):
                return False
        return True

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, params=[param])

    def delete_tag(self, run_id: str, key: str) -> None:
        self._post("/runs/delete-tag", {"run_id": run_id, "key": key}, RunNotFoundError)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        params: dict[str, Any] = {"run_id": run_id, "run_uuid": run_id, "metric_key": metric_key}
        if max_results is not None:
            params["max_results"] = max_results
        if page_token:
            params["page_token"] = page_token
        reply = self._get("/metrics/get-history", params, RunNotFoundError)
        points = [Metric.from_dict(m) for m in reply.get("metrics", [])]
        return PagedList(points, reply.get("next_page_token") or None)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "run_view_type": _VIEW_NAMES[ViewType.from_any(run_view_type)],
            "max_results": max_results,
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        reply = self._post("/runs/search", body)
        runs = [Run.from_dict(r) for r in reply.get("runs", [])]
        return PagedList(runs, reply.get("next_page_token") or None)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        body = {"run_id": run_id, "datasets": [d.to_dict() for d in datasets]}
        self._post("/runs/log-inputs", body, RunNotFoundError)


def _signature(body: dict[str, Any]) -> tuple | None:
    """What identifies a log-batch request's metrics when the queue sends it again."""
    metrics = body["metrics"]
    if not metrics:
        return None
    first, last = metrics[0], metrics[-1]
    return (
        body["run_id"],
        len(metrics),
        tuple(first.values()),
        tuple(last.values()),
    )


def _narrow(error: ResourceNotFoundError, cls: type | None) -> FlightlogError:
    if cls is None or isinstance(error, cls):
        return error
    return cls(error.message)


def _entry_size(key: str, value: str) -> int:
    # JSON overhead for {"key":"…","value":"…"}, generous for escapes.
    return len(key) + len(value) + 32


def _batch_requests(
    run_id: str, metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> Iterator[dict[str, Any]]:
    """Cut one logical batch into log-batch bodies within MLflow's count and size limits.

    Params and tags go first: a run's params are usually few and the later metrics may depend on
    them being visible. Metric entries are small (~80 bytes), so their count limit binds first.
    """
    body_params: list[dict[str, str]] = []
    body_tags: list[dict[str, str]] = []
    size = 0

    def flush() -> dict[str, Any]:
        nonlocal body_params, body_tags, size
        body = {"run_id": run_id, "metrics": [], "params": body_params, "tags": body_tags}
        body_params, body_tags, size = [], [], 0
        return body

    for kind, items in (("params", params), ("tags", tags)):
        for item in items:
            entry_size = _entry_size(item.key, item.value)
            full = len(body_params) + len(body_tags) >= MAX_ENTITIES_PER_REQUEST or (
                len(body_params if kind == "params" else body_tags) >= MAX_PARAMS_TAGS_PER_REQUEST
            )
            if full or (size + entry_size > MAX_REQUEST_BYTES and (body_params or body_tags)):
                yield flush()
            (body_params if kind == "params" else body_tags).append(
                {"key": item.key, "value": item.value}
            )
            size += entry_size

    # Metrics fill what room the last params/tags request left, then full requests follow.
    room = MAX_ENTITIES_PER_REQUEST - len(body_params) - len(body_tags)
    room = min(room, MAX_METRICS_PER_REQUEST, max(0, (MAX_REQUEST_BYTES - size) // 400))
    start = 0
    if body_params or body_tags:
        first = [_metric_json(m) for m in metrics[:room]]
        body = flush()
        body["metrics"] = first
        yield body
        start = len(first)
    for i in range(start, len(metrics), MAX_METRICS_PER_REQUEST):
        chunk = metrics[i : i + MAX_METRICS_PER_REQUEST]
        yield {"run_id": run_id, "metrics": [_metric_json(m) for m in chunk]}
