"""Run searches with many AND-ed param clauses: flightlog's store and MLflow's, side by side.

    python benchmarks/bench_search_filters.py [--quick] [--postgres URI] [--mlflow-max 100]

Issue 12 item 9: with one subquery per clause, 150 AND-ed `params.pK = 'a'` clauses over 3 runs
took 32 s on PostgreSQL, mostly planning. flightlog now compiles the clauses of one AND/OR on
an entity table into one grouped lookup. For each clause count this prints flightlog's time
(median of 3) and, up to --mlflow-max clauses, MLflow 3.17.2's SqlAlchemyStore on a database of
the same shape, with the ratio. MLflow's queries run under a 120 s statement timeout so that a
slow plan cannot hang the benchmark ("timeout" is printed then).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid

DEFAULT_PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def _fresh_database(admin_uri: str) -> tuple[str, object]:
    import sqlalchemy as sa

    name = f"bench_filters_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_uri, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(admin_uri).set(database=name)
    return url.render_as_string(hide_password=False), (admin, name)


def _drop(handle) -> None:
    admin, name = handle
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _filter(n: int) -> str:
    return " AND ".join(f"params.p{i} = 'a'" for i in range(n))


def _time(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_flightlog(uri: str, counts: list[int]) -> dict[int, float]:
    from flightlog.entities import Param
    from flightlog.store.sql import SqlStore

    store = SqlStore(uri, default_artifact_root="file:///tmp/bench", statement_timeout_s=120)
    exp = store.create_experiment("filters")
    for value in ("a", "a", "b"):
        run = store.create_run(exp, "bench", 0, [], None)
        params = [Param(f"p{i}", value) for i in range(max(counts))]
        for start in range(0, len(params), 100):
            store.log_batch(run.info.run_id, params=params[start : start + 100])
    out = {}
    for n in counts:
        out[n] = _time(lambda n=n: store.search_runs([exp], _filter(n)))
    store.close()
    return out


def bench_mlflow(uri: str, counts: list[int]) -> dict[int, float | None]:
    from mlflow.entities import Param, ViewType
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    sep = "&" if "?" in uri else "?"
    timed_uri = f"{uri}{sep}options=-c%20statement_timeout%3D120000"
    store = SqlAlchemyStore(timed_uri, tempfile.mkdtemp())
    exp = store.create_experiment("filters")
    for value in ("a", "a", "b"):
        run = store.create_run(exp, "bench", 0, [], "r")
        params = [Param(f"p{i}", value) for i in range(max(counts))]
        for start in range(0, len(params), 100):
            store.log_batch(run.info.run_id, [], params[start : start + 100], [])
    out: dict[int, float | None] = {}
    for n in counts:
        try:
            out[n] = _time(
                lambda n=n: store.search_runs([exp], _filter(n), ViewType.ACTIVE_ONLY, 1000),
                repeats=1,
            )
        except Exception as exc:  # noqa: BLE001 - a statement timeout or a planner limit
            print(f"  mlflow, {n} clauses: {type(exc).__name__}", file=sys.stderr)
            out[n] = None
    store.engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50, 100 and 200 clauses only")
    parser.add_argument("--postgres", default=DEFAULT_PG, help="admin URI of a PostgreSQL server")
    parser.add_argument(
        "--mlflow-max", type=int, default=100, help="largest clause count tried on MLflow"
    )
    args = parser.parse_args()
    counts = [50, 100, 200] if args.quick else [25, 50, 100, 150, 200, 300, 500]

    fl_uri, fl_handle = _fresh_database(args.postgres)
    ml_uri, ml_handle = _fresh_database(args.postgres)
    try:
        flightlog_times = bench_flightlog(fl_uri, counts)
        mlflow_times = bench_mlflow(ml_uri, [n for n in counts if n <= args.mlflow_max])
    finally:
        _drop(fl_handle)
        _drop(ml_handle)

    print("AND-ed param clauses over 3 runs on PostgreSQL (search_runs, seconds)")
    print(f"{'clauses':>8} {'flightlog':>10} {'mlflow':>10} {'mlflow/flightlog':>17}")
    for n in counts:
        fl = flightlog_times[n]
        ml = mlflow_times.get(n)
        ml_text = "-" if n not in mlflow_times else ("timeout" if ml is None else f"{ml:.3f}")
        ratio = f"{ml / fl:.1f}x" if ml else "-"
        print(f"{n:>8} {fl:>10.3f} {ml_text:>10} {ratio:>17}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
