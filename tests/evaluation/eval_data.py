"""Seeded datasets and small trained models shared by the evaluation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def binary_problem(n: int = 400, seed: int = 0):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n, 6, n_informative=4, random_state=seed)
    model = LogisticRegression(max_iter=500).fit(X[: n // 2], y[: n // 2])
    frame = pd.DataFrame(X[n // 2 :], columns=[f"f{i}" for i in range(6)])
    frame["label"] = y[n // 2 :]
    return model, frame


def multiclass_problem(n: int = 600, seed: int = 1):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(
        n, 6, n_informative=4, n_classes=3, n_clusters_per_class=1, random_state=seed
    )
    model = LogisticRegression(max_iter=500).fit(X[: n // 2], y[: n // 2])
    frame = pd.DataFrame(X[n // 2 :], columns=[f"f{i}" for i in range(6)])
    frame["label"] = y[n // 2 :]
    return model, frame


def regression_problem(n: int = 400, seed: int = 2):
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge

    X, y = make_regression(n, 5, noise=10.0, random_state=seed)
    y = y + 500.0  # away from 0, so the percentage error is meaningful
    model = Ridge().fit(X[: n // 2], y[: n // 2])
    frame = pd.DataFrame(X[n // 2 :], columns=[f"f{i}" for i in range(5)])
    frame["target"] = y[n // 2 :]
    return model, frame


def tabular(n: int, seed: int, shift: float = 0.0, new_category: bool = False) -> pd.DataFrame:
    """Two normal numeric columns, a 4-valued categorical and a binary column."""
    rng = np.random.default_rng(seed)
    cats = rng.choice(["a", "b", "c", "d"], size=n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    if new_category:
        cats[: n // 5] = "e"
    return pd.DataFrame(
        {
            "x": rng.normal(0.0, 1.0, n) + shift,
            "z": rng.normal(5.0, 2.0, n),
            "color": cats,
            "flag": rng.integers(0, 2, n),
        }
    )
