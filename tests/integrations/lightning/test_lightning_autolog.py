"""Lightning autolog, FlightlogCallback and FlightlogLogger: one run per fit, epoch metrics with
step = epoch, params, the model."""

from __future__ import annotations

import pytest
import torch
from lightning_testkit import TinyClassifier, history, loaders, spy_class, trainer

import flightlog


def _one_run(client) -> str:
    runs = flightlog.search_runs(output_format="list")
    assert len(runs) == 1, [r.info.run_id for r in runs]
    return runs[0].info.run_id


def _check_epoch_metrics(client, run_id, held, epochs=3, step_level=False):
    for key in ("train_loss", "val_loss", "val_precision"):
        points = history(client, run_id, key)
        assert [s for s, _ in points] == list(range(epochs)), key
        assert [v for _, v in points] == pytest.approx(
            [held[e][key] for e in range(epochs)], rel=1e-6
        ), key
    if not step_level:  # Lightning's per-step copy is not an epoch metric
        assert history(client, run_id, "train_loss_step") == []


def test_autolog_three_epochs(tmp_path, lightning_autolog, client):
    torch.manual_seed(0)
    train_loader, val_loader = loaders()
    model = TinyClassifier(hidden=6, lr=0.05)
    spy = spy_class()()
    fit_trainer = trainer(tmp_path, callbacks=[spy])
    fit_trainer.fit(model, train_loader, val_loader)

    run_id = _one_run(client)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert flightlog.active_run() is None
    _check_epoch_metrics(client, run_id, spy.held)
    assert history(client, run_id, "lr-Adam") == [(0, 0.05), (1, 0.025), (2, 0.0125)]

    params = run.data.params
    assert params["hidden"] == "6" and params["lr"] == "0.05"  # save_hyperparameters()
    assert params["optimizer_name"] == "Adam" and params["optimizer_lr"] == "0.05"
    assert params["scheduler_name"] == "StepLR" and params["scheduler_gamma"] == "0.5"
    assert params["max_epochs"] == "3" and params["precision"] == "32-true"
    assert run.data.tags["mlflow.autologging"] == "lightning"
    artifacts = {f.path for f in client.list_artifacts(run_id)}
    assert {"model", "model_summary.txt"} <= artifacts

    x = torch.randn(10, 4)
    loaded = flightlog.pytorch.load_model(f"runs:/{run_id}/model")
    assert torch.allclose(loaded(x), model(x))
    pyfunc = flightlog.models.load_model(f"runs:/{run_id}/model")
    assert pyfunc.metadata.signature.inputs.to_dict()[0]["tensor-spec"]["shape"] == [-1, 4]
    assert torch.allclose(torch.from_numpy(pyfunc.predict(x.numpy())), model(x))

    # test() after fit logs into the fit's run; nothing new is created.
    fit_trainer.test(model, val_loader, verbose=False)
    assert _one_run(client) == run_id
    assert [s for s, _ in history(client, run_id, "test_loss")] == [3]
    assert len(history(client, run_id, "val_loss")) == 3


def test_explicit_logger_with_autolog_on(tmp_path, lightning_autolog, client):
    torch.manual_seed(0)
    train_loader, val_loader = loaders()
    spy = spy_class()()
    logger = flightlog.lightning.FlightlogLogger(experiment_name="explicit-logger")
    fit_trainer = trainer(tmp_path, callbacks=[spy], logger=logger)
    fit_trainer.fit(TinyClassifier(), train_loader, val_loader)
    experiment = flightlog.get_experiment_by_name("explicit-logger")
    runs = flightlog.search_runs([experiment.experiment_id], output_format="list")
    assert len(runs) == 1
    assert flightlog.search_runs(output_format="list") == []  # nothing in the default experiment
    run_id = runs[0].info.run_id
    assert logger.version == run_id
    _check_epoch_metrics(client, run_id, spy.held)
    assert client.get_run(run_id).info.status == "FINISHED"


