"""MLflow's beginner-tutorial pattern, run with `import flightlog as mlflow`."""

import flightlog as mlflow


def test_mlflow_tutorial_pattern_runs_unchanged(tmp_path):
    experiment_tags = {"project_name": "grocery-forecasting", "team": "stores-ml"}
    experiment_id = mlflow.create_experiment("Apple_Models", tags=experiment_tags)
    experiment = mlflow.get_experiment_by_name("Apple_Models")
    assert experiment.experiment_id == experiment_id
    assert isinstance(experiment.experiment_id, str)
    assert experiment.name == "Apple_Models"
    assert experiment.tags["team"] == "stores-ml"
    assert experiment.lifecycle_stage == "active"
    assert experiment.artifact_location
    assert experiment.creation_time > 0

    mlflow.set_experiment("Apple_Models")
    params = {"n_estimators": 100, "max_depth": 6, "min_samples_split": 10}
    metrics = {"mae": 2.5, "mse": 10.1, "rmse": 3.2, "r2": 0.8}
    with mlflow.start_run(run_name="apples_rf_test") as run:
        assert run.info.artifact_uri
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("mae", 2.0)

    stored = mlflow.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.run_name == "apples_rf_test"
    assert stored.info.experiment_id == experiment_id
    assert stored.data.params == {k: str(v) for k, v in params.items()}
    assert stored.data.metrics == metrics
    assert stored.data.tags["mlflow.runName"] == "apples_rf_test"
    assert mlflow.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == run.info.run_id

    with mlflow.start_run(run_name="second"):
        mlflow.log_params({"n_estimators": 50, "max_depth": 3, "min_samples_split": 2})
        mlflow.log_metrics({"mae": 3.5, "r2": 0.6})

    df = mlflow.search_runs(
        experiment_ids=[experiment_id],
        filter_string="metrics.r2 > 0.5 and params.max_depth = '6'",
        order_by=["metrics.mae ASC"],
    )
    assert list(df["run_id"]) == [run.info.run_id]
    for column in ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"):
        assert column in df.columns
    assert df.loc[0, "metrics.r2"] == 0.8
    assert df.loc[0, "params.n_estimators"] == "100"
    assert df.loc[0, "tags.mlflow.runName"] == "apples_rf_test"

    ranked = mlflow.search_runs(
        experiment_names=["Apple_Models"], order_by=["metrics.mae DESC"], output_format="list"
    )
    assert [r.data.metrics["mae"] for r in ranked] == [3.5, 2.5, 2.0]


def test_mlflow_client_import_paths():
    from flightlog import MlflowClient
    from flightlog.entities import Metric, Param, RunTag
    from flightlog.tracking import MlflowClient as TrackingMlflowClient

    assert MlflowClient is TrackingMlflowClient
    client = MlflowClient()
    exp_id = client.create_experiment("client-exp")
    run = client.create_run(exp_id, run_name="r1")
    client.log_batch(
        run.info.run_id,
        metrics=[Metric("loss", 0.5, 1000, 0), Metric("loss", 0.25, 2000, 1)],
        params=[Param("lr", "0.1")],
        tags=[RunTag("stage", "dev")],
    )
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.5), (1, 0.25)]
    client.set_terminated(run.info.run_id)
    stored = client.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.end_time >= stored.info.start_time
    assert stored.data.params == {"lr": "0.1"}
    assert stored.data.tags["stage"] == "dev"
