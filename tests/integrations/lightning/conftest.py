"""Fixtures for the Lightning integration tests (tiny models, a few batches, CPU)."""

from __future__ import annotations

import logging
import warnings

import pytest

pytest.importorskip("lightning")


@pytest.fixture(autouse=True)
def quiet_lightning():
    # Lightning's info lines and its "few batches / no workers" advice are noise here.
    for name in ("lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*LeafSpec.*")
        yield


@pytest.fixture
def lightning_autolog():
    import flightlog_lightning

    flightlog_lightning.autolog()
    yield flightlog_lightning.integration
    flightlog_lightning.autolog(disable=True)


@pytest.fixture
def client():
    import flightlog

    return flightlog.TrackingClient()
