"""flightlog.data and log_input against the real mlflow package: the same data gives the same
dataset summary (digest, schema, profile, source) and the same run inputs, with tags as a list
of InputTag (issue 13 item 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import flightlog
from flightlog.entities import DatasetInput, InputTag
from flightlog.exceptions import InvalidParameterError

# Runs under both libraries: `mlflow` is either the real package or flightlog.
SCRIPT = """
import json, sys
if sys.argv[1] == "mlflow":
    import mlflow
else:
    import flightlog as mlflow
import numpy as np, pandas as pd

mlflow.set_tracking_uri(sys.argv[2])
df = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.25, 0.125], "s": ["x", "y", "z"],
                   "o": [[1], [2], [3]]})
datasets = [
    mlflow.data.from_pandas(df, targets="a", name="table"),
    mlflow.data.from_pandas(df.head(2), source="s3://bucket/train.csv"),
    mlflow.data.from_pandas(df, source="/data/train.parquet"),
    mlflow.data.from_pandas(df, source="https://example.com/train.csv"),
    mlflow.data.from_numpy(np.arange(12.0).reshape(4, 3), targets=np.array([0, 1, 0, 1])),
    mlflow.data.from_numpy({"x": np.arange(4), "y": np.ones((2, 2), dtype="float32")}),
    mlflow.data.from_numpy(np.array(["a", "b"]), name="words", digest="fixed123"),
]
out = {"datasets": []}
for ds in datasets:
    d = ds.to_dict()
    d["source"] = json.loads(d["source"])
    d["source"].get("tags", {}).pop("mlflow.source.name", None)  # the script's path
    out["datasets"].append(d)
with mlflow.start_run() as run:
    mlflow.log_input(datasets[0], context="training", tags={"stage": "raw"})
    mlflow.log_input(datasets[4], context="eval")
    mlflow.log_input(datasets[6])
stored = mlflow.get_run(run.info.run_id)
out["inputs"] = sorted(
    [i.dataset.name, i.dataset.digest, i.dataset.source_type, i.dataset.profile,
     sorted([t.key, t.value] for t in i.tags)]
    for i in stored.inputs.dataset_inputs
)
print(json.dumps(out, sort_keys=True))
"""


def _run(mode: str, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI",)}
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}" if mode == "mlflow" else str(tmp_path / "fl")
    script = tmp_path / "datasets_script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    result = subprocess.run(
        [sys.executable, str(script), mode, uri],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.interop
def test_datasets_and_inputs_match_mlflow(tmp_path):
    ours = _run("flightlog", tmp_path)
    theirs = _run("mlflow", tmp_path)
    assert len(ours["datasets"]) == 7
    for mine, real in zip(ours["datasets"], theirs["datasets"], strict=True):
        assert mine == real
    assert ours["inputs"] == theirs["inputs"]


def test_input_tags_are_a_list_of_input_tag_that_still_reads_like_a_dict():
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with flightlog.start_run() as run:
        flightlog.log_input(
            flightlog.data.from_pandas(frame, name="train"), context="training", tags={"k": "v"}
        )
    (stored,) = flightlog.get_run(run.info.run_id).inputs.dataset_inputs
    assert all(isinstance(t, InputTag) for t in stored.tags)
    assert sorted((t.key, t.value) for t in stored.tags) == [
        ("k", "v"),
        ("mlflow.data.context", "training"),
    ]
    # the dict reads of the first API keep working
    assert stored.tags["mlflow.data.context"] == "training"
    assert "k" in stored.tags and stored.tags.get("missing") is None
    assert dict(stored.tags.items()) == {"k": "v", "mlflow.data.context": "training"}
    # the JSON form (REST, spool) is MLflow's list, and reads back equal
    as_json = stored.to_dict()
    assert as_json["tags"] == [t.to_dict() for t in stored.tags]
    assert DatasetInput.from_dict(as_json) == stored
    # an input built the old way (tags as a dict) becomes the same list
    assert DatasetInput(stored.dataset, {"k": "v"}).tags == [InputTag("k", "v")]


def test_dataset_properties_and_source():
    frame = pd.DataFrame({"a": [1, 2, 3], "label": [0, 1, 0]})
    ds = flightlog.data.from_pandas(frame, source="data/train.csv", targets="label")
    assert ds.name == "dataset" and len(ds.digest) == 8
    assert ds.df is frame and ds.targets == "label"
    assert ds.profile == {"num_rows": 3, "num_elements": 6}
    assert [c.name for c in ds.schema.inputs] == ["a", "label"]
    assert ds.source.source_type == "local" and ds.source.uri == "data/train.csv"
    assert flightlog.data.get_source(ds.to_entity()).uri == "data/train.csv"
    changed = frame.assign(a=[1, 2, 4])
    assert flightlog.data.from_pandas(changed).digest != ds.digest
    arrays = flightlog.data.from_numpy(np.zeros((5, 2)), targets=np.ones(5))
    assert arrays.profile["features_shape"] == [5, 2]
    assert json.loads(arrays.to_dict()["schema"])["mlflow_tensorspec"]["targets"]


def test_bad_dataset_arguments_fail_clearly():
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(InvalidParameterError, match="targets column 'nope'"):
        flightlog.data.from_pandas(frame, targets="nope")
    with pytest.raises(InvalidParameterError, match="pandas DataFrame"):
        flightlog.data.from_pandas([1, 2, 3])
    with pytest.raises(InvalidParameterError, match="numpy arrays"):
        flightlog.data.from_numpy([1, 2, 3])
    with pytest.raises(InvalidParameterError, match="source"):
        flightlog.data.from_pandas(frame, source=42)
