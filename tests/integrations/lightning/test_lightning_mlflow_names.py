"""`mlflow.pytorch.autolog()` with Lightning: the params MLflow users filter on (`lr`, `betas`,
`eps`, `weight_decay`, `epochs`, `optimizer_name`, early stopping's `patience`, ...) and
MLflow's `checkpoints/latest_checkpoint*` artifacts, from a real fit."""

from __future__ import annotations

import json

import torch
from lightning_testkit import classifier_class, history, loaders, trainer

import flightlog


def _one_run(client):
    flightlog.flush()
    (run,) = client.search_runs(["0"])
    return run


def test_mlflow_param_names_and_checkpoint_artifacts(tmp_path, client):
    from lightning.pytorch.callbacks import EarlyStopping

    flightlog.pytorch.autolog()  # MLflow's spelling
    try:
        torch.manual_seed(0)
        train_loader, val_loader = loaders()
        model = classifier_class()(hidden=5, lr=0.05)
        stopper = EarlyStopping("val_loss", patience=5, min_delta=0.001)
        trainer(tmp_path, max_epochs=3, callbacks=[stopper]).fit(model, train_loader, val_loader)
    finally:
        flightlog.pytorch.autolog(disable=True)
    run = _one_run(client)
    params = run.data.params
    # MLflow's names, with MLflow's text for each value
    assert params["epochs"] == "3"
    assert params["optimizer_name"] == "Adam"
    assert params["lr"] == "0.05"
    assert params["betas"] == "(0.9, 0.999)"
    assert params["eps"] == "1e-08"
    assert params["weight_decay"] == "0"
    assert params["amsgrad"] == "False"
    assert params["monitor"] == "val_loss" and params["mode"] == "min"
    assert params["patience"] == "5" and params["min_delta"] == "-0.001"
    assert params["stopped_epoch"] == "0"
    # flightlog's richer names stay
    assert params["optimizer_lr"] == "0.05" and params["max_epochs"] == "3"
    assert params["early_stopping_min_delta"] == "0.001"
    # the search an MLflow user writes finds the run
    found = client.search_runs(["0"], filter_string="params.lr = '0.05' and params.epochs = '3'")
    assert [r.info.run_id for r in found] == [run.info.run_id]

    # MLflow's checkpoint artifacts: the best val_loss epoch's full Trainer checkpoint
    checkpoint_files = {f.path for f in client.list_artifacts(run.info.run_id, "checkpoints")}
    assert checkpoint_files == {
        "checkpoints/latest_checkpoint.pth",
        "checkpoints/latest_checkpoint_metrics.json",
    }
    assert run.data.tags["mlflow.latest_checkpoint_artifact"] == "checkpoints/latest_checkpoint.pth"
    folder = client.download_artifacts(run.info.run_id, "checkpoints", str(tmp_path / "dl"))
    with open(f"{folder}/latest_checkpoint_metrics.json") as f:
        saved = json.load(f)
    val_losses = history(client, run.info.run_id, "val_loss")
    best_epoch, best = min(val_losses, key=lambda p: p[1])
    assert saved["epoch"] == best_epoch and abs(saved["val_loss"] - best) < 1e-6
    content = torch.load(f"{folder}/latest_checkpoint.pth", weights_only=False)
    assert content["global_step"] == saved["global_step"] and "optimizer_states" in content
    assert set(content["state_dict"]) == set(model.state_dict())


def test_a_users_hyperparameter_keeps_its_name(tmp_path, client):
    """`lr` from save_hyperparameters() wins over the optimizer's lr (no param conflict)."""
    pl = __import__("lightning.pytorch", fromlist=["LightningModule"])
    base = classifier_class()

    class ScaledLr(base):
        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr * 2)

    assert issubclass(ScaledLr, pl.LightningModule)
    flightlog.pytorch.autolog(checkpoint=False)
    try:
        train_loader, val_loader = loaders()
        trainer(tmp_path, max_epochs=1).fit(ScaledLr(lr=0.05), train_loader, val_loader)
    finally:
        flightlog.pytorch.autolog(disable=True)
    run = _one_run(client)
    assert run.data.params["lr"] == "0.05"  # the user's
    assert run.data.params["optimizer_lr"] == "0.1" and run.data.params["momentum"] == "0"
    assert client.list_artifacts(run.info.run_id, "checkpoints") == []  # checkpoint=False
