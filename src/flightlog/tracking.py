"""`from mlflow.tracking import MlflowClient` keeps working after `import flightlog as mlflow`."""

from flightlog.client import MlflowClient, TrackingClient

__all__ = ["MlflowClient", "TrackingClient"]
