"""A scikit-learn grid search, autologged: the search is the parent run (best params and score,
the best model, cv_results.csv); the best candidates are nested child runs.
Stored in the embedded store (./flightlog-runs). Run: python examples/sklearn_grid_search.py"""

from _look import how_to_look

import flightlog

flightlog.set_experiment("sklearn-grid-search")
flightlog.sklearn.autolog(max_tuning_runs=4)  # child runs for the 4 best candidates

from sklearn.datasets import load_wine  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

X, y = load_wine(return_X_y=True)
grid = {"n_estimators": [20, 50], "max_depth": [2, 4, None]}
search = GridSearchCV(RandomForestClassifier(random_state=0), grid, cv=3)
search.fit(X, y)

flightlog.flush()
parent = flightlog.last_active_run()
print(f"parent run {parent.info.run_id} in experiment {parent.info.experiment_id}")
print(f"  tracking URI:  {flightlog.get_tracking_uri()}")
print(f"  artifacts:     {parent.info.artifact_uri}")
best = {k: v for k, v in parent.data.params.items() if k.startswith("best_")}
print(f"  best params:   {best}")
print(f"  best_cv_score: {parent.data.metrics['best_cv_score']:.4f}")
files = flightlog.MlflowClient().list_artifacts(parent.info.run_id)
print("  files:         " + ", ".join(f.path for f in files))

children = flightlog.search_runs(
    filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    order_by=["metrics.rank_test_score ASC"],
    output_format="list",
)
print(f"  {len(children)} child runs (of {len(search.cv_results_['params'])} candidates):")
for child in children:
    p = child.data.params
    print(
        f"    {child.info.run_id}  n_estimators={p['n_estimators']:<3} max_depth={p['max_depth']:<5}"
        f" mean_test_score={child.data.metrics['mean_test_score']:.4f}"
    )
how_to_look(parent.info.run_id)
