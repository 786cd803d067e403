"""flightlog's scikit-learn integration (a plugin in the `flightlog.integrations` group).

    import flightlog
    flightlog.sklearn.autolog()     # or flightlog.autolog() for every installed framework

Every estimator's `fit`, `fit_transform` and `fit_predict` is logged at the outermost call:
params, training metrics, the model with its signature, the training dataset, classifier plots;
searches log a parent run with one child run per top candidate; `sklearn.metrics` calls and
`score()` on an autologged model's predictions are logged to its run afterwards.

Importing this package does not import scikit-learn; patches go on when it is imported.
"""

from __future__ import annotations

from typing import Any

from flightlog_sklearn._integration import SklearnIntegration

integration = SklearnIntegration()


def autolog(**config: Any) -> None:
    """Enable scikit-learn autologging; `disable=True` reverts every patch.

    Options: log_models, log_input_examples, log_model_signatures, log_datasets, disable,
    exclusive, silent, max_tuning_runs (child runs per search, default 5, None = all),
    extra_tags, registered_model_name, log_post_training_metrics, plus `pos_label` (the positive
    class for binary precision/recall/F1) and `serialization_format` ("cloudpickle", "pickle" or
    "skops").
    """
    integration.autolog(**config)


__all__ = ["SklearnIntegration", "autolog", "integration"]
