"""Lightning autolog beyond the basics: import order, early stopping and the best checkpoint,
pytorch_lightning, a failing store, and MLflow's spelling."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import pytest
import torch
from lightning_testkit import (
    TinyClassifier,
    classifier_class,
    history,
    loaders,
    spy_class,
    trainer,
)

import flightlog

HERE = os.path.dirname(__file__)


def test_autolog_before_importing_lightning(tmp_path, client):
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {HERE!r})
        import flightlog
        flightlog.autolog()
        assert "lightning" not in sys.modules
        import torch
        from lightning_testkit import classifier_class, loaders, trainer
        import pathlib
        torch.manual_seed(0)
        model = classifier_class()(hidden=5, lr=0.02)
        train_loader, val_loader = loaders()
        trainer(pathlib.Path({str(tmp_path)!r}), max_epochs=2).fit(model, train_loader, val_loader)
        print(flightlog.last_active_run().info.run_id)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run_id = result.stdout.strip().splitlines()[-1]
    run = client.get_run(run_id)
    assert run.data.params["hidden"] == "5" and run.data.params["lr"] == "0.02"
    assert run.data.params["schedule"] == "None"
    for key in ("train_loss", "val_loss", "val_precision"):
        assert [s for s, _ in history(client, run_id, key)] == [0, 1]
    assert flightlog.search_runs(output_format="list")[0].info.run_id == run_id


class _WeightsAtEpoch:
    """Keeps a copy of the weights at the end of each epoch."""

    def __init__(self):
        self.weights = {}

    def on_train_epoch_end(self, trainer, pl_module):
        self.weights[trainer.current_epoch] = {
            k: v.detach().clone() for k, v in pl_module.state_dict().items()
        }


def _weights_spy():
    import lightning.pytorch as pl

    return type("WeightsSpy", (_WeightsAtEpoch, pl.Callback), {})()


# val_score per epoch: best at epoch 1, then worse; patience 2 stops training at epoch 3.
SCHEDULE = [1.0, 0.4, 0.6, 0.7, 0.8, 0.9]


@pytest.mark.parametrize("with_checkpoint", [True, False], ids=["checkpoint", "in-memory"])
def test_early_stopping_logs_settings_and_the_best_model(
    tmp_path, lightning_autolog, client, with_checkpoint
):
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    torch.manual_seed(0)
    train_loader, val_loader = loaders()
    spy = _weights_spy()
    callbacks = [EarlyStopping(monitor="val_score", patience=2, mode="min"), spy]
    if with_checkpoint:
        callbacks.append(ModelCheckpoint(monitor="val_score", mode="min"))
    model = TinyClassifier(schedule=SCHEDULE)
    trainer(tmp_path, max_epochs=6, callbacks=callbacks, enable_checkpointing=with_checkpoint).fit(
        model, train_loader, val_loader
    )

    run = flightlog.search_runs(output_format="list")[0]
    run_id = run.info.run_id
    params = run.data.params
    assert params["early_stopping_patience"] == "2"
    assert params["early_stopping_monitor"] == "val_score"
    assert params["early_stopping_mode"] == "min"
    assert params["early_stopping_stopped_epoch"] == "3"
    assert history(client, run_id, "stopped_epoch") == [(3, 3.0)]
    assert [s for s, _ in history(client, run_id, "val_score")] == [0, 1, 2, 3]

    logged = flightlog.pytorch.load_model(f"runs:/{run_id}/model").state_dict()
    best = spy.weights[1]
    assert all(torch.equal(logged[k], best[k]) for k in best)
    assert not torch.equal(logged["net.0.weight"], model.state_dict()["net.0.weight"])
    source = run.data.tags["flightlog.lightning.model_source"]
    assert ("best checkpoint" in source) if with_checkpoint else (source.endswith("epoch 1"))


def _final_weights(tmp_path):
    torch.manual_seed(7)
    train_loader, val_loader = loaders(seed=7)
    model = TinyClassifier()
    trainer(tmp_path, max_epochs=2).fit(model, train_loader, val_loader)
    return model.state_dict()


def test_failing_store_leaves_training_untouched(tmp_path, monkeypatch):
    import flightlog_lightning

    from flightlog.autolog.reporting import FlightlogAutologWarning

    reference = _final_weights(tmp_path / "a")
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("a file where the store's folder should be")
    monkeypatch.setenv("FLIGHTLOG_TRACKING_URI", f"sqlite:///{not_a_dir}/flightlog.db")
    monkeypatch.setenv("FLIGHTLOG_AUTOLOG_TESTING", "0")
    flightlog_lightning.autolog()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            weights = _final_weights(tmp_path / "b")
    finally:
        flightlog_lightning.autolog(disable=True)
    assert any(issubclass(w.category, FlightlogAutologWarning) for w in caught)
    for key in reference:
        assert torch.equal(weights[key], reference[key]), key


def test_pytorch_lightning_namespace(tmp_path, client):
    pytest.importorskip("pytorch_lightning")
    import flightlog_lightning

    namespace = "pytorch_lightning"
    flightlog_lightning.autolog()
    try:
        torch.manual_seed(0)
        train_loader, val_loader = loaders()
        spy = spy_class(namespace)()
        model = classifier_class(namespace)(hidden=4)
        trainer(tmp_path / "autolog", namespace, callbacks=[spy], max_epochs=2).fit(
            model, train_loader, val_loader
        )
        # The explicit callback class works with this namespace's Trainer too.
        callback = flightlog.lightning.FlightlogCallback(log_models=False)
        with flightlog.start_run() as mine:
            trainer(tmp_path / "callback", namespace, callbacks=[callback], max_epochs=1).fit(
                model, train_loader, val_loader
            )
    finally:
        flightlog_lightning.autolog(disable=True)
    runs = flightlog.search_runs(output_format="list", order_by=["start_time ASC"])
    assert len(runs) == 2
    first = runs[0].info.run_id
    assert runs[0].data.params["hidden"] == "4"
    assert [v for _, v in history(client, first, "val_loss")] == pytest.approx(
        [spy.held[e]["val_loss"] for e in (0, 1)], rel=1e-6
    )
    assert callback.run_id == mine.info.run_id
    assert [s for s, _ in history(client, mine.info.run_id, "val_loss")] == [0]


def test_mlflow_spelling_enables_torch_and_lightning(tmp_path):
    import flightlog_lightning
    import flightlog_torch

    flightlog.pytorch.autolog(log_every_n_epoch=1, checkpoint=True, log_models=False)
    try:
        assert flightlog_torch.integration.enabled and flightlog_lightning.integration.enabled
        assert flightlog_lightning.integration.config.log_models is False
        train_loader, val_loader = loaders()
        trainer(tmp_path, max_epochs=1).fit(TinyClassifier(), train_loader, val_loader)
    finally:
        flightlog.pytorch.autolog(disable=True)
    assert not flightlog_torch.integration.enabled
    assert not flightlog_lightning.integration.enabled
    # One run: the plain-loop tracker stays out of Lightning's own loops.
    runs = flightlog.search_runs(output_format="list")
    assert len(runs) == 1 and runs[0].data.tags["mlflow.autologging"] == "lightning"


@pytest.mark.slow
def test_distributed_fit_is_one_run(tmp_path, client):
    """ddp_spawn on two CPU processes: only global rank zero records, so one run."""
    script = textwrap.dedent(
        f"""
        import sys, pathlib
        sys.path.insert(0, {HERE!r})
        import flightlog
        flightlog.autolog()
        import torch
        from lightning_testkit import TinyClassifier, loaders, trainer

        if __name__ == "__main__":
            torch.manual_seed(0)
            train_loader, val_loader = loaders()
            trainer(
                pathlib.Path({str(tmp_path)!r}), max_epochs=2, strategy="ddp_spawn",
                devices=2, accelerator="cpu",
            ).fit(TinyClassifier(hidden=5), train_loader, val_loader)
        """
    )
    path = tmp_path / "ddp_script.py"
    path.write_text(script)
    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=280
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = flightlog.search_runs(output_format="list")
    assert len(runs) == 1
    run_id = runs[0].info.run_id
    assert runs[0].info.status == "FINISHED"
    assert runs[0].data.params["hidden"] == "5"
    assert [s for s, _ in history(client, run_id, "val_loss")] == [0, 1]
    assert "model" in {f.path for f in client.list_artifacts(run_id)}
