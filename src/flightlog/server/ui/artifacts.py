"""The web UI's view of a run's artifacts: where they are, listing, previews, logged models.

Everything goes through the server's artifact destination (`--artifacts-destination`):
- proxied locations (`mlflow-artifacts:/...`, runs logged through a server) are paths under it;
- direct locations (`file:///...`, runs logged straight into a local store, which is what
  `flightlog ui` shows) are served only when they lie inside it. A run whose experiment put its
  artifacts anywhere else is refused with a clear message, so that an experiment's
  `artifact_location` can never turn the UI into a reader of arbitrary server files.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from flightlog.exceptions import ArtifactPathError, InvalidParameterError, ResourceNotFoundError

MLMODEL_FILE = "MLmodel"
# How much of an input example or preview the UI reads; the rest is cut off with a note.
PREVIEW_LIMIT_BYTES = 2 * 1024 * 1024
INPUT_EXAMPLE_LIMIT_BYTES = 64 * 1024
# Where logged models are looked for: the artifact root and folders this deep below it, listing
# at most this many folders (a run with thousands of checkpoint folders must still open fast).
MODEL_SEARCH_DEPTH = 2
MODEL_SEARCH_MAX_FOLDERS = 100


def artifact_root(destination: Any, artifact_uri: str) -> str:
    """The destination-relative folder that holds the artifacts at `artifact_uri`."""
    from flightlog.server.api_artifacts import proxied_root
    from flightlog.server.artifact_store import safe_artifact_path

    proxied = proxied_root(artifact_uri)
    if proxied is not None:
        return proxied
    if destination.local_root is not None and _is_local(artifact_uri):
        from flightlog.artifacts.local import local_path_from_uri

        path = local_path_from_uri(artifact_uri).resolve()
        root = destination.local_root
        if path == root:
            return ""
        if root in path.parents:
            return safe_artifact_path(path.relative_to(root).as_posix())
    else:
        prefix = destination.destination.rstrip("/") + "/"
        if artifact_uri.startswith(prefix):
            return safe_artifact_path(artifact_uri[len(prefix) :])
    raise InvalidParameterError(
        f"The artifacts at {artifact_uri!r} are outside this server's artifact root "
        f"({destination.destination}), so the UI does not show them; start it with "
        "--artifacts-destination pointing at the folder that holds them"
    )


def _is_local(uri: str) -> bool:
    head = uri.split(":", 1)[0].lower() if ":" in uri else ""
    return head in ("", "file") or (len(head) == 1 and head.isalpha())


def _join(root: str, rel: str) -> str:
    return posixpath.join(root, rel) if root and rel else (root or rel)


def list_files(destination: Any, root: str, rel: str) -> list[dict[str, Any]]:
    """The direct children of `rel` (relative to the run's artifact root), folders first."""
    from flightlog.server.artifact_store import safe_artifact_path

    rel = safe_artifact_path(rel)
    infos = destination.list(_join(root, rel))
    files = [
        {
            "path": posixpath.join(rel, info.path) if rel else info.path,
            "name": info.path,
            "is_dir": bool(info.is_dir),
            "size": info.file_size,
        }
        for info in infos
    ]
    files.sort(key=lambda f: (not f["is_dir"], f["name"].lower()))
    return files


def read_bytes(destination: Any, root: str, rel: str, limit: int) -> tuple[bytes, bool]:
    """(the first `limit` bytes of the file, whether it was longer)."""
    import shutil

    from flightlog.server.artifact_store import safe_artifact_path

    rel = safe_artifact_path(rel)
    if not rel:
        raise ArtifactPathError("Name a file, not the artifact root")
    path, cleanup = destination.fetch(_join(root, rel))
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    finally:
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)
    return data[:limit], len(data) > limit


