"""flightlog.torch.autolog() on hand-written PyTorch loops: what it records and what it leaves."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch_testkit import TinyNet, history, make_loaders, train

import flightlog


def test_three_epochs_log_the_loops_own_epoch_means(torch_autolog, client):
    model, own = train(epochs=3)
    run = flightlog.active_run()
    assert run is not None, "autolog starts a run when the first optimizer is built"
    run_id = run.info.run_id

    train_points = history(client, run_id, "train_loss")
    val_points = history(client, run_id, "val_loss")
    assert [s for s, _ in train_points] == [0, 1, 2]
    assert [s for s, _ in val_points] == [0, 1, 2]
    assert [v for _, v in train_points] == pytest.approx(own["train_loss"], rel=1e-12)
    assert [v for _, v in val_points] == pytest.approx(own["val_loss"], rel=1e-12)
    assert history(client, run_id, "lr") == [(0, 0.05), (1, 0.025), (2, 0.0125)]

    data = client.get_run(run_id).data
    assert data.tags["mlflow.autologging"] == "pytorch"
    assert data.params["optimizer_name"] == "SGD"
    assert data.params["optimizer_lr"] == "0.05"
    assert data.params["optimizer_momentum"] == "0.9"
    count = sum(p.numel() for p in model.parameters())
    assert data.params["model_parameter_count"] == str(count)
    assert "optimizer_foreach" not in data.params  # implementation switches are not hyperparams
    flightlog.end_run()


def test_logs_into_the_users_run_and_counts_frozen_parameters(torch_autolog, client):
    torch.manual_seed(0)
    train_loader, val_loader = make_loaders()
    model = TinyNet()
    for p in model.body[0].parameters():
        p.requires_grad_(False)
    loss_fn = nn.CrossEntropyLoss()
    with flightlog.start_run() as run:
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        # An evaluation before training has no epoch to belong to.
        with torch.no_grad():
            baseline = [loss_fn(model(x), y).item() for x, y in val_loader]
        for x, y in train_loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
    data = client.get_run(run.info.run_id).data
    assert data.tags.get("mlflow.autologging") is None  # the user's run, not an autolog run
    assert data.params["model_parameter_count"] == str(sum(p.numel() for p in model.parameters()))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert data.params["model_trainable_parameter_count"] == str(trainable)
    assert history(client, run.info.run_id, "initial_val_loss") == [
        (0, pytest.approx(sum(baseline) / len(baseline), rel=1e-12))
    ]
    assert [s for s, _ in history(client, run.info.run_id, "train_loss")] == [0]
    assert history(client, run.info.run_id, "val_loss") == []


def test_what_it_cannot_see(torch_autolog, client):
    """Functional losses are invisible, and a pass cut short by `break` is not an epoch."""
    torch.manual_seed(0)
    train_loader, val_loader = make_loaders()
    model = TinyNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with flightlog.start_run() as run:
        for _ in range(2):
            for x, y in train_loader:
                optimizer.zero_grad()
                F.cross_entropy(model(x), y).backward()  # a function, not a loss module
                optimizer.step()
        for i, (x, y) in enumerate(train_loader):
            if i == 1:
                break
            optimizer.zero_grad()
            nn.CrossEntropyLoss()(model(x), y).backward()
            optimizer.step()
    run_id = run.info.run_id
    assert history(client, run_id, "train_loss") == []
    # The optimizer stepped in two full passes: two epochs, seen through their learning rate.
    assert [s for s, _ in history(client, run_id, "lr")] == [0, 1]


def test_each_new_training_gets_its_own_autolog_run(torch_autolog, client):
    train(epochs=2, seed=1)
    first = flightlog.active_run().info.run_id
    train(epochs=2, seed=2, lr=0.01)
    second = flightlog.active_run().info.run_id
    assert first != second
    assert client.get_run(first).info.status == "FINISHED"
    assert client.get_run(second).data.params["optimizer_lr"] == "0.01"
    assert [s for s, _ in history(client, second, "train_loss")] == [0, 1]
    flightlog.end_run()


def test_disable_puts_every_original_back(client):
    import flightlog_torch
    from torch.nn.modules.loss import _Loss
    from torch.utils.data import dataloader

    originals = (
        vars(torch.optim.Optimizer)["__init__"],
        vars(dataloader.DataLoader)["__iter__"],
        vars(dataloader._BaseDataLoaderIter)["__next__"],
    )
    flightlog_torch.autolog()
    assert vars(torch.optim.Optimizer)["__init__"] is not originals[0]
    assert "__call__" in vars(_Loss)
    flightlog_torch.autolog(disable=True)
    assert (
        vars(torch.optim.Optimizer)["__init__"],
        vars(dataloader.DataLoader)["__iter__"],
        vars(dataloader._BaseDataLoaderIter)["__next__"],
    ) == originals
    assert "__call__" not in vars(_Loss)
    train(epochs=1)
    assert flightlog.active_run() is None


def _final_weights(**kwargs):
    model, _ = train(epochs=2, seed=3, **kwargs)
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_failing_store_leaves_training_untouched(tmp_path, monkeypatch):
    import flightlog_torch

    from flightlog.autolog.reporting import FlightlogAutologWarning

    reference = _final_weights()
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("a file where the store's folder should be")
    monkeypatch.setenv("FLIGHTLOG_TRACKING_URI", f"sqlite:///{not_a_dir}/flightlog.db")
    monkeypatch.setenv("FLIGHTLOG_AUTOLOG_TESTING", "0")
    flightlog_torch.autolog()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            weights = _final_weights()
    finally:
        flightlog_torch.autolog(disable=True)
    assert any(issubclass(w.category, FlightlogAutologWarning) for w in caught)
    assert weights.keys() == reference.keys()
    for key in reference:
        assert torch.equal(weights[key], reference[key]), key


def test_importing_the_submodules_imports_no_framework():
    code = (
        "import sys, flightlog, flightlog.pytorch, flightlog.torch, flightlog.lightning\n"
        "flightlog.pytorch.autolog()\n"
        "heavy = [m for m in ('torch', 'lightning', 'pytorch_lightning', 'numpy') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "import torch\n"
        "from torch.nn.modules.loss import _Loss\n"
        "assert '__call__' in vars(_Loss), 'patched once torch is imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
