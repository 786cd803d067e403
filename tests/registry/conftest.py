"""A tiny real scikit-learn model and its training data for the registry tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def xy():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.normal(size=40), "b": rng.integers(0, 5, 40)})
    y = (x["a"] + x["b"] > 2).astype(int).to_numpy()
    return x, y


@pytest.fixture(scope="session")
def model(xy):
    from sklearn.linear_model import LogisticRegression

    x, y = xy
    return LogisticRegression().fit(x, y)
