"""The scikit-learn flavor: MLflow's `sklearn` flavor layout, written and read by flightlog.

Serialization formats (MLflow's names and file names):
- "cloudpickle" (default): `model.pkl`; loads in MLflow and handles custom estimator classes.
- "pickle": `model.pkl` with the standard library pickle.
- "skops": `model.skops`, the safe format: loading does not run code from the file, only types
  listed as trusted (`skops_trusted_types`, plus skops' own defaults) are rebuilt.

Loading a pickle-based model runs code stored in the file: load only models from sources you
trust (your own store, your team's server) — the same rule as for MLflow and pickle itself.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

from flightlog.exceptions import InvalidParameterError
from flightlog.models.flavor import Flavor, SavedFlavor

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_SKOPS = "skops"
SUPPORTED_SERIALIZATION_FORMATS = (
    SERIALIZATION_FORMAT_CLOUDPICKLE,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_SKOPS,
)
_FILES = {
    SERIALIZATION_FORMAT_CLOUDPICKLE: "model.pkl",
    SERIALIZATION_FORMAT_PICKLE: "model.pkl",
    SERIALIZATION_FORMAT_SKOPS: "model.skops",
}
_PREDICT_FNS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba", "score")


class SklearnFlavor(Flavor):
    name = FLAVOR_NAME
    loader_module = "mlflow.sklearn"
    packages = ("scikit-learn", "numpy", "scipy")

    def save(
        self,
        model: Any,
        path: str,
        serialization_format: str = SERIALIZATION_FORMAT_CLOUDPICKLE,
        pyfunc_predict_fn: str = "predict",
        skops_trusted_types: list[str] | None = None,
        **unknown: Any,
    ) -> SavedFlavor:
        if unknown:
            raise InvalidParameterError(
                f"Unknown option(s) for the sklearn flavor: {sorted(unknown)}"
            )
        if serialization_format not in SUPPORTED_SERIALIZATION_FORMATS:
            raise InvalidParameterError(
                f"Unknown serialization_format {serialization_format!r}; use one of "
                f"{list(SUPPORTED_SERIALIZATION_FORMATS)}"
            )
        if pyfunc_predict_fn not in _PREDICT_FNS:
            raise InvalidParameterError(
                f"pyfunc_predict_fn must be one of {list(_PREDICT_FNS)}, got {pyfunc_predict_fn!r}"
            )
        import sklearn

        file_name = _FILES[serialization_format]
        target = os.path.join(path, file_name)
        extra = []
        if serialization_format == SERIALIZATION_FORMAT_SKOPS:
            _dump_skops(model, target, skops_trusted_types)
            extra.append("skops")
        else:
            with open(target, "wb") as f:
                if serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE:
                    import cloudpickle

                    # The default protocol, not cloudpickle's newest: loadable by older Pythons.
                    cloudpickle.dump(model, f, protocol=pickle.DEFAULT_PROTOCOL)
                    extra.append("cloudpickle")
                else:
                    pickle.dump(model, f, protocol=pickle.DEFAULT_PROTOCOL)
        conf = {
            "pickled_model": file_name,
            "sklearn_version": sklearn.__version__,
            "serialization_format": serialization_format,
            "code": None,
        }
        if serialization_format == SERIALIZATION_FORMAT_SKOPS:
            conf["skops_trusted_types"] = skops_trusted_types
        pyfunc = None
        if hasattr(model, pyfunc_predict_fn):
            pyfunc = {"model_path": file_name, "predict_fn": pyfunc_predict_fn}
        return SavedFlavor(conf=conf, pyfunc=pyfunc, packages=extra)

    def load(self, path: str, conf: dict[str, Any]) -> Any:
        file_name = conf.get("pickled_model", "model.pkl")
        fmt = conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE)
        target = os.path.join(path, file_name)
        if fmt == SERIALIZATION_FORMAT_SKOPS:
            import skops.io

            return skops.io.load(target, trusted=conf.get("skops_trusted_types"))
        if fmt not in SUPPORTED_SERIALIZATION_FORMATS:
            raise InvalidParameterError(f"Unknown sklearn serialization_format {fmt!r} in MLmodel")
        with open(target, "rb") as f:
            if fmt == SERIALIZATION_FORMAT_CLOUDPICKLE:
                import cloudpickle

                return cloudpickle.load(f)
            return pickle.load(f)

    def predictor(self, model: Any, meta: Any):
        fn_name = meta.flavors.get("python_function", {}).get("predict_fn", "predict")
        fn = getattr(model, fn_name)

        def predict(data: Any, params: dict[str, Any] | None = None) -> Any:
            return fn(data)

        return predict


def _dump_skops(model: Any, target: str, trusted: list[str] | None) -> None:
    """Write the skops file and check it loads with the trusted types the MLmodel will record,
    so an unloadable model is reported now, not at serving time (MLflow does the same)."""
    import skops.io

    skops.io.dump(model, target)
    untrusted = [t for t in skops.io.get_untrusted_types(file=target) if t not in (trusted or [])]
    if untrusted:
        os.remove(target)
        raise InvalidParameterError(
            f"The model contains types skops does not trust by default: {untrusted}. If they are "
            "safe, pass skops_trusted_types=[...] with them"
        )


FLAVOR = SklearnFlavor()