def test_explicit_logger_without_autolog(tmp_path, client):
    torch.manual_seed(0)
    train_loader, val_loader = loaders()
    spy = spy_class()()
    logger = flightlog.lightning.FlightlogLogger()
    trainer(tmp_path, callbacks=[spy], logger=logger).fit(
        TinyClassifier(), train_loader, val_loader
    )
    run_id = _one_run(client)
    _check_epoch_metrics(client, run_id, spy.held)
    assert client.get_run(run_id).data.params["hidden"] == "8"
    assert "model" in {f.path for f in client.list_artifacts(run_id)}


def test_explicit_callback_with_autolog_on(tmp_path, lightning_autolog, client):
    torch.manual_seed(0)
    train_loader, val_loader = loaders()
    spy = spy_class()()
    callback = flightlog.lightning.FlightlogCallback(log_every_n_step=2, log_models=False)
    trainer(tmp_path, callbacks=[spy, callback]).fit(TinyClassifier(), train_loader, val_loader)
    run_id = _one_run(client)
    assert callback.run_id == run_id
    _check_epoch_metrics(client, run_id, spy.held, step_level=True)
    # 4 batches per epoch, 12 optimizer steps: step-level points every 2 steps.
    steps = [s for s, _ in history(client, run_id, "train_loss_step")]
    assert steps == [2, 4, 6, 8, 10, 12]
    assert "model" not in {f.path for f in client.list_artifacts(run_id)}


def test_logs_into_the_users_run(tmp_path, lightning_autolog, client):
    train_loader, val_loader = loaders()
    with flightlog.start_run() as run:
        trainer(tmp_path, max_epochs=1).fit(TinyClassifier(), train_loader, val_loader)
        assert flightlog.active_run().info.run_id == run.info.run_id
    assert _one_run(client) == run.info.run_id
    assert [s for s, _ in history(client, run.info.run_id, "val_loss")] == [0]


def test_disable_restores_trainer_methods():
    import flightlog_lightning
    from lightning.pytorch import Trainer

    original = vars(Trainer)["fit"]
    flightlog_lightning.autolog()
    assert vars(Trainer)["fit"] is not original
    flightlog_lightning.autolog(disable=True)
    assert vars(Trainer)["fit"] is original


def test_validate_without_fit_gets_its_own_run(tmp_path, lightning_autolog, client):
    _, val_loader = loaders()
    model = TinyClassifier(hidden=3)
    results = trainer(tmp_path).validate(model, val_loader, verbose=False)
    run_id = _one_run(client)
    run = client.get_run(run_id)
    assert run.data.params["hidden"] == "3"
    assert history(client, run_id, "val_loss") == [(0, pytest.approx(results[0]["val_loss"]))]
    assert run.info.status == "FINISHED"


def test_exclusive_leaves_the_users_run_alone(tmp_path, client):
    import flightlog_lightning

    train_loader, val_loader = loaders()
    flightlog_lightning.autolog(exclusive=True)
    try:
        with flightlog.start_run() as run:
            trainer(tmp_path, max_epochs=1).fit(TinyClassifier(), train_loader, val_loader)
    finally:
        flightlog_lightning.autolog(disable=True)
    assert _one_run(client) == run.info.run_id
    assert client.get_run(run.info.run_id).data.metrics == {}


def test_logger_without_a_companion_logs_what_lightning_hands_it(tmp_path, client):
    """With enable_autolog_hparams=False Lightning never hands the logger the model, so it logs
    the dicts it receives, with Lightning's own step."""
    train_loader, val_loader = loaders()
    logger = flightlog.lightning.FlightlogLogger()
    trainer(
        tmp_path, max_epochs=2, logger=logger, enable_autolog_hparams=False, log_every_n_steps=2
    ).fit(TinyClassifier(), train_loader, val_loader)
    run_id = _one_run(client)
    assert client.get_run(run_id).info.status == "FINISHED"
    assert [s for s, _ in history(client, run_id, "train_loss_step")] == [1, 3, 5, 7]
    assert len(history(client, run_id, "val_loss")) == 2
    assert history(client, run_id, "epoch") == []
