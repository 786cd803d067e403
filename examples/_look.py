"""How every example ends: where the run is stored and how to look at it.

An embedded store (sqlite:///..., a folder) is looked at with `flightlog ui`; a run logged to a
tracking server (an http:// or https:// tracking URI) is already there: open the server's page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import flightlog


def how_to_look(run_id: str) -> None:
    run = flightlog.get_run(run_id)
    uri = flightlog.get_tracking_uri()
    # The command is in the same environment as this interpreter (e.g. .venv/bin/flightlog).
    cli = Path(sys.executable).with_name("flightlog")
    cli = str(cli) if cli.exists() else "flightlog"
    print()
    print(f"Stored in:    {uri}")
    if uri.startswith(("http://", "https://")):
        print(f"Look at it:   open {uri.rstrip('/')}/runs/{run_id}  (the server's web UI)")
    else:
        print(f"Look at it:   {cli} ui      (then open http://127.0.0.1:5000/runs/{run_id})")
    print(f"              {cli} runs list --experiment-id {run.info.experiment_id}")
    print(f"              {cli} runs show {run_id}")
