"""Runs the UI tests look at, logged through flightlog's own API."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

# Final accuracy of each trial of the sweep, and its learning rate.
TRIALS = [("trial-0", 0.1, 0.9), ("trial-1", 0.01, 0.3), ("trial-2", 0.001, 0.6)]
STEPS = 25


@dataclass
class Sweep:
    experiment_id: str
    parent_id: str
    trial_ids: dict[str, str] = field(default_factory=dict)


def tiny_png(path: Path, width: int = 24, height: int = 16) -> Path:
    """A real PNG (a gradient), written without an imaging library."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 10 % 256, y * 15 % 256, 160))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def log_sweep(tmp_path: Path, experiment: str = "ui-sweep") -> Sweep:
    """A parent run with three nested trials (metric histories of STEPS points), a logged
    scikit-learn model and a few artifacts to preview on the parent."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import flightlog
    import flightlog.sklearn

    experiment_id = flightlog.set_experiment(experiment).experiment_id
    with flightlog.start_run(run_name="sweep") as parent:
        flightlog.log_param("search", "grid")
        trial_ids = {}
        for name, lr, final in TRIALS:
            with flightlog.start_run(run_name=name, nested=True) as trial:
                trial_ids[name] = trial.info.run_id
                flightlog.log_param("lr", lr)
                flightlog.log_param("optimizer", "sgd")
                for step in range(STEPS):
                    flightlog.log_metric("acc", final * (step + 1) / STEPS, step=step)
                    flightlog.log_metric("loss", (1 - final) + 1.0 / (step + 1), step=step)
        features, target = load_iris(return_X_y=True, as_frame=True)
        model = LogisticRegression(max_iter=300).fit(features, target)
        flightlog.sklearn.log_model(model, name="model", input_example=features.head(3))
        flightlog.log_dict({"layers": [64, 32], "dropout": 0.1}, "config/train.json")
        flightlog.log_text('epoch,loss\n1,0.9\n2,"0,5"\n', "history.csv")
        flightlog.log_text("first line\nsecond line\n", "notes.txt")
        flightlog.log_artifact(str(tiny_png(tmp_path / "curve.png")), "plots")
    flightlog.flush()
    return Sweep(experiment_id, parent.info.run_id, trial_ids)
