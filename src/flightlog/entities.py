"""The records flightlog stores, with MLflow's attribute names.

Everything here is a plain value object: no I/O, no store access. `to_dict`/`from_dict` use
MLflow's REST JSON field names so the server and the REST store can share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RunStatus:
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    ALL = (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED)
    TERMINATED = (FINISHED, FAILED, KILLED)

    @classmethod
    def is_terminated(cls, status: str) -> bool:
        return status in cls.TERMINATED

    @classmethod
    def to_string(cls, status: str) -> str:
        # MLflow exposes this for code that converted proto enums; statuses are strings here.
        return status


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType:
    """Which lifecycle stages a search returns (MLflow's numbering)."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    _BY_NAME = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}

    @classmethod
    def from_any(cls, value: int | str | None) -> int:
        if value is None:
            return cls.ACTIVE_ONLY
        if isinstance(value, str):
            try:
                return cls._BY_NAME[value.upper()]
            except KeyError:
                raise ValueError(
                    f"Unknown view type {value!r}; use ACTIVE_ONLY, DELETED_ONLY or ALL"
                ) from None
        if value not in (1, 2, 3):
            raise ValueError(f"Unknown view type {value!r}; use 1, 2 or 3")
        return int(value)

    @classmethod
    def stages(cls, view_type: int) -> tuple[str, ...]:
        if view_type == cls.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if view_type == cls.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)


class PagedList(list, Generic[T]):
    """A list of results with the token for the next page (None on the last page)."""

    def __init__(self, items: list[T] | None = None, token: str | None = None):
        super().__init__(items or [])
        self.token = token


@dataclass(slots=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "timestamp": self.timestamp,
            "step": self.step,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Metric:
        return cls(d["key"], float(d["value"]), int(d.get("timestamp", 0)), int(d.get("step", 0)))


@dataclass(slots=True)
class Param:
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Param:
        return cls(d["key"], str(d.get("value", "")))


@dataclass(slots=True)
class RunTag:
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunTag:
        return cls(d["key"], str(d.get("value", "")))


ExperimentTag = RunTag


@dataclass
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "artifact_location": self.artifact_location,
            "lifecycle_stage": self.lifecycle_stage,
            "creation_time": self.creation_time,
            "last_update_time": self.last_update_time,
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Experiment:
        return cls(
            experiment_id=str(d["experiment_id"]),
            name=d["name"],
            artifact_location=d.get("artifact_location", ""),
            lifecycle_stage=d.get("lifecycle_stage", LifecycleStage.ACTIVE),
            tags={t["key"]: t.get("value", "") for t in d.get("tags", [])},
            creation_time=_opt_int(d.get("creation_time")),
            last_update_time=_opt_int(d.get("last_update_time")),
        )


@dataclass
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = LifecycleStage.ACTIVE

    @property
    def run_uuid(self) -> str:  # MLflow's deprecated alias, still used by old code
        return self.run_id

    def to_dict(self) -> dict[str, Any]:
        d = {
            "run_id": self.run_id,
            "run_uuid": self.run_id,
            "run_name": self.run_name,
            "experiment_id": self.experiment_id,
            "user_id": self.user_id,
            "status": self.status,
            "start_time": self.start_time,
            "artifact_uri": self.artifact_uri,
            "lifecycle_stage": self.lifecycle_stage,
        }
        if self.end_time is not None:
            d["end_time"] = self.end_time
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunInfo:
        return cls(
            run_id=d.get("run_id") or d["run_uuid"],
            experiment_id=str(d["experiment_id"]),
            run_name=d.get("run_name", ""),
            user_id=d.get("user_id", ""),
            status=d.get("status", RunStatus.RUNNING),
            start_time=_opt_int(d.get("start_time")),
            end_time=_opt_int(d.get("end_time")),
            artifact_uri=d.get("artifact_uri", ""),
            lifecycle_stage=d.get("lifecycle_stage", LifecycleStage.ACTIVE),
        )


@dataclass
class RunData:
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # The latest Metric object per key, for callers that want step/timestamp too.
    _metric_objs: list[Metric] = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, metrics: list[Metric], params: dict[str, str], tags: dict[str, str]) -> RunData:
        return cls({m.key: m.value for m in metrics}, dict(params), dict(tags), list(metrics))

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": [m.to_dict() for m in self._metric_objs],
            "params": [{"key": k, "value": v} for k, v in self.params.items()],
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunData:
        metrics = [Metric.from_dict(m) for m in d.get("metrics", [])]
        params = {p["key"]: p.get("value", "") for p in d.get("params", [])}
        tags = {t["key"]: t.get("value", "") for t in d.get("tags", [])}
        return cls.build(metrics, params, tags)


