"""`flightlog.pyfunc`: any saved model behind one predict(), as MLflow users type it.

model = flightlog.pyfunc.load_model("models:/churn@champion")
model.predict(df)     # checked against the model's signature first
"""

from __future__ import annotations

from flightlog.models.loading import load_model
from flightlog.models.pyfunc_model import PyFuncModel

FLAVOR_NAME = "python_function"

__all__ = ["FLAVOR_NAME", "PyFuncModel", "load_model"]
