"""The official mlflow client's side of the interop tests, run as a subprocess.

    python mlflow_peer.py log  TRACKING_URI          -> logs the interop runs, prints run ids
    python mlflow_peer.py read TRACKING_URI RUN_IDS  -> prints what MlflowClient reads back

Both print one JSON document on the last line of stdout.
"""

from __future__ import annotations

import json
import sys
import tempfile

import interop_data as d
import mlflow
from mlflow import MlflowClient


def log() -> dict[str, str]:
    mlflow.set_experiment(d.EXPERIMENT)
    run_ids = {}
    with mlflow.start_run(run_name=d.PARENT) as parent:
        run_ids[d.PARENT] = parent.info.run_id
        mlflow.log_params(d.PARAMS)
        mlflow.set_tags(d.TAGS)
        for key, points in d.parent_metrics().items():
            for step, value in points:
                mlflow.log_metric(key, value, step=step)
        for i, name in enumerate(d.CHILDREN):
            with mlflow.start_run(run_name=name, nested=True) as child:
                run_ids[name] = child.info.run_id
                mlflow.log_param("fold", i)
                for key, points in d.child_metrics(i).items():
                    for step, value in points:
                        mlflow.log_metric(key, value, step=step)
        with tempfile.TemporaryDirectory() as tmp:
            d.artifact_files(tmp)
            mlflow.log_artifacts(tmp, "data")
        mlflow.log_dict(d.DICT_ARTIFACT, "config/params.json")
        mlflow.log_text(d.TEXT_ARTIFACT, "notes.txt")
    return run_ids


def main() -> int:
    mode, uri = sys.argv[1], sys.argv[2]
    mlflow.set_tracking_uri(uri)
    if mode == "log":
        out = {"run_ids": log()}
        with tempfile.TemporaryDirectory() as scratch:
            out["read"] = d.describe(MlflowClient(), out["run_ids"], scratch)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            out = {"read": d.describe(MlflowClient(), json.loads(sys.argv[3]), scratch)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
