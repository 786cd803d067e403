"""MLflow 3 logged models, as in MLflow 3's "logged model" demo: a model with params and its
own metrics, searched and tagged, metrics per model and per dataset."""

import json

import mlflow
import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

X = pd.DataFrame({"a": np.arange(12.0), "b": np.arange(12.0) % 3})
y = X["a"] * 2 + X["b"]
mlflow.set_experiment("compat-logged-models")
eval_data = mlflow.data.from_pandas(X.assign(y=y), targets="y", name="eval")
infos = {}
with mlflow.start_run(run_name="compare-alphas"):
    for label, alpha in (("small", 0.1), ("large", 1.0)):
        model = Ridge(alpha=alpha).fit(X, y)
        info = mlflow.sklearn.log_model(
            model, name=f"ridge-{label}", params={"alpha": alpha}, input_example=X.head(2)
        )
        infos[alpha] = info
        mse = float(((model.predict(X) - y) ** 2).mean())
        mlflow.log_metric("mse", mse, model_id=info.model_id, dataset=eval_data)
        mlflow.log_metrics({"r2": model.score(X, y)}, model_id=info.model_id)
    mlflow.set_logged_model_tags(infos[1.0].model_id, {"stage": "candidate"})
models = mlflow.search_logged_models(output_format="list")
best = mlflow.search_logged_models(
    filter_string="metrics.mse < 0.1",
    order_by=[{"field_name": "creation_time", "ascending": True}],
    output_format="list",
)
got = mlflow.get_logged_model(infos[0.1].model_id)
loaded = mlflow.pyfunc.load_model(f"models:/{infos[0.1].model_id}")
results = {
    "names": sorted(m.name for m in models),
    "best": [m.name for m in best],
    "params": got.params,
    "metric_keys": sorted({m.key for m in got.metrics}),
    "dataset_of_mse": sorted({m.dataset_name for m in got.metrics if m.key == "mse"}),
    "status": str(getattr(got.status, "value", got.status)),
    "last": mlflow.last_logged_model().name,
    "prediction": loaded.predict(X.head(3)).tolist(),
    "frame_columns": sorted(mlflow.search_logged_models().columns),
}
with open("results.json", "w") as f:
    json.dump(results, f)
