"""A hyperparameter sweep with nested runs, as in MLflow's parent/child run tutorial."""

import json

import mlflow

mlflow.set_experiment("compat-nested")
results = {}
with mlflow.start_run(run_name="sweep") as parent:
    mlflow.log_param("search", "grid")
    best = None
    for i, lr in enumerate([0.1, 0.01, 0.001]):
        with mlflow.start_run(run_name=f"trial-{i}", nested=True) as child:
            mlflow.log_params({"lr": lr, "trial": i})
            for step in range(3):
                mlflow.log_metric("val_loss", lr * (3 - step), step=step)
            score = 1 - lr
            mlflow.log_metric("score", score)
            if best is None or score > best[0]:
                best = (score, child.info.run_name)
    mlflow.log_metric("best_score", best[0])
    mlflow.set_tag("best_trial", best[1])
    children = mlflow.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        order_by=["params.trial ASC"],
    )
    results["children"] = list(children["tags.mlflow.runName"])
results["last_active"] = mlflow.last_active_run().info.run_name
results["parent_of_child"] = mlflow.get_parent_run(
    mlflow.search_runs(filter_string="attributes.run_name = 'trial-1'", output_format="list")[
        0
    ].info.run_id
).info.run_name
with open("results.json", "w") as f:
    json.dump(results, f)
