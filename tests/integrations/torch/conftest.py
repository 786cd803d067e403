"""Fixtures for the PyTorch integration tests: autolog on for one test, off afterwards."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")


@pytest.fixture
def torch_autolog():
    import flightlog_torch

    flightlog_torch.autolog()
    yield flightlog_torch.integration
    flightlog_torch.autolog(disable=True)


@pytest.fixture
def client():
    import flightlog

    return flightlog.TrackingClient()
