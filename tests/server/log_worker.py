"""A training-loop stand-in run as a subprocess by the load and fault tests.

    python log_worker.py URL EXPERIMENT_ID NAME POINTS [SLEEP_EVERY SLEEP_S]

Logs POINTS values of metric "loss" at steps 0..POINTS-1 into a new run through flightlog's
fluent API (the async queue), optionally pausing SLEEP_S every SLEEP_EVERY points, then ends
the run and waits (at most 120 s) until everything is stored. Prints JSON lines: {"run_id": ...} first, {"logged": n} now and then, and finally
{"done": true, "stats": ...}. Any exception from the logging calls fails the process.
"""

from __future__ import annotations

import json
import sys
import time

import flightlog


def main() -> int:
    url, experiment_id, name, points = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    sleep_every = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    sleep_s = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    flightlog.set_tracking_uri(url)
    with flightlog.start_run(experiment_id=experiment_id, run_name=name) as run:
        print(json.dumps({"run_id": run.info.run_id}), flush=True)
        for step in range(points):
            flightlog.log_metric("loss", 1.0 / (step + 1), step=step)
            if sleep_every and step % sleep_every == sleep_every - 1:
                print(json.dumps({"logged": step + 1}), flush=True)
                time.sleep(sleep_s)
    # Batches spooled during an outage are replayed by the queue's writer once the server is
    # back; flush() answers False while some still wait in the spool.
    deadline = time.monotonic() + 120
    flushed = flightlog.flush(timeout=120)
    while not flushed and time.monotonic() < deadline:
        time.sleep(0.5)
        flushed = flightlog.flush(timeout=max(0.0, deadline - time.monotonic()))
    print(json.dumps({"done": True, "flushed": flushed, "stats": flightlog.queue_stats()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
