"""Entities as MLflow's response JSON (proto3 JSON as MLflow writes it).

Unset fields are left out rather than sent as null, int64 fields are numbers, and non-finite
metric values are the strings "NaN", "Infinity", "-Infinity" (plain JSON cannot carry them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from starlette.responses import Response

from flightlog.entities import Experiment, FileInfo, Metric, Run, RunInfo


class MlflowJSONResponse(Response):
    """Compact UTF-8 JSON, rendered without FastAPI's jsonable_encoder pass (it is slow)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


EMPTY = b"{}"


def empty() -> Response:
    return Response(EMPTY, media_type="application/json")


def _value(v: float) -> float | str:
    if math.isfinite(v):
        return v
    if math.isnan(v):
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def metric(m: Metric) -> dict[str, Any]:
    return {"key": m.key, "value": _value(m.value), "timestamp": m.timestamp, "step": m.step}


def _number_json(v: float) -> str:
    return repr(v) if math.isfinite(v) else json.dumps(_value(v))


def metric_history_stream(first_page, next_page) -> Iterator[bytes]:
    """`{"metrics": [...]}` written page by page, so an unpaged history of millions of points
    is sent with the memory of one page. `next_page(token)` reads the page after `token`."""
    yield b'{"metrics":['
    page, sep = first_page, ""
    while True:
        if page:
            key = json.dumps(page[0].key, ensure_ascii=False)
            body = ",".join(
                f'{{"key":{key},"value":{_number_json(m.value)},'
                f'"timestamp":{m.timestamp},"step":{m.step}}}'
                for m in page
            )
            yield (sep + body).encode("utf-8")
            sep = ","
        token = getattr(page, "token", None)
        if not token:
            break
        page = next_page(token)
    yield b"]}"


def experiment(e: Experiment) -> dict[str, Any]:
    d = _drop_none(
        {
            "experiment_id": str(e.experiment_id),
            "name": e.name,
            "artifact_location": e.artifact_location,
            "lifecycle_stage": e.lifecycle_stage,
            "creation_time": e.creation_time,
            "last_update_time": e.last_update_time,
        }
    )
    if e.tags:
        d["tags"] = _pairs(e.tags)
    return d


def run_info(i: RunInfo) -> dict[str, Any]:
    return _drop_none(
        {
            "run_id": i.run_id,
            "run_uuid": i.run_id,
            "run_name": i.run_name,
            "experiment_id": str(i.experiment_id),
            "user_id": i.user_id,
            "status": i.status,
            "start_time": i.start_time,
            "end_time": i.end_time,
            "artifact_uri": i.artifact_uri,
            "lifecycle_stage": i.lifecycle_stage,
        }
    )


def run(r: Run, links: tuple[list[str], list[tuple[str, int]]] | None = None) -> dict[str, Any]:
    """A run as MLflow's JSON; `links` (from the store's run_model_links) adds MLflow 3's
    `inputs.model_inputs` and `outputs.model_outputs`."""
    data = r.data
    latest = list(getattr(data, "_metric_objs", None) or ())
    if not latest and data.metrics:
        # A store that filled only the {key: value} map: send what it has.
        latest = [Metric(k, v, 0, 0) for k, v in data.metrics.items()]
    out: dict[str, Any] = {
        "info": run_info(r.info),
        "data": {
            "metrics": [metric(m) for m in latest],
            "params": _pairs(data.params),
            "tags": _pairs(data.tags),
        },
    }
    inputs = getattr(r, "inputs", None)
    dataset_inputs = getattr(inputs, "dataset_inputs", None) if inputs is not None else None
    out["inputs"] = {"dataset_inputs": [d.to_dict() for d in dataset_inputs or ()]}
    if links is not None:
        model_inputs, model_outputs = links
        if model_inputs:
            out["inputs"]["model_inputs"] = [{"model_id": m} for m in model_inputs]
        if model_outputs:
            out["outputs"] = {
                "model_outputs": [{"model_id": m, "step": step} for m, step in model_outputs]
            }
    return out


def file_info(f: FileInfo) -> dict[str, Any]:
    d: dict[str, Any] = {"path": f.path, "is_dir": f.is_dir}
    if f.file_size is not None and not f.is_dir:
        d["file_size"] = f.file_size
    return d
