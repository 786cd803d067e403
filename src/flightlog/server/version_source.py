"""Which sources `model-versions/create` accepts over the server (MLflow's rule, same outcomes).

A model version's source is later read by the server (model-versions/get-artifact, download
URIs the web app follows), so a client must not be able to point it at an arbitrary file on
the server's machine. The rule, as MLflow's server applies it:

- no `..` segment and no NUL, even percent-encoded (any scheme);
- a local path (`/x`, `file:///x`, `C:\\x`) only inside the artifact folder of the run named by
  `run_id` (or of the logged model named by `model_id`), when that folder is local itself;
- an `mlflow-artifacts:` source (or an http(s) URL into this API's artifact proxy) only inside
  that run's (or logged model's) artifact root;
- `runs:/<id>/...` only with `run_id` = <id>; `models:/<model_id>` only with that `model_id`;
- anything else (`s3://`, `gs://`, `models:/<name>/<version>`, ...) as given.

The embedded store applies none of this: there the caller and the files share one machine.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, unquote_plus, urlsplit

from flightlog.exceptions import FlightlogError, InvalidParameterError, ResourceNotFoundError

_PROXY_ROUTE = ("api", "2.0", "mlflow-artifacts", "artifacts")


def _invalid(source: str, detail: str) -> InvalidParameterError:
    return InvalidParameterError(f"Invalid model version source: '{source}'. {detail}")


def _fully_unquoted(text: str) -> str:
    while (once := unquote_plus(text)) != text:
        text = once
    return text


def _is_local(source: str) -> bool:
    scheme = urlsplit(source).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and scheme.isalpha())


def _local_path(uri: str) -> str:
    parts = urlsplit(uri)
    path = unquote(parts.path) if parts.scheme.lower() == "file" else uri
    return posixpath.normpath(path.replace("\\", "/"))


def _parts(uri: str) -> tuple[str, str, tuple[str, ...]]:
    split = urlsplit(uri)
    segments = tuple(unquote(p) for p in split.path.split("/") if p)
    return split.scheme.lower(), split.netloc.lower(), segments


def _within(source: str, root: str) -> bool:
    s_scheme, s_host, s_path = _parts(source)
    r_scheme, r_host, r_path = _parts(root)
    return (
        (s_scheme, s_host) == (r_scheme, r_host)
        and bool(r_path)
        and s_path[: len(r_path)] == r_path
    )


def _is_proxied(source: str) -> bool:
    scheme, _host, segments = _parts(source)
    if scheme == "mlflow-artifacts":
        return True
    n = len(_PROXY_ROUTE)
    return scheme in ("http", "https") and any(
        segments[i : i + n] == _PROXY_ROUTE for i in range(len(segments) - n + 1)
    )


def _owner_root(store, run_id: str | None, model_id: str | None, source: str) -> str | None:
    """The artifact root of the run (or logged model) the request names, None if it names none;
    a name that does not exist makes the source invalid, as in MLflow."""
    try:
        if model_id:
            return store.get_logged_model(model_id).artifact_location
        if run_id:
            return store.get_run(run_id).info.artifact_uri
    except ResourceNotFoundError:
        which = "model_id" if model_id else "run_id"
        raise _invalid(
            source, f"The {which} request parameter must identify the resource that contains it."
        ) from None
    except FlightlogError:
        raise
    return None


def check_version_source(store, source: str, run_id: str | None, model_id: str | None) -> None:
    """InvalidParameterError (400) for a source the server must not accept (see above)."""
    which = "model_id" if model_id else "run_id"
    if _is_local(source):
        root = _owner_root(store, run_id, model_id, source)
        if root is not None and _is_local(root):
            path, folder = _local_path(source), _local_path(root)
            inside = path == folder or path.startswith(folder.rstrip("/") + "/")
            if inside and ".." not in _fully_unquoted(source).replace("\\", "/").split("/"):
                return
        raise _invalid(
            source,
            f"To use a local path as a model version source, the {which} request parameter has "
            f"to be specified and the local path has to be contained within the artifact "
            f"directory of the {'logged model' if model_id else 'run'} it names.",
        )
    plain = _fully_unquoted(source)
    if "\x00" in plain or ".." in plain.split("/"):
        raise _invalid(
            source,
            "A source must be an absolute location without relative path references ('..').",
        )
    scheme = urlsplit(source).scheme.lower()
    if scheme == "runs":
        match = re.match(r"runs:/([^/]+)", source)
        if urlsplit(source).netloc or not match or match.group(1) != run_id:
            raise _invalid(source, "The run_id request parameter must name the run in the source.")
        return
    if scheme == "models":
        match = re.match(r"models:/(m-[0-9a-f]+)/?$", source)
        if urlsplit(source).netloc:
            raise _invalid(source, "Model sources must use this server's registry.")
        if match and match.group(1) != model_id:
            raise _invalid(
                source, "The model_id request parameter must name the logged model in the source."
            )
        return
    if _is_proxied(source):
        root = _owner_root(store, run_id, model_id, source)
        if root is None or not _within(source, root):
            raise _invalid(
                source,
                f"The {which} request parameter must identify the resource that contains the "
                "source.",
            )
