"""Where a dataset came from: code (the running script) or a URI (a file, s3://, https://...).

Stored as the run input's `source_type` and `source` JSON, in MLflow's shapes:
`code` -> {"tags": {"mlflow.user": ..., "mlflow.source.name": ..., "mlflow.source.type": ...}},
anything with a URI -> {"uri": "..."} ({"url": ...} for http) with the scheme as the type
(`local` for plain paths).
"""

from __future__ import annotations

import json
import os
from typing import Any

from flightlog.exceptions import InvalidParameterError


class DatasetSource:
    """A dataset's origin; `to_json()` is what the run input stores."""

    source_type: str = ""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def _get_source_type(self) -> str:  # MLflow's name
        return self.source_type

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_json()}>"


class CodeDatasetSource(DatasetSource):
    """Data built in code: the source is the script (its user, name and source type tags)."""

    source_type = "code"

    def __init__(self, tags: dict[str, str] | None = None):
        if tags is None:
            from flightlog.context import system_tags

            # MLflow records these three (no git commit) for code sources.
            wanted = ("mlflow.user", "mlflow.source.name", "mlflow.source.type")
            tags = {k: v for k, v in system_tags().items() if k in wanted}
        self.tags = dict(tags)

    def to_dict(self) -> dict[str, Any]:
        return {"tags": self.tags}


class UriDatasetSource(DatasetSource):
    """Data read from a path or URI; the type is the URI scheme ("local" for a plain path)."""

    def __init__(self, uri: str, source_type: str | None = None):
        self.uri = str(uri)
        self.source_type = source_type or _scheme(self.uri)

    @property
    def url(self) -> str:  # MLflow's HTTPDatasetSource name
        return self.uri

    def to_dict(self) -> dict[str, Any]:
        # MLflow's HTTP source stores "url"; every other URI source "uri".
        return {"url": self.uri} if self.source_type == "http" else {"uri": self.uri}


def _scheme(uri: str) -> str:
    head, sep, _ = uri.partition("://")
    if sep and head and "/" not in head:
        return {"file": "local", "https": "http"}.get(head.lower(), head.lower())
    return "local"


def resolve_source(source: Any) -> DatasetSource:
    """`source=` as given to from_pandas/from_numpy: None (code), a path/URI, or a source."""
    if source is None:
        return CodeDatasetSource()
    if isinstance(source, DatasetSource):
        return source
    if isinstance(source, (str, os.PathLike)):
        return UriDatasetSource(os.fspath(source))
    to_json = getattr(source, "to_json", None)  # an mlflow DatasetSource
    if callable(to_json):
        kind = getattr(source, "_get_source_type", lambda: "code")()
        data = json.loads(to_json())
        if "uri" in data or "url" in data:
            return UriDatasetSource(data.get("uri") or data["url"], kind)
        return CodeDatasetSource(data.get("tags", {}))
    raise InvalidParameterError(
        f"source must be a path, a URI or a DatasetSource, got {type(source).__name__}"
    )


def get_source(dataset: Any) -> DatasetSource:
    """The source of a dataset, a stored Dataset entity or a DatasetInput (MLflow's helper)."""
    dataset = getattr(dataset, "dataset", dataset)
    if isinstance(getattr(dataset, "source", None), DatasetSource):
        return dataset.source
    kind = getattr(dataset, "source_type", None)
    text = getattr(dataset, "source", None)
    if not isinstance(text, str):
        raise InvalidParameterError(f"{type(dataset).__name__} has no dataset source")
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        raise InvalidParameterError(f"The dataset source is not JSON: {text[:200]!r}") from None
    if kind == "code" or "tags" in data:
        return CodeDatasetSource(data.get("tags", {}))
    return UriDatasetSource(data.get("uri") or data.get("url", ""), kind)
