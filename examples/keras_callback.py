"""Keras 3 with flightlog's callback: every epoch's loss, val_loss, precision and val_precision,
the optimizer settings, epochs and batch size, and the model summary; the trained model is then
logged in the .keras format. Runs on Keras' torch backend (CPU) in seconds.
Stored in the embedded store (./flightlog-runs). Run: python examples/keras_callback.py"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _look import how_to_look  # noqa: E402

import flightlog  # noqa: E402

flightlog.set_experiment("keras-callback")

rng = np.random.default_rng(0)
X = rng.normal(size=(1000, 8)).astype("float32")
y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype("float32")
X_train, X_val, y_train, y_val = X[:800], X[800:], y[:800], y[800:]

keras.utils.set_random_seed(0)
model = keras.Sequential(
    [
        keras.Input((8,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(0.01),
    loss="binary_crossentropy",
    metrics=[keras.metrics.Precision(name="precision")],
)

with flightlog.start_run(run_name="keras-mlp") as run:
    history = model.fit(
        X_train,
        y_train,
        epochs=8,
        batch_size=64,
        validation_data=(X_val, y_val),
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=3),
            flightlog.keras.FlightlogCallback(),
        ],
        verbose=0,
    )
    flightlog.keras.log_model(model, name="model", input_example=X_val[:5])

flightlog.flush()
stored = flightlog.get_run(run.info.run_id)
client = flightlog.MlflowClient()
print(f"run {run.info.run_id} in experiment {run.info.experiment_id} ({stored.info.status})")
print(f"  tracking URI: {flightlog.get_tracking_uri()}")
print(f"  artifacts:    {stored.info.artifact_uri}")
for key in ("epochs", "batch_size", "optimizer_name", "optimizer_learning_rate"):
    print(f"  {key:<24} {stored.data.params[key]}")
for key in ("loss", "val_loss", "precision", "val_precision"):
    points = client.get_metric_history(run.info.run_id, key)
    print(f"  {key:<14} {len(points)} epochs, last {points[-1].value:.4f}")
print("  files:        " + ", ".join(f.path for f in client.list_artifacts(run.info.run_id)))

loaded = flightlog.keras.load_model(f"runs:/{run.info.run_id}/model")
assert np.array_equal(loaded.predict(X_val, verbose=0), model.predict(X_val, verbose=0))
print(f"  the logged model loads back from runs:/{run.info.run_id}/model and predicts the same")
how_to_look(run.info.run_id)
