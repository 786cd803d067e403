"""Keras autologging (Keras 3 on the torch backend), as in MLflow's keras example."""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import mlflow
import numpy as np

keras.utils.set_random_seed(0)
X = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
y = (X.sum(axis=1) > 0).astype("float32")
model = keras.Sequential(
    [
        keras.Input((4,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"]
)
mlflow.set_experiment("compat-keras")
mlflow.keras.autolog()
with mlflow.start_run(run_name="fit") as run:
    model.fit(X, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
mlflow.keras.autolog(disable=True)
loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
results = {"prediction_shape": list(np.asarray(loaded.predict(X[:4])).shape)}
with open("results.json", "w") as f:
    json.dump(results, f)
