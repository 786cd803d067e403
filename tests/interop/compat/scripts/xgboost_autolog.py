"""XGBoost autologging, as in MLflow's xgboost example: native xgboost.train with an eval set,
and the scikit-learn API."""

import json

import mlflow
import numpy as np
import xgboost as xgb

rng = np.random.default_rng(0)
X = rng.normal(size=(80, 4))
y = X[:, 0] * 2 + rng.normal(scale=0.1, size=80)
mlflow.set_experiment("compat-xgboost")
mlflow.xgboost.autolog()
dtrain = xgb.DMatrix(X[:60], label=y[:60])
dvalid = xgb.DMatrix(X[60:], label=y[60:])
with mlflow.start_run(run_name="native") as run:
    xgb.train(
        {"max_depth": 2, "eta": 0.3, "objective": "reg:squarederror"},
        dtrain,
        num_boost_round=5,
        evals=[(dtrain, "train"), (dvalid, "valid")],
    )
with mlflow.start_run(run_name="sklearn-api"):
    xgb.XGBRegressor(n_estimators=5, max_depth=2).fit(X[:60], y[:60], eval_set=[(X[60:], y[60:])])
mlflow.xgboost.autolog(disable=True)
model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
results = {"prediction": np.asarray(model.predict(X[:3])).round(5).tolist()}
with open("results.json", "w") as f:
    json.dump(results, f)
