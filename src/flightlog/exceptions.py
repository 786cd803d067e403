"""flightlog's exception classes.

Every error carries an MLflow REST `error_code` and the HTTP status it maps to, so the server
can turn any of them into MLflow's error JSON and the REST store can turn that JSON back into
the same class.
"""

from __future__ import annotations


class FlightlogError(Exception):
    """Base class of every error flightlog raises on purpose."""

    error_code = "INTERNAL_ERROR"
    http_status = 500

    def __init__(self, message: str, error_code: str | None = None):
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code

    def to_dict(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


# MLflow code catches MlflowException; keep the name importable after `import flightlog as mlflow`.
MlflowException = FlightlogError


class InvalidParameterError(FlightlogError, ValueError):
    """A key, value, id or argument that breaks the rules; nothing was written."""

    error_code = "INVALID_PARAMETER_VALUE"
    http_status = 400


class InvalidKeyError(InvalidParameterError):
    """A metric, param or tag key with bad characters or length."""


class InvalidValueError(InvalidParameterError):
    """A metric value that is not a number, or a param/tag value that is too long."""


class ParamConflictError(InvalidParameterError):
    """A param re-logged with a different value (params are immutable per run)."""


class InvalidFilterError(InvalidParameterError):
    """A search filter or order_by clause that does not parse."""


class ResourceNotFoundError(FlightlogError, LookupError):
    error_code = "RESOURCE_DOES_NOT_EXIST"
    http_status = 404


class ExperimentNotFoundError(ResourceNotFoundError):
    pass


class RunNotFoundError(ResourceNotFoundError):
    pass


class ResourceAlreadyExistsError(FlightlogError):
    error_code = "RESOURCE_ALREADY_EXISTS"
    http_status = 400


class ExperimentAlreadyExistsError(ResourceAlreadyExistsError):
    pass


class InvalidStateError(FlightlogError):
    """The target exists but is in a state that forbids the operation."""

    error_code = "INVALID_STATE"
    http_status = 400


class RunNotActiveError(InvalidStateError):
    """Logging to a run that is deleted or already terminated."""


class ExperimentNotActiveError(InvalidStateError):
    """Creating runs in, or renaming, a deleted experiment."""


class UnsupportedUriError(InvalidParameterError):
    """A tracking or artifact URI whose scheme flightlog cannot handle."""


class ArtifactPathError(InvalidParameterError):
    """An artifact path that is absolute or would escape the run's artifact root."""


class StoreUnavailableError(FlightlogError):
    """The backend could not be reached or is temporarily refusing work (retryable)."""

    error_code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503


class UnauthenticatedError(FlightlogError):
    error_code = "UNAUTHENTICATED"
    http_status = 401


class PermissionDeniedError(FlightlogError):
    error_code = "PERMISSION_DENIED"
    http_status = 403


_BY_CODE = {
    "INVALID_PARAMETER_VALUE": InvalidParameterError,
    "BAD_REQUEST": InvalidParameterError,
    "RESOURCE_DOES_NOT_EXIST": ResourceNotFoundError,
    "NOT_FOUND": ResourceNotFoundError,
    "RESOURCE_ALREADY_EXISTS": ResourceAlreadyExistsError,
    "INVALID_STATE": InvalidStateError,
    "TEMPORARILY_UNAVAILABLE": StoreUnavailableError,
    "UNAUTHENTICATED": UnauthenticatedError,
    "PERMISSION_DENIED": PermissionDeniedError,
}


def error_from_code(error_code: str, message: str) -> FlightlogError:
    """Rebuild an exception from MLflow's `{"error_code", "message"}` error JSON."""
    cls = _BY_CODE.get(error_code, FlightlogError)
    return cls(message, error_code=error_code)


# --- models and the model registry ---------------------------------------------------------
class SignatureMismatchError(InvalidParameterError):
    """Input given to a model's predict() does not match its signature (a missing column, a
    wrong type or shape); the message names the column or tensor and what was expected."""


class ModelNotFoundError(ResourceNotFoundError):
    """A model URI or folder that holds no model (no MLmodel file there)."""


class UnsupportedFlavorError(InvalidParameterError):
    """A model whose flavors flightlog has no loader for (install the integration that has one)."""


class RegisteredModelNotFoundError(ResourceNotFoundError):
    pass


class ModelVersionNotFoundError(ResourceNotFoundError):
    pass


class LoggedModelNotFoundError(ResourceNotFoundError):
    pass


class RegisteredModelAlreadyExistsError(ResourceAlreadyExistsError):
    pass


# --- autolog -------------------------------------------------------------------------------
class AutologConfigError(InvalidParameterError):
    """An autolog option that does not exist or has a value of the wrong kind."""


class AutologTestModeError(FlightlogError):
    """Raised instead of a warning under FLIGHTLOG_AUTOLOG_TESTING=1: an integration failed,
    changed an argument on its way to the patched function, or left a run open."""
