"""FlightlogCallback / FlightlogLogger arguments: mistakes are refused when they are built,
before training starts; the run itself may be given as run_id; faults during a fit never stop
it (see docs/autolog.md, "Which mistakes stop a script")."""

from __future__ import annotations

import pytest
import torch
from lightning_testkit import TinyClassifier, history, loaders, trainer

import flightlog
from flightlog.exceptions import InvalidParameterError


@pytest.mark.parametrize("cls", ["FlightlogCallback", "FlightlogLogger"])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"log_models": "yes"}, "log_models must be True or False"),
        ({"checkpoint": 1}, "checkpoint must be True or False"),
        ({"run_id": 42}, "run_id must be a non-empty string"),
        ({"run_name": ""}, "run_name must be a non-empty string"),
        ({"tags": ["a", "b"]}, "tags must be a dict"),
        ({"log_every_n_epoch": 0}, "log_every_n_epoch must be a positive integer"),
        ({"log_every_n_step": 2.5}, "log_every_n_step must be a positive integer"),
    ],
)
def test_argument_mistakes_fail_when_built(cls, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        getattr(flightlog.lightning, cls)(**kwargs)


def test_the_run_itself_is_a_run_id(tmp_path, client):
    torch.manual_seed(0)
    train_loader, val_loader = loaders()
    with flightlog.start_run() as run:
        callback = flightlog.lightning.FlightlogCallback(run_id=run, log_models=False)
        trainer(tmp_path, max_epochs=2, callbacks=[callback]).fit(
            TinyClassifier(), train_loader, val_loader
        )
    flightlog.flush()
    assert [s for s, _ in history(client, run.info.run_id, "val_loss")] == [0, 1]
    stored = client.get_run(run.info.run_id)
    logger = flightlog.lightning.FlightlogLogger(run_id=stored)  # a Run entity works too
    assert logger.recorder.options.run_id == run.info.run_id