def model_info(destination: Any, root: str, rel: str) -> dict[str, Any]:
    """What the UI shows of a logged model: flavors, signature, input example (from MLmodel)."""
    import yaml

    from flightlog.server.artifact_store import safe_artifact_path

    rel = safe_artifact_path(rel)
    try:
        raw, _ = read_bytes(destination, root, _join(rel, MLMODEL_FILE), PREVIEW_LIMIT_BYTES)
    except (ResourceNotFoundError, FileNotFoundError) as exc:
        raise ResourceNotFoundError(f"No logged model at {rel or 'the artifact root'!r}") from exc
    try:
        meta = yaml.safe_load(raw.decode("utf-8", errors="replace")) or {}
    except yaml.YAMLError as exc:
        raise InvalidParameterError(f"The MLmodel file under {rel!r} is not valid YAML") from exc
    if not isinstance(meta, dict):
        raise InvalidParameterError(f"The MLmodel file under {rel!r} is not a mapping")
    flavors = meta.get("flavors") if isinstance(meta.get("flavors"), dict) else {}
    info: dict[str, Any] = {
        "path": rel,
        "flavors": {
            name: _flavor_summary(conf) for name, conf in flavors.items() if isinstance(name, str)
        },
        "model_uuid": meta.get("model_uuid"),
        "created": str(meta.get("utc_time_created") or ""),
        "size_bytes": meta.get("model_size_bytes"),
        "signature": _signature(meta.get("signature")),
        "input_example": None,
    }
    example = meta.get("saved_input_example_info")
    if isinstance(example, dict) and isinstance(example.get("artifact_path"), str):
        info["input_example"] = _input_example(destination, root, rel, example)
    return info


def _flavor_summary(conf: Any) -> dict[str, str]:
    """The flavor's scalar settings (versions, loader module, file names), as strings."""
    if not isinstance(conf, dict):
        return {}
    return {str(k): str(v) for k, v in conf.items() if isinstance(v, str | int | float | bool)}


def _signature(raw: Any) -> dict[str, Any] | None:
    """MLmodel keeps each part of the signature as a JSON string; decode them for display."""
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {}
    for part in ("inputs", "outputs", "params"):
        value = raw.get(part)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        out[part] = value if isinstance(value, list) else None
    return out


def _input_example(destination: Any, root: str, rel: str, example: dict) -> dict[str, Any]:
    from flightlog.server.artifact_store import safe_artifact_path

    name = safe_artifact_path(example["artifact_path"])
    out: dict[str, Any] = {"path": _join(rel, name), "type": str(example.get("type", ""))}
    try:
        data, truncated = read_bytes(destination, root, _join(rel, name), INPUT_EXAMPLE_LIMIT_BYTES)
    except (ResourceNotFoundError, FileNotFoundError, OSError):
        out["error"] = f"{name} is missing"
        return out
    text = data.decode("utf-8", errors="replace")
    out["truncated"] = truncated
    if not truncated:
        try:
            out["json"] = json.loads(text)
            return out
        except ValueError:
            pass
    out["text"] = text
    return out


def find_models(destination: Any, root: str, hint_paths: list[str]) -> list[str]:
    """Folders of the run's artifacts that hold an MLmodel file: the paths the run's
    `mlflow.log-model.history` tag names, plus any found near the root."""
    from flightlog.server.artifact_store import safe_artifact_path

    found: list[str] = []

    def has_mlmodel(rel: str) -> bool:
        try:
            return any(
                not f["is_dir"] and f["name"] == MLMODEL_FILE
                for f in list_files(destination, root, rel)
            )
        except (OSError, ArtifactPathError, ResourceNotFoundError, InvalidParameterError):
            return False

    for hint in hint_paths:
        try:
            rel = safe_artifact_path(hint)
        except ArtifactPathError:
            continue
        if rel not in found and has_mlmodel(rel):
            found.append(rel)

    listed = 0

    def walk(rel: str, depth: int) -> None:
        nonlocal listed
        if listed >= MODEL_SEARCH_MAX_FOLDERS:
            return
        listed += 1
        try:
            children = list_files(destination, root, rel)
        except (OSError, ArtifactPathError, ResourceNotFoundError, InvalidParameterError):
            return
        if any(not f["is_dir"] and f["name"] == MLMODEL_FILE for f in children):
            if rel not in found:
                found.append(rel)
            return
        if depth < MODEL_SEARCH_DEPTH:
            for child in children:
                if child["is_dir"]:
                    walk(child["path"], depth + 1)

    walk("", 0)
    return found


def model_history_paths(tags: dict[str, str]) -> list[str]:
    """Artifact paths named by the run's `mlflow.log-model.history` tag (MLflow's format)."""
    raw = tags.get("mlflow.log-model.history")
    if not raw:
        return []
    try:
        entries = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    return [
        e["artifact_path"]
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("artifact_path"), str)
    ]
