"""scikit-learn autologging, as in MLflow's sklearn autolog example: a fit, a pipeline, a small
grid search (parent + child runs), then the autologged model loaded back."""

import json

import mlflow
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
mlflow.set_experiment("compat-sklearn")
mlflow.sklearn.autolog()
with mlflow.start_run(run_name="logreg") as run:
    LogisticRegression(C=0.5, max_iter=200).fit(X, y)
with mlflow.start_run(run_name="pipeline"):
    Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y)
with mlflow.start_run(run_name="grid"):
    GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=2).fit(X, y)
mlflow.sklearn.autolog(disable=True)
model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
results = {"prediction": model.predict(X[:5]).tolist()}
with open("results.json", "w") as f:
    json.dump(results, f)
