"""RestStore: the tracking store behind an http(s):// tracking URI.

Speaks MLflow's REST API 2.0, so the same code talks to `flightlog server` and to a real
`mlflow server`. Batches are cut to MLflow's request limits; transient trouble (connection
errors, 429, 5xx) is retried with backoff and then raised as StoreUnavailableError, which the
logging queue answers by spooling the batch and replaying it later.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

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
from flightlog.rest_client import AmbiguousRequestError, RestClient, redact_url
from flightlog.store.base import AbstractStore, check_client_run_id
from flightlog.store.rest_registry import RestRegistryMixin

API = "/api/2.0/mlflow"
# runs/log-batch: the client's id of the batch (see RestStore.log_batch).
BATCH_ID_HEADER = "X-Flightlog-Batch-Id"
# runs/create: the id the new run must get; a run with that id already there is the answer.
IDEMPOTENCY_HEADER = "Idempotency-Key"

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


# The text `{"key":"<key>","value":` per metric key: training loops log a handful of keys
# thousands of times, and building the request text directly is twice as fast as json.dumps
# over a list of dicts (the client side of every log-batch request).
_key_prefixes: dict[str, str] = {}


def _metric_prefix(key: str) -> str:
    prefix = _key_prefixes.get(key)
    if prefix is None:
        prefix = '{"key":' + json.dumps(key) + ',"value":'
        if len(_key_prefixes) < 100_000:
            _key_prefixes[key] = prefix
    return prefix


def _metrics_json(metrics: Sequence[Metric]) -> str:
    parts = []
    append = parts.append
    for m in metrics:
        value, timestamp, step = m.value, m.timestamp, m.step
        if type(value) is not float:
            value = float(value)
        text = repr(value) if math.isfinite(value) else f'"{_json_number(value)}"'
        if type(timestamp) is not int or type(step) is not int:
            timestamp, step = int(timestamp), int(step)
        append(f'{_metric_prefix(m.key)}{text},"timestamp":{timestamp},"step":{step}}}')
    return "[" + ",".join(parts) + "]"


class _Chunk(NamedTuple):
    """What one runs/log-batch request carries."""

    metrics: Sequence[Metric]
    params: Sequence[Param]
    tags: Sequence[RunTag]

    def encode(self, run_id: str) -> bytes:
        pairs = {
            name: [{"key": i.key, "value": i.value} for i in items]
            for name, items in (("params", self.params), ("tags", self.tags))
            if items
        }
        head = json.dumps({"run_id": run_id, **pairs}, separators=(",", ":"))
        if not self.metrics:
            return head.encode("utf-8")
        return (head[:-1] + ',"metrics":' + _metrics_json(self.metrics) + "}").encode("utf-8")


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
    accepts_batch_id = True
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
        return f"RestStore({redact_url(self.uri)!r})"

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

    def single_attempt(self):
        """A context in which this thread's calls make one HTTP attempt (the logging queue's
        probe of a server it found down)."""
        return self.client.single_attempt()

    def reset_after_fork(self) -> None:
        self.client.reset_after_fork()

    # --- experiments ---------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str:
        body: dict[str, Any] = {"name": name, "tags": [t.to_dict() for t in tags]}
        if artifact_location:
            body["artifact_location"] = artifact_location
        for _attempt in range(self.client.max_retries + 1):
            try:
                reply = self.client.call(
                    "POST", API + "/experiments/create", body, retry_ambiguous=False
                )
                return str(reply["experiment_id"])
            except AmbiguousRequestError as exc:
                # The experiment may exist now: sending again would answer "already exists".
                last_error = exc
                existing = self.get_experiment_by_name(name)
                if existing is not None:
                    return existing.experiment_id
        raise StoreUnavailableError(f"Could not create experiment {name!r}: {last_error}")

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
        run_id: str | None = None,
    ) -> Run:
        import uuid

        body: dict[str, Any] = {
            "experiment_id": str(experiment_id),
            "user_id": user_id,
            "start_time": start_time,
            "tags": [t.to_dict() for t in tags],
        }
        if run_name:
            body["run_name"] = run_name
        # The new run's id, chosen here and sent as the idempotency key: a retry of a request
        # whose answer was lost finds the run the first attempt made (flightlog server honours
        # the header; other servers ignore it).
        key = check_client_run_id(run_id) if run_id is not None else uuid.uuid4().hex
        try:
            reply = self.client.call(
                "POST", API + "/runs/create", body, extra_headers={IDEMPOTENCY_HEADER: key}
            )
        except ResourceNotFoundError as exc:
            raise _narrow(exc, ExperimentNotFoundError) from None
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
        batch_id: str | None = None,
    ) -> None:
        """Send in requests that fit MLflow's limits. Each request is atomic on the server;
        a batch larger than one request is not (the queue never sends one that large).

        With `batch_id`, each request carries it (a suffix per request beyond the first) in
        the X-Flightlog-Batch-Id header: a flightlog server stores a request it has seen once
        (`flightlog sync` re-sends journaled batches whose answer was lost); MLflow's server
        ignores the header. A request whose outcome is unknown (the connection broke after it
        was sent) is not blindly sent again either, which on a server without batch ids could
        store its points twice: the run's latest metrics show whether it was stored, and it is
        re-sent only if it was not.
        """
        for i, chunk in enumerate(_batch_requests(metrics, params, tags)):
            request_id = None if batch_id is None else (f"{batch_id}.{i}" if i else batch_id)
            try:
                self._send_batch(run_id, chunk, request_id)
            except InvalidParameterError as exc:
                raise _param_conflict(exc) from None

    def _send_batch(self, run_id: str, chunk: _Chunk, batch_id: str | None = None) -> None:
        headers = {BATCH_ID_HEADER: batch_id} if batch_id is not None else None
        signature = _signature(run_id, chunk)
        # An earlier call may have left this request's fate unknown (the queue retries it now).
        uncertain = signature is not None and signature in self._uncertain
        if uncertain and self._batch_is_stored(run_id, chunk):
            self._uncertain.pop(signature, None)
            return
        body = chunk.encode(run_id)
        for _attempt in range(self.client.retries + 1):
            try:
                self.client.call(
                    "POST",
                    API + "/runs/log-batch",
                    body,
                    retry_ambiguous=False,
                    extra_headers=headers,
                )
            except ResourceNotFoundError as exc:
                raise _narrow(exc, RunNotFoundError) from None
            except AmbiguousRequestError as exc:
                last_error = exc
                if signature is None:
                    continue  # params and tags only: storing them twice changes nothing
                self._remember_uncertain(signature)
                # Raises StoreUnavailableError while the server stays away; the signature
                # stays remembered for the queue's next attempt.
                if self._batch_is_stored(run_id, chunk):
                    self._uncertain.pop(signature, None)
                    return
                continue
            if signature is not None:
                self._uncertain.pop(signature, None)
            return
        raise StoreUnavailableError(
            f"Could not deliver a batch to {redact_url(self.uri)}: {last_error}"
        )

    def _remember_uncertain(self, signature: tuple) -> None:
        self._uncertain[signature] = True
        while len(self._uncertain) > _MAX_UNCERTAIN:
            self._uncertain.pop(next(iter(self._uncertain)))

    def _batch_is_stored(self, run_id: str, chunk: _Chunk) -> bool:
        """Whether a log-batch request took effect: a stored batch left, for every metric key
        it carries, its newest point as the run's latest value of that key (batches of one
        writer are sent in order, and a run's latest metric only moves forward). If anything
        else moved a key further since, the answer is "not stored", so points may repeat but
        are never lost."""
        newest: dict[str, Metric] = {}
        for m in chunk.metrics:
            old = newest.get(m.key)
            if old is None or (m.step, m.timestamp) >= (old.step, old.timestamp):
                newest[m.key] = m
        latest = {m.key: m for m in self.get_run(run_id).data._metric_objs}
        for key, sent in newest.items():
            found = latest.get(key)
            if found is None or (found.step, found.timestamp) != (sent.step, sent.timestamp):
                return False
            if not _same_stored_value(found.value, float(sent.value)):
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


def _signature(run_id: str, chunk: _Chunk) -> tuple | None:
    """What identifies a log-batch request's metrics when the queue sends it again."""
    metrics = chunk.metrics
    if not metrics:
        return None
    first, last = metrics[0], metrics[-1]
    return (
        run_id,
        len(metrics),
        (first.key, _json_number(float(first.value)), first.timestamp, first.step),
        (last.key, _json_number(float(last.value)), last.timestamp, last.step),
    )


