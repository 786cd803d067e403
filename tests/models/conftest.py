"""Small real data and real scikit-learn models for the model tests (trained in milliseconds)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def frame():
    """Mixed-type training data: two numeric columns and a categorical one."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50_000, 15_000, n).round(2),
            "plan": rng.choice(["basic", "plus", "pro"], n),
        }
    )


@pytest.fixture(scope="session")
def labels(frame):
    return ((frame["income"] > 50_000) ^ (frame["plan"] == "pro")).astype(int).to_numpy()


@pytest.fixture(scope="session")
def pipeline(frame, labels):
    """A scikit-learn Pipeline over a DataFrame: scaling + one-hot encoding + logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [("num", StandardScaler(), ["age", "income"]), ("cat", OneHotEncoder(), ["plan"])]
    )
    return Pipeline([("pre", pre), ("clf", LogisticRegression())]).fit(frame, labels)
