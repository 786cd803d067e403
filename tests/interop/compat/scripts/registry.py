"""The model registry, as in MLflow's registry guide: register while logging, aliases, tags,
loading by alias and version, searching."""

import json

import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LinearRegression

X = np.arange(20.0).reshape(10, 2)
y = X @ np.array([1.0, -1.0]) + 0.5
mlflow.set_experiment("compat-registry")
with mlflow.start_run(run_name="train") as run:
    model = LinearRegression().fit(X, y)
    mlflow.log_param("fit_intercept", True)
    mlflow.sklearn.log_model(model, name="model", registered_model_name="compat-reg")
client = MlflowClient()
second = mlflow.register_model(f"runs:/{run.info.run_id}/model", "compat-reg")
client.set_registered_model_alias("compat-reg", "champion", second.version)
client.set_registered_model_tag("compat-reg", "team", "ml")
client.set_model_version_tag("compat-reg", "1", "validated", "yes")
client.update_registered_model("compat-reg", description="a linear model")
by_alias = mlflow.pyfunc.load_model("models:/compat-reg@champion")
by_version = mlflow.sklearn.load_model("models:/compat-reg/1")
results = {
    "alias_prediction": by_alias.predict(X[:3]).tolist(),
    "version_prediction": by_version.predict(X[:3]).tolist(),
    "versions": sorted(v.version for v in client.search_model_versions("name = 'compat-reg'")),
    "found": [m.name for m in client.search_registered_models(filter_string="name LIKE 'compat%'")],
    "alias_version": client.get_model_version_by_alias("compat-reg", "champion").version,
    "latest": [v.version for v in client.get_latest_versions("compat-reg")],
}
with open("results.json", "w") as f:
    json.dump(results, f)
