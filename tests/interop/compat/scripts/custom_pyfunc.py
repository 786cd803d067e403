"""A custom python model with an artifact, as in MLflow's pyfunc tutorial (MLflow 3 style)."""

import json
import os

import mlflow
import pandas as pd
from mlflow.models import infer_signature


class AddN(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["config"]) as f:
            self.n = json.load(f)["n"]

    def predict(self, context, model_input, params=None):
        return model_input.apply(lambda column: column + self.n)


with open("config.json", "w") as f:
    json.dump({"n": 5}, f)
frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
mlflow.set_experiment("compat-pyfunc")
with mlflow.start_run(run_name="pyfunc") as run:
    info = mlflow.pyfunc.log_model(
        name="add_n",
        python_model=AddN(),
        artifacts={"config": os.path.abspath("config.json")},
        signature=infer_signature(frame, frame + 5),
        input_example=frame,
    )
loaded = mlflow.pyfunc.load_model(info.model_uri)
by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/add_n")
mlflow.pyfunc.save_model("saved_add_n", python_model=AddN(), artifacts={"config": "config.json"})
saved = mlflow.pyfunc.load_model("saved_add_n")
results = {
    "prediction": loaded.predict(frame).to_dict("list"),
    "by_run": by_run.predict(frame).to_dict("list"),
    "saved": saved.predict(frame).to_dict("list"),
    "model_id_is_set": bool(info.model_id),
    "uri_kind": info.model_uri.split(":")[0],
    "input_names": [c.name for c in loaded.metadata.get_input_schema().inputs],
    "saved_files": sorted(os.listdir("saved_add_n")),
}
with open("results.json", "w") as f:
    json.dump(results, f)
