"""Run one compatibility script under one library, then describe what it stored.

    python runner.py mlflow    SCRIPT OUT_DIR    # the script as written (`import mlflow`)
    python runner.py flightlog SCRIPT OUT_DIR    # its imports rewritten to `import flightlog as mlflow`

The tracking URI comes from MLFLOW_TRACKING_URI (set by the test). After the script, OUT_DIR/
state.json holds what the same library reads back (see describe.py) and the script's own
results (predictions and the like, written to results.json in the working folder).
"""

from __future__ import annotations

import json
import os
import re
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent

# `import mlflow`, `import mlflow.sklearn`, `from mlflow.models import x` -> flightlog's names:
# exactly the edit a user makes to switch, and nothing else in the script changes.
_IMPORT = re.compile(r"^(\s*)import mlflow((?:\.\w+)*)(\s+as\s+\w+)?\s*$")
_FROM = re.compile(r"^(\s*)from mlflow((?:\.\w+)*) import (.+)$")


def to_flightlog(source: str) -> str:
    lines = []
    for line in source.splitlines():
        m = _IMPORT.match(line)
        if m:
            indent, sub, alias = m.group(1), m.group(2), m.group(3)
            if alias:  # import mlflow.sklearn as ms
                lines.append(f"{indent}import flightlog{sub}{alias}")
            else:
                lines.append(f"{indent}import flightlog as mlflow")
                if sub:
                    lines.append(f"{indent}import flightlog{sub}")
            continue
        m = _FROM.match(line)
        if m:
            lines.append(f"{m.group(1)}from flightlog{m.group(2)} import {m.group(3)}")
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> int:
    mode, script, out_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    out_dir.mkdir(parents=True, exist_ok=True)
    source = script.read_text()
    if mode == "flightlog":
        source = to_flightlog(source)
        import flightlog as lib
    else:
        import mlflow as lib
    run_copy = Path.cwd() / script.name
    run_copy.write_text(source)
    sys.argv = [str(run_copy)]
    runpy.run_path(str(run_copy), run_name="__main__")
    if lib.active_run() is not None:
        lib.end_run()
    if mode == "flightlog":
        lib.flush()
    sys.path.insert(0, str(HERE))
    from describe import describe

    state = describe(lib)
    results = Path.cwd() / "results.json"
    state["results"] = json.loads(results.read_text()) if results.exists() else {}
    (out_dir / "state.json").write_text(json.dumps(state, indent=1, sort_keys=True, default=str))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown: frameworks' atexit hooks are not under test here


if __name__ == "__main__":
    sys.exit(main())
