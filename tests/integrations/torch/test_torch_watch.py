"""flightlog.torch.watch: gradient and weight norms every N optimizer steps."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch_testkit import TinyNet, history, make_loaders

import flightlog
from flightlog.exceptions import InvalidParameterError


def test_norms_every_n_steps_match_the_model(client):
    torch.manual_seed(0)
    train_loader, _ = make_loaders()
    model = TinyNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    expected = {}
    with flightlog.start_run() as run:
        handle = flightlog.torch.watch(model, every_n_steps=3, per_layer=True)
        for step, (x, y) in enumerate(train_loader):  # 4 batches: steps 0..3
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
            grads = torch.cat([p.grad.flatten() for p in model.parameters()])
            weights = torch.cat([p.detach().flatten() for p in model.parameters()])
            expected[step] = (grads.norm().item(), weights.norm().item())
        handle.remove()
        optimizer.step()  # no longer watched
    run_id = run.info.run_id
    grad_points = history(client, run_id, "grad_norm")
    weight_points = history(client, run_id, "weight_norm")
    assert [s for s, _ in grad_points] == [0, 3]
    for (s, value), (_, weight) in zip(grad_points, weight_points, strict=True):
        assert value == pytest.approx(expected[s][0], rel=1e-5)
        assert weight == pytest.approx(expected[s][1], rel=1e-5)
    assert [s for s, _ in history(client, run_id, "grad_norm/body.0.weight")] == [0, 3]


def test_watch_checks_its_arguments():
    with pytest.raises(InvalidParameterError, match="every_n_steps"):
        flightlog.torch.watch(TinyNet(), every_n_steps=0)
    with pytest.raises(InvalidParameterError, match="nn.Module"):
        flightlog.torch.watch("model")
    with pytest.raises(InvalidParameterError, match="log_grad_norm or log_weight_norm"):
        flightlog.torch.watch(TinyNet(), log_grad_norm=False, log_weight_norm=False)
    model = TinyNet()
    flightlog.torch.watch(model)
    assert flightlog.torch.unwatch(model) == 1
    assert flightlog.torch.unwatch(model) == 0
