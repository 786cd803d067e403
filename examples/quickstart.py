"""flightlog in one minute: params, a metric curve, an artifact and a nested run, stored in the
embedded store (./flightlog-runs) with zero setup. Run: python examples/quickstart.py"""

import math
import random
import tempfile
from pathlib import Path

from _look import how_to_look

import flightlog

flightlog.set_experiment("quickstart")

with flightlog.start_run(run_name="toy-training") as run:
    params = {"learning_rate": 0.05, "epochs": 20, "optimizer": "adam"}
    flightlog.log_params(params)

    loss = 1.0
    for epoch in range(params["epochs"]):
        loss *= 0.85 + random.random() * 0.05
        flightlog.log_metrics(
            {"train_loss": loss, "val_loss": loss * 1.1, "accuracy": 1 - math.exp(-epoch / 5)},
            step=epoch,
        )

    with tempfile.TemporaryDirectory() as tmp:
        notes = Path(tmp) / "notes.txt"
        notes.write_text("Loss fell steadily; try a larger learning rate next.\n")
        flightlog.log_artifact(str(notes))
    flightlog.log_dict(params, "config.yaml")

    # A small sweep as nested child runs.
    for lr in (0.01, 0.1):
        with flightlog.start_run(run_name=f"lr={lr}", nested=True):
            flightlog.log_param("learning_rate", lr)
            flightlog.log_metric("val_loss", 0.5 / (1 + lr * 10))

stored = flightlog.get_run(run.info.run_id)
history = flightlog.MlflowClient().get_metric_history(run.info.run_id, "train_loss")
children = flightlog.search_runs(
    filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'",
    order_by=["metrics.val_loss ASC"],
    output_format="list",
)

print(f"Run {stored.info.run_name!r} ({stored.info.run_id}) is {stored.info.status}")
print(f"  params:    {stored.data.params}")
print(f"  metrics:   { {k: round(v, 4) for k, v in stored.data.metrics.items()} }")
print(f"  train_loss history: {len(history)} points, last {history[-1].value:.4f}")
print(f"  artifacts: {[f.path for f in flightlog.MlflowClient().list_artifacts(run.info.run_id)]}")
print(f"  children:  {[(c.info.run_name, round(c.data.metrics['val_loss'], 4)) for c in children]}")
how_to_look(run.info.run_id)