def _same_stored_value(stored: float, sent: float) -> bool:
    """Stores keep NaN as NaN and +/-inf as +/-float max (MLflow's rule)."""
    if math.isnan(sent):
        return math.isnan(stored)
    if math.isinf(sent):
        return stored == sent or stored == math.copysign(sys.float_info.max, sent)
    return stored == sent


def _narrow(error: ResourceNotFoundError, cls: type | None) -> FlightlogError:
    if cls is None or isinstance(error, cls):
        return error
    return cls(error.message)


def _entry_size(key: str, value: str) -> int:
    # JSON overhead for {"key":"…","value":"…"}, generous for escapes.
    return len(key) + len(value) + 32


def _batch_requests(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> Iterator[_Chunk]:
    """Cut one logical batch into log-batch requests within MLflow's count and size limits.

    Params and tags go first: a run's params are usually few and the later metrics may depend on
    them being visible. Metric entries are small (~80 bytes), so their count limit binds first.
    """
    if not params and not tags and len(metrics) <= MAX_METRICS_PER_REQUEST:
        yield _Chunk(metrics, (), ())  # the queue's usual call: one request, no copying
        return
    chunk_params: list[Param] = []
    chunk_tags: list[RunTag] = []
    size = 0
    for kind, items in (("params", params), ("tags", tags)):
        for item in items:
            entry_size = _entry_size(item.key, item.value)
            same_kind = chunk_params if kind == "params" else chunk_tags
            full = (
                len(chunk_params) + len(chunk_tags) >= MAX_ENTITIES_PER_REQUEST
                or len(same_kind) >= MAX_PARAMS_TAGS_PER_REQUEST
                or (size + entry_size > MAX_REQUEST_BYTES and (chunk_params or chunk_tags))
            )
            if full:
                yield _Chunk((), chunk_params, chunk_tags)
                chunk_params, chunk_tags, size = [], [], 0
            (chunk_params if kind == "params" else chunk_tags).append(item)
            size += entry_size

    # Metrics fill what room the last params/tags request left, then full requests follow.
    start = 0
    if chunk_params or chunk_tags:
        room = MAX_ENTITIES_PER_REQUEST - len(chunk_params) - len(chunk_tags)
        room = min(room, MAX_METRICS_PER_REQUEST, max(0, (MAX_REQUEST_BYTES - size) // 400))
        yield _Chunk(metrics[:room], chunk_params, chunk_tags)
        start = min(room, len(metrics))
    for i in range(start, len(metrics), MAX_METRICS_PER_REQUEST):
        yield _Chunk(metrics[i : i + MAX_METRICS_PER_REQUEST], (), ())
