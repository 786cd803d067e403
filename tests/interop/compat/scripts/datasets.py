"""Datasets as run inputs (mlflow.data), as in MLflow's dataset tracking guide."""

import json

import mlflow
import pandas as pd

frame = pd.DataFrame({"x1": [1.0, 2.0, 3.0, 4.0], "x2": [0, 1, 0, 1], "y": [1.5, 2.5, 3.5, 4.5]})
train = mlflow.data.from_pandas(frame, source="data/train.csv", targets="y", name="train")
test = mlflow.data.from_numpy(
    frame[["x1", "x2"]].to_numpy(), targets=frame["y"].to_numpy(), name="test"
)
mlflow.set_experiment("compat-datasets")
with mlflow.start_run(run_name="with-data") as run:
    mlflow.log_input(train, context="training", tags={"version": "1"})
    mlflow.log_input(test, context="testing")
    mlflow.log_metric("rows", len(frame))
stored = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
first = next(i for i in stored if i.dataset.name == "train")
results = {
    "digests": [train.digest, test.digest],
    "profile": json.loads(first.dataset.profile),
    "schema": json.loads(first.dataset.schema),
    "source": json.loads(first.dataset.source),
    "tag_keys": sorted(t.key for t in first.tags),
    "source_uri": mlflow.data.get_source(first).to_dict(),
}
with open("results.json", "w") as f:
    json.dump(results, f)
