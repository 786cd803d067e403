"""Request bodies and query strings of the REST API, as pydantic models.

Field names, optionality and JSON types follow MLflow's service.proto (proto3 JSON, as MLflow's
client writes it): ids are strings (numbers accepted), int64 fields accept numbers or numeric
strings, doubles accept "NaN"/"Infinity" strings, enums are names. Strings that no database can
store (NUL bytes, lone surrogates) are refused here so they become 400s, not store errors.
Unknown fields are ignored, as MLflow's server does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)

from flightlog.entities import RunStatus

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_RESULTS_LIMIT = 50_000


def _storable(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return text


def _id_text(value: str | int) -> str:
    return _storable(str(value))


Text = Annotated[str, AfterValidator(_storable)]


def _documented(**constraints: Any) -> Any:
    """Constraints stated in the OpenAPI schema (so generated clients and fuzzers send sensible
    data) but enforced by the store, whose error messages name the rule that was broken."""
    return Field(json_schema_extra=constraints)


# MLflow's rules for metric/param/tag keys (flightlog.validation holds the full ones).
Key = Annotated[Text, _documented(minLength=1, maxLength=250, pattern=r"^[/\w.\- :]+$")]
ParamValue = Annotated[Text, _documented(maxLength=6000)]
TagValue = Annotated[Text, _documented(maxLength=8000)]
RunId = Annotated[Text, _documented(pattern=r"^[a-zA-Z0-9_\-]{1,256}$")]
ExperimentName = Annotated[Text, _documented(minLength=1, maxLength=500)]
RunName = Annotated[Text, _documented(maxLength=250)]
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
# Ids are strings in MLflow's API; some clients send experiment ids as numbers.
Id = Annotated[StrictStr | StrictInt, AfterValidator(_id_text)]
ViewTypeName = Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"] | Literal[1, 2, 3]
RunStatusName = Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
assert set(RunStatusName.__args__) == set(RunStatus.ALL)  # type: ignore[attr-defined]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class KeyValue(_Model):
    key: Key
    value: TagValue = ""


class ParamIn(_Model):
    key: Key
    value: ParamValue = ""


class MetricIn(_Model):
    key: Key
    value: float
    timestamp: Int64
    step: Int64 = 0


class _RunRef(_Model):
    """MLflow accepts a run as `run_id` or its deprecated alias `run_uuid`."""

    run_id: RunId | None = None
    run_uuid: RunId | None = None

    @model_validator(mode="after")
    def _one_run_id(self):
        if not (self.run_id or self.run_uuid):
            raise ValueError("Missing value for required parameter 'run_id'")
        return self

    @property
    def the_run_id(self) -> str:
        return self.run_id or self.run_uuid  # type: ignore[return-value]


# --- experiments ------------------------------------------------------------------------------
class CreateExperimentRequest(_Model):
    name: ExperimentName
    artifact_location: Text | None = None
    tags: list[KeyValue] = []


class ExperimentRef(_Model):
    experiment_id: Id


class GetExperimentByNameRequest(_Model):
    experiment_name: ExperimentName


class SearchExperimentsRequest(_Model):
    max_results: Annotated[int, Field(ge=1, le=MAX_RESULTS_LIMIT)] | None = None
    page_token: Text | None = None
    filter: Text | None = None
    order_by: list[Text] = []
    view_type: ViewTypeName | None = None


class UpdateExperimentRequest(_Model):
    experiment_id: Id
    new_name: ExperimentName


class SetExperimentTagRequest(_Model):
    experiment_id: Id
    key: Key
    value: TagValue = ""


# --- runs -------------------------------------------------------------------------------------
class CreateRunRequest(_Model):
    experiment_id: Id | None = None
    user_id: Text | None = None
    start_time: Int64 | None = None
    tags: list[KeyValue] = []
    run_name: RunName | None = None


class RunRef(_RunRef):
    pass


class UpdateRunRequest(_RunRef):
    status: RunStatusName | None = None
    end_time: Int64 | None = None
    run_name: RunName | None = None


class LogMetricRequest(_RunRef):
    key: Key
    value: float
    timestamp: Int64
    step: Int64 = 0


class LogParamRequest(_RunRef):
    key: Key
    value: ParamValue = ""


class SetTagRequest(_RunRef):
    key: Key
    value: TagValue = ""


class DeleteTagRequest(_Model):
    run_id: RunId
    key: Key


class LogBatchRequest(_Model):
    run_id: RunId
    metrics: list[MetricIn] = []
    params: list[ParamIn] = []
    tags: list[KeyValue] = []


class DatasetIn(_Model):
    name: Text
    digest: Text
    source_type: Text = "code"
    source: Text = "{}"
    # `schema` shadows a BaseModel attribute, hence the alias.
    dataset_schema: Text | None = Field(default=None, alias="schema")
    profile: Text | None = None


class DatasetInputIn(_Model):
    dataset: DatasetIn
    tags: list[KeyValue] = []


class LogInputsRequest(_Model):
    run_id: RunId
    datasets: list[DatasetInputIn] = []


class SearchRunsRequest(_Model):
    experiment_ids: list[Id] = []
    filter: Text | None = None
    run_view_type: ViewTypeName | None = None
    max_results: Annotated[int, Field(ge=1, le=MAX_RESULTS_LIMIT)] = 1000
    order_by: list[Text] = []
    page_token: Text | None = None


class GetMetricHistoryRequest(_RunRef):
    metric_key: Key
    page_token: Text | None = None
    max_results: Annotated[int, Field(ge=1, le=INT64_MAX)] | None = None


# --- artifacts --------------------------------------------------------------------------------
class ListArtifactsRequest(_Model):
    """`GET /api/2.0/mlflow/artifacts/list`: a run's artifacts under `path`."""

    run_id: RunId | None = None
    run_uuid: RunId | None = None
    path: Text | None = None
    page_token: Text | None = None


class ListProxiedArtifactsRequest(_Model):
    """`GET /api/2.0/mlflow-artifacts/artifacts?path=`: the proxy's own listing."""

    path: Text | None = None
