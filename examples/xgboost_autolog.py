"""XGBoost autologging with early stopping: one line records the booster's params, the train and
validation logloss at every round (streamed while training), the best iteration, feature
importance charts and the model. Stored in the embedded store (./flightlog-runs).
Run: python examples/xgboost_autolog.py"""

from _look import how_to_look

import flightlog

flightlog.set_experiment("xgboost-autolog")
flightlog.xgboost.autolog()  # before or after importing xgboost: import order does not matter

import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

data = load_breast_cancer()
X_train, X_val, y_train, y_val = train_test_split(
    data.data, data.target, test_size=0.25, random_state=0
)
names = [name.replace(" ", "_") for name in data.feature_names]
dtrain = xgb.DMatrix(X_train, y_train, feature_names=names)
dval = xgb.DMatrix(X_val, y_val, feature_names=names)

params = {"objective": "binary:logistic", "eval_metric": "logloss", "eta": 0.3, "max_depth": 3}
booster = xgb.train(
    params,
    dtrain,
    num_boost_round=500,
    evals=[(dtrain, "train"), (dval, "val")],
    early_stopping_rounds=10,  # stops once val-logloss has not improved for 10 rounds
    verbose_eval=False,
)
print(f"stopped after {booster.num_boosted_rounds()} rounds; best {booster.best_iteration}")

flightlog.flush()  # everything queued and drawn is stored
run = flightlog.last_active_run()
client = flightlog.MlflowClient()
curve = client.get_metric_history(run.info.run_id, "val-logloss")
print(f"\nrun {run.info.run_id} in experiment {run.info.experiment_id} ({run.info.status})")
print(f"  tracking URI:   {flightlog.get_tracking_uri()}")
print(f"  artifacts:      {run.info.artifact_uri}")
print(f"  params:         {len(run.data.params)} (eta = {run.data.params['eta']})")
print(f"  val-logloss:    {len(curve)} points, from {curve[0].value:.4f} to {curve[-1].value:.4f}")
print(f"  best_iteration: {run.data.metrics['best_iteration']:.0f}")
print(f"  best_score:     {run.data.metrics['best_score']:.4f}")
print("  files:          " + ", ".join(f.path for f in client.list_artifacts(run.info.run_id)))

loaded = flightlog.xgboost.load_model(f"runs:/{run.info.run_id}/model")
assert np.array_equal(loaded.predict(dval), booster.predict(dval))
print(f"  the logged model loads back from runs:/{run.info.run_id}/model and predicts the same")
how_to_look(run.info.run_id)
