"""Error classes of flightlog.evaluation (all FlightlogError subclasses, so the CLI and server
report them as clear messages)."""

from __future__ import annotations

from flightlog.exceptions import FlightlogError, InvalidParameterError, ResourceNotFoundError


class EvaluationInputError(InvalidParameterError):
    """Data, targets, model or options that evaluate()/drift() cannot work with."""


class ConditionSyntaxError(InvalidParameterError):
    """A check condition that does not read as `<metric> <op> <number>`."""


class CheckMetricNotFoundError(ResourceNotFoundError):
    """A check condition names a metric the run does not have."""


class ModelValidationFailedError(FlightlogError):
    """A candidate model missed a validation threshold (raised only when asked to)."""

    error_code = "INVALID_STATE"
    http_status = 400


class MissingDependencyError(FlightlogError):
    """An optional package (numpy, scipy, scikit-learn, pandas, evidently) is not installed."""

    error_code = "INVALID_STATE"
    http_status = 400
