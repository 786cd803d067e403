"""Manual tracking, as in MLflow's tracking quickstart: params, a metric per epoch, tags,
artifacts of every kind, then reading the run back with search_runs."""

import json
import os
import tempfile
from pathlib import Path

import mlflow

mlflow.set_experiment("compat-manual")
with mlflow.start_run(run_name="baseline") as run:
    mlflow.log_param("learning_rate", 0.01)
    mlflow.log_params({"epochs": 5, "optimizer": "sgd", "layers": [64, 32]})
    for epoch in range(5):
        mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
        mlflow.log_metrics({"accuracy": 0.5 + epoch / 10, "lr": 0.01}, step=epoch)
    mlflow.set_tag("stage", "dev")
    mlflow.set_tags({"team": "vision", "priority": 2})
    mlflow.log_dict({"a": 1, "b": [1, 2]}, "config/params.json")
    mlflow.log_dict({"a": 1}, "config/params.yaml")
    mlflow.log_text("hello", "notes/readme.txt")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "weights.csv")
        with open(path, "w") as f:
            f.write("w\n1\n2\n")
        mlflow.log_artifact(path)
        mlflow.log_artifact(path, artifact_path="copies")
        os.makedirs(os.path.join(tmp, "tree", "sub"))
        for name in ("tree/a.txt", "tree/sub/b.txt"):
            with open(os.path.join(tmp, name), "w") as f:
                f.write(name)
        mlflow.log_artifacts(os.path.join(tmp, "tree"), artifact_path="tree")
    mlflow.log_table({"x": [1, 2], "y": ["a", "b"]}, "tables/t.json")
    run_id = run.info.run_id

with mlflow.start_run(run_name="failed-run"):
    mlflow.log_metric("loss", 3.0)
    mlflow.end_run(status="FAILED")

frame = mlflow.search_runs(experiment_names=["compat-manual"], order_by=["start_time ASC"])
client = mlflow.MlflowClient()
results = {
    "search_runs_rows": len(frame),
    "search_runs_columns": sorted(c for c in frame.columns if not c.startswith("tags.mlflow.")),
    "loss_history": [m.value for m in client.get_metric_history(run_id, "loss")],
    "filtered": len(mlflow.search_runs(filter_string="params.optimizer = 'sgd'")),
    "by_metric": len(mlflow.search_runs(filter_string="metrics.accuracy > 0.8")),
    "downloaded": Path(
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="notes/readme.txt")
    ).read_text(),
}
with open("results.json", "w") as f:
    json.dump(results, f)