@dataclass
class Dataset:
    name: str
    digest: str
    source_type: str = "code"
    source: str = "{}"
    schema: str | None = None
    profile: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {
            "name": self.name,
            "digest": self.digest,
            "source_type": self.source_type,
            "source": self.source,
        }
        if self.schema is not None:
            d["schema"] = self.schema
        if self.profile is not None:
            d["profile"] = self.profile
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Dataset:
        return cls(
            d["name"],
            d["digest"],
            d.get("source_type", "code"),
            d.get("source", "{}"),
            d.get("schema"),
            d.get("profile"),
        )


@dataclass(slots=True)
class InputTag:
    """A tag on a run input (MLflow's entity): `mlflow.data.context` = "training", ..."""

    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value}


class InputTags(list):
    """`DatasetInput.tags`: a list of InputTag, as MLflow gives it (`for t in tags: t.key`).

    It also answers the dict reads flightlog's first API offered (`tags["mlflow.data.context"]`,
    `.get`, `.items()`, `key in tags`), so older code and stored data keep working."""

    def __init__(self, tags: Any = ()):
        if isinstance(tags, dict):
            items = [InputTag(str(k), str(v)) for k, v in tags.items()]
        else:
            items = [
                t
                if isinstance(t, InputTag)
                else InputTag(str(t["key"]), str(t.get("value", "")))
                if isinstance(t, dict)
                else InputTag(str(t[0]), str(t[1]))
                for t in tags or ()
            ]
        super().__init__(items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str):
            for tag in self:
                if tag.key == index:
                    return tag.value
            raise KeyError(index)
        return super().__getitem__(index)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(tag.key == item for tag in self)
        return super().__contains__(item)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dict):
            return dict(self.items()) == other
        return list.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def items(self) -> list[tuple[str, str]]:
        return [(tag.key, tag.value) for tag in self]

    def keys(self) -> list[str]:
        return [tag.key for tag in self]

    def values(self) -> list[str]:
        return [tag.value for tag in self]


@dataclass
class DatasetInput:
    dataset: Dataset
    tags: InputTags = field(default_factory=InputTags)

    def __post_init__(self) -> None:
        if not isinstance(self.tags, InputTags):
            self.tags = InputTags(self.tags)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset.to_dict(),
            "tags": [t.to_dict() for t in self.tags],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetInput:
        return cls(Dataset.from_dict(d["dataset"]), InputTags(d.get("tags", [])))


@dataclass
class RunInputs:
    dataset_inputs: list[DatasetInput] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset_inputs": [i.to_dict() for i in self.dataset_inputs]}


@dataclass
class Run:
    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "info": self.info.to_dict(),
            "data": self.data.to_dict(),
            "inputs": self.inputs.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Run:
        inputs = RunInputs(
            [DatasetInput.from_dict(i) for i in d.get("inputs", {}).get("dataset_inputs", [])]
        )
        return cls(RunInfo.from_dict(d["info"]), RunData.from_dict(d.get("data", {})), inputs)


@dataclass(frozen=True)
class FileInfo:
    path: str
    is_dir: bool
    file_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "is_dir": self.is_dir}
        if self.file_size is not None:
            d["file_size"] = self.file_size
        return d


def _opt_int(v: Any) -> int | None:
    return None if v is None or v == "" else int(v)


# --- the model registry and logged models ------------------------------------------------
RegisteredModelTag = RunTag
ModelVersionTag = RunTag


class ModelVersionStatus:
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


class ModelVersionStage:
    """The (deprecated in MLflow, still common) stages of a model version."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    ALL = (NONE, STAGING, PRODUCTION, ARCHIVED)

    @classmethod
    def canonical(cls, stage: str) -> str | None:
        """'production' -> 'Production'; None for an unknown stage."""
        for known in cls.ALL:
            if known.lower() == str(stage).lower():
                return known
        return None


@dataclass
class RegisteredModelAlias:
    alias: str
    version: str

    def to_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "version": self.version}


@dataclass
class ModelVersion:
    """One version of a registered model. `version` is a string, as in MLflow's entity."""

    name: str
    version: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    current_stage: str = ModelVersionStage.NONE
    source: str | None = None
    run_id: str | None = None
    status: str = ModelVersionStatus.READY
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_link: str | None = None
    aliases: list[str] = field(default_factory=list)
    model_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "version": str(self.version),
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
            "current_stage": self.current_stage,
            "source": self.source or "",
            "status": self.status,
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
            "aliases": list(self.aliases),
        }
        for key in ("description", "user_id", "run_id", "status_message", "run_link", "model_id"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelVersion:
        return cls(
            name=d["name"],
            version=str(d["version"]),
            creation_timestamp=_opt_int(d.get("creation_timestamp")),
            last_updated_timestamp=_opt_int(d.get("last_updated_timestamp")),
            description=d.get("description"),
            user_id=d.get("user_id"),
            current_stage=d.get("current_stage") or ModelVersionStage.NONE,
            source=d.get("source"),
            run_id=d.get("run_id") or None,
            status=d.get("status") or ModelVersionStatus.READY,
            status_message=d.get("status_message"),
            tags={t["key"]: t.get("value", "") for t in d.get("tags", [])},
            run_link=d.get("run_link") or None,
            aliases=list(d.get("aliases", [])),
            model_id=d.get("model_id") or None,
        )


@dataclass
class RegisteredModel:
    """A named model in the registry. `aliases` maps alias -> version, as MLflow's entity does."""

    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
            "latest_versions": [mv.to_dict() for mv in self.latest_versions],
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
            "aliases": [{"alias": a, "version": v} for a, v in self.aliases.items()],
        }
        if self.description is not None:
            d["description"] = self.description
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegisteredModel:
        return cls(
            name=d["name"],
            creation_timestamp=_opt_int(d.get("creation_timestamp")),
            last_updated_timestamp=_opt_int(d.get("last_updated_timestamp")),
            description=d.get("description"),
            latest_versions=[ModelVersion.from_dict(m) for m in d.get("latest_versions", [])],
            tags={t["key"]: t.get("value", "") for t in d.get("tags", [])},
            aliases={a["alias"]: str(a["version"]) for a in d.get("aliases", [])},
        )


