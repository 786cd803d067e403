"""Differences between what mlflow and flightlog store for the compatibility scripts.

Two lists, each entry (fnmatch pattern over a difference's path, reason):

- DELIBERATE: flightlog differs on purpose. The same list, with the same reasons, is in
  docs/user-guide.md ("Deliberate differences from MLflow").
- KNOWN_GAPS: differences that are not wanted and are tracked by an open issue item; they are
  listed in docs/user-guide.md too ("Known gaps"), and each should go away when its item is done
  (then its entry is removed here).

A difference that matches neither fails test_compat_suite.py: fix it, or list it here *and* in
the docs with its reason.
"""

from __future__ import annotations

_MODEL_COPY = (
    "experiments/*/runs/*/model_copies/*",
    "a logged model's files are also kept under the run's artifacts at <name>/ (MLflow 2's "
    "place), so the run page, MLflow 2 readers and runs:/<run>/<name> find them without a "
    "lookup; MLflow 3 keeps them only in the logged model's own location",
)
_FLIGHTLOG_TAGS = (
    "experiments/*/runs/*/tags/flightlog.*",
    "flightlog adds its own tags, always under the flightlog. prefix (sweep summaries, trial "
    "states, where a Lightning model came from); MLflow has no such tags",
)
_VERSION_STRINGS = (
    "results/*version*",
    "model version numbers are strings in flightlog's entities everywhere (as MLflow's REST "
    "client gives them); MLflow's local SQL store hands back ints",
)

DELIBERATE: dict[str, list[tuple[str, str]]] = {
    "*": [_MODEL_COPY, _FLIGHTLOG_TAGS],
    "registry": [
        _VERSION_STRINGS,
        ("results/latest/*", _VERSION_STRINGS[1]),
        (
            "registered_models/*/versions/1/has_model_id",
            "a version registered by log_model(registered_model_name=...) is linked to its "
            "logged model (model_id set), as a version registered from runs:/ is; MLflow "
            "3.17's local store leaves model_id empty in that one case",
        ),
    ],
}

_ITEM9 = (
    "autolog content still differs from MLflow's names and values (issue 13 item 9: "
    "params/metrics named and valued as MLflow logs them, estimator.html, checkpoints, eval "
    "sets as inputs); flightlog's richer extras stay"
)
_AUTOLOG_DIGESTS = (
    "autologged training data is described by flightlog's own digest (autolog/datasets.py), "
    "not MLflow's recipe that flightlog.data uses; same data, different digest string"
)
_AUTOLOG_MODEL_LINKS = (
    "MLflow's autolog creates the logged model before training and links the training "
    "metrics and the estimator params to it; flightlog's integrations log the model after "
    "fit, so the logged model carries the run's params at that point and no training metrics"
)


def _autolog(experiment: str) -> list[tuple[str, str]]:
    base = f"experiments/{experiment}"
    return [
        (f"{base}/runs/*/params/*", _ITEM9),
        (f"{base}/runs/*/metric_points/*", _ITEM9),
        (f"{base}/runs/*/tags/*", _ITEM9),
        (f"{base}/runs/*/artifacts/*", _ITEM9),
        (f"{base}/runs/*/inputs", _ITEM9),
        (f"{base}/runs/*/inputs/*/1", _AUTOLOG_DIGESTS),
        (f"{base}/logged_models/*/params/*", _AUTOLOG_MODEL_LINKS),
        (f"{base}/logged_models/*/metrics/*", _AUTOLOG_MODEL_LINKS),
        (f"{base}/logged_models/*/tags/*", _AUTOLOG_MODEL_LINKS),
    ]


KNOWN_GAPS: dict[str, list[tuple[str, str]]] = {
    "manual_tracking": [
        (
            "experiments/compat-manual/runs/compat-manual/baseline/tags/mlflow.loggedArtifacts",
            "log_table does not yet set MLflow's mlflow.loggedArtifacts tag (the table file "
            "itself is stored and identical)",
        ),
    ],
    "sklearn_autolog": _autolog("compat-sklearn"),
    "xgboost_autolog": _autolog("compat-xgboost"),
    "keras_autolog": _autolog("compat-keras"),
    "lightning_autolog": _autolog("compat-lightning"),
}


def allowed_for(script: str) -> list[tuple[str, str]]:
    return (
        DELIBERATE["*"]
        + DELIBERATE.get(script, [])
        + KNOWN_GAPS.get("*", [])
        + KNOWN_GAPS.get(script, [])
    )