class LoggedModelStatus:
    """MLflow 3 logged-model states; the REST form prefixes them with LOGGED_MODEL_."""

    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED_UPLOAD"

    _TO_WIRE = {
        PENDING: "LOGGED_MODEL_PENDING",
        READY: "LOGGED_MODEL_READY",
        FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
    }

    @classmethod
    def to_wire(cls, status: str) -> str:
        return cls._TO_WIRE.get(status, "LOGGED_MODEL_STATUS_UNSPECIFIED")

    @classmethod
    def from_wire(cls, value: Any) -> str:
        if isinstance(value, int):  # proto enum numbers
            return {1: cls.PENDING, 2: cls.READY, 3: cls.FAILED}.get(value, cls.PENDING)
        for status, wire in cls._TO_WIRE.items():
            if value in (status, wire):
                return status
        return cls.PENDING


@dataclass(slots=True)
class LoggedModelMetric(Metric):
    """A point of a logged model's metric: MLflow 3's Metric with the model, run and dataset."""

    model_id: str | None = None
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = Metric.to_dict(self)
        for key in ("model_id", "run_id", "dataset_name", "dataset_digest"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoggedModelMetric:
        return cls(
            d["key"],
            float(d["value"]),
            int(d.get("timestamp", 0)),
            int(d.get("step", 0)),
            d.get("model_id") or None,
            d.get("run_id") or None,
            d.get("dataset_name") or None,
            d.get("dataset_digest") or None,
        )


@dataclass
class LoggedModel:
    """An MLflow 3 "logged model" (models:/m-<id>): a model with its own artifact location."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    status: str = LoggedModelStatus.PENDING
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)

    @property
    def model_uri(self) -> str:
        return f"models:/{self.model_id}"

    def to_dict(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "model_id": self.model_id,
            "experiment_id": self.experiment_id,
            "name": self.name,
            "artifact_uri": self.artifact_location,
            "creation_timestamp_ms": self.creation_timestamp,
            "last_updated_timestamp_ms": self.last_updated_timestamp,
            "status": LoggedModelStatus.to_wire(self.status),
            "tags": [{"key": k, "value": v} for k, v in self.tags.items()],
        }
        for key in ("model_type", "source_run_id", "status_message"):
            value = getattr(self, key)
            if value is not None:
                info[key] = value
        data = {
            "params": [{"key": k, "value": v} for k, v in self.params.items()],
            "metrics": [m.to_dict() for m in self.metrics],
        }
        return {"info": info, "data": data}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoggedModel:
        info = d.get("info", d)
        data = d.get("data", {})
        return cls(
            model_id=info["model_id"],
            experiment_id=str(info.get("experiment_id", "")),
            name=info.get("name", ""),
            artifact_location=info.get("artifact_uri", ""),
            creation_timestamp=_opt_int(info.get("creation_timestamp_ms")),
            last_updated_timestamp=_opt_int(info.get("last_updated_timestamp_ms")),
            status=LoggedModelStatus.from_wire(info.get("status")),
            model_type=info.get("model_type") or None,
            source_run_id=info.get("source_run_id") or None,
            status_message=info.get("status_message") or None,
            tags={t["key"]: t.get("value", "") for t in info.get("tags", [])},
            params={p["key"]: p.get("value", "") for p in data.get("params", [])},
            metrics=[LoggedModelMetric.from_dict(m) for m in data.get("metrics", [])],
        )
