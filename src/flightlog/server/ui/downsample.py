"""A metric history reduced to what a chart of a given width can show.

A history of up to `2 * width` points is sent as it is. A longer one is cut into `width` buckets
along the x axis (step or wall time) and each bucket keeps its min, max, mean and count, so the
chart draws the mean line inside the min/max band: spikes stay visible, and a million-point
history costs the browser a thousand buckets.

On a SQL store the reduction runs in the database:
- buckets are equal step ranges, one aggregate query each, a range seek on the
  (run_uuid, key, step, timestamp) index, with no sort and no rows sent back; on the time axis
  each bucket is placed at the wall time its points span (steps and time advance together in
  training, and this keeps the index doing the work);
- a history logged without steps (one step value) is bucketed by time in one GROUP BY pass.
Any other store streams the history page by page and reduces it in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from flightlog.exceptions import InvalidParameterError

MIN_WIDTH = 10
MAX_WIDTH = 4000
AXES = ("step", "time")
_STREAM_PAGE = 50_000


@dataclass
class Series:
    """What the chart gets. `points` are (x, y) with y None for NaN; `buckets` are
    (x_lo, x_hi, min, max, mean, count). Exactly one of them is filled."""

    key: str
    axis: str
    total: int
    points: list[tuple[int, float | None]] = field(default_factory=list)
    buckets: list[tuple[float, float, float, float, float, int]] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        return bool(self.buckets)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "x": self.axis,
            "total": self.total,
            "sampled": self.sampled,
        }
        if self.sampled:
            out["buckets"] = [list(b) for b in self.buckets]
        else:
            out["points"] = [list(p) for p in self.points]
        return out


def check_request(axis: str, width: int) -> tuple[str, int]:
    if axis not in AXES:
        raise InvalidParameterError(f"x must be one of {', '.join(AXES)}, got {axis!r}")
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise InvalidParameterError(
            f"width must be between {MIN_WIDTH} and {MAX_WIDTH} pixels, got {width}"
        )
    return axis, width


def metric_series(
    store: Any, run_id: str, key: str, axis: str = "step", width: int = 800
) -> Series:
    """The history of `key` in run `run_id`, reduced for a chart `width` pixels wide."""
    axis, width = check_request(axis, width)
    store.get_run(run_id)  # unknown run -> RunNotFoundError (404), before any heavier work
    from flightlog.store.sql import SqlStore

    if isinstance(store, SqlStore):
        return _sql_series(store, run_id, key, axis, width)
    return _streamed_series(store, run_id, key, axis, width)


def _finite(value: float) -> float:
    # Stored +/-inf are clipped to +/-float max already; guard other stores the same way.
    if math.isinf(value):
        return math.copysign(1.7976931348623157e308, value)
    return value


# --- SQL ---------------------------------------------------------------------------------------


def _sql_series(store: Any, run_id: str, key: str, axis: str, width: int) -> Series:
    import sqlalchemy as sa

    from flightlog.store import dbschema as db

    m = db.metrics
    column = m.c.step if axis == "step" else m.c.timestamp
    of_metric = sa.and_(m.c.run_uuid == run_id, m.c.key == key)
    raw_limit = 2 * width
    with store._read() as conn:
        # "More than raw_limit points?" costs an index probe, unlike COUNT(*) over the history.
        probe = sa.select(m.c.id).where(of_metric).limit(1).offset(raw_limit)
        if conn.execute(probe).first() is None:
            return _raw_series(conn, key, axis, of_metric, column)
        # Both ends of the step range by index seeks (MIN and MAX together would scan it).
        step = m.c.step
        first = sa.select(step).where(of_metric).order_by(step.asc()).limit(1)
        last = sa.select(step).where(of_metric).order_by(step.desc()).limit(1)
        lo, hi = int(conn.execute(first).scalar_one()), int(conn.execute(last).scalar_one())
        if axis == "time" and lo == hi:
            # Every point at one step (logged without steps): only time tells them apart.
            buckets = _grouped_buckets(conn, of_metric, m.c.timestamp, width)
        else:
            buckets = _rollup_buckets(store, conn, run_id, key, lo, hi, width, axis)
            if buckets is None:
                buckets = _step_buckets(conn, run_id, key, lo, hi, width, axis)
    total = sum(b[5] for b in buckets)  # NaN points are not drawn, nor counted, once sampled
    return Series(key, axis, total, buckets=buckets)


def _raw_series(conn: Any, key: str, axis: str, of_metric: Any, column: Any) -> Series:
    import sqlalchemy as sa

    from flightlog.store import dbschema as db

    m = db.metrics
    query = (
        sa.select(column, m.c.value, m.c.is_nan)
        .where(of_metric)
        .order_by(m.c.step, m.c.timestamp, m.c.id)
    )
    points = [
        (int(x), None if is_nan else _finite(float(value)))
        for x, value, is_nan in conn.execute(query)
    ]
    if axis == "time":
        points.sort(key=lambda p: p[0])
    return Series(key, axis, len(points), points=points)


def _rollup_buckets(
    store: Any, conn: Any, run_id: str, key: str, lo: int, hi: int, width: int, axis: str
) -> list[tuple] | None:
    """Chart buckets of a long history from its cached rollup (see rollups.py); None for a
    history of fewer than rollups.MIN_POINTS points, which the per-bucket queries serve well.
    The chart's buckets are whole runs of base buckets, so every figure is exact."""
    from flightlog.server.ui import rollups

    if not rollups.CACHE.has(id(store), run_id, key) and not _longer_than(
        conn, run_id, key, rollups.MIN_POINTS
    ):
        return None
    rollup = rollups.CACHE.get(conn, id(store), run_id, key, lo, hi)
    size = rollup.size
    first = (lo // size) * size
    per = max(1, -(-(hi - first + 1) // (width * size)))  # base buckets per chart bucket
    edges = list(range(first, hi + 1, per * size)) + [hi + 1]
    buckets = rollups.chart_buckets(rollup, edges, axis)
    return [
        (
            max(x0, lo) if axis == "step" else x0,
            min(x1, hi) if axis == "step" else x1,
            _finite(vmin),
            _finite(vmax),
            _finite(mean),
            count,
        )
        for x0, x1, vmin, vmax, mean, count in buckets
    ]


def _longer_than(conn: Any, run_id: str, key: str, n: int) -> bool:
    import sqlalchemy as sa

    from flightlog.store import dbschema as db

    m = db.metrics
    probe = sa.select(m.c.id).where(m.c.run_uuid == run_id, m.c.key == key).limit(1).offset(n)
    return conn.execute(probe).first() is not None


def _bucket_edges(lo: int, hi: int, width: int) -> list[int]:
    """width + 1 integer edges from lo to hi + 1 (half-open buckets); fewer when the range is
    narrower than the width, since an integer axis cannot be cut finer than one unit."""
    span = hi - lo + 1
    n = max(1, min(width, span))
    edges = [lo + (span * i) // n for i in range(n + 1)]
    return sorted(set(edges))


def _step_buckets(
    conn: Any, run_id: str, key: str, lo: int, hi: int, width: int, axis: str
) -> list[tuple]:
    """Buckets of equal step ranges: one aggregate per bucket, each an index range seek, run
    through the driver's cursor (per statement, SQLAlchemy's execute costs as much as the
    database's work on a small bucket). On the time axis each bucket spans the wall time of its
    points (the timestamps ride along in the index), so one pass serves both axes.
    NaN points are stored as 0.0 flagged is_nan: the rare bucket holding one is read again
    without them, so the common case stays one query per bucket."""
    dialect = conn.dialect
    q = dialect.identifier_preparer.quote
    ph = "?" if dialect.paramstyle == "qmark" else "%s"
    value, step, nan, ts = q("value"), q("step"), q("is_nan"), q("timestamp")
    select = (
        f"SELECT MIN({value}), MAX({value}), SUM({value}), COUNT(*), SUM(CASE WHEN {nan} THEN 1"
        f" ELSE 0 END), MIN({ts}), MAX({ts}) FROM metrics WHERE run_uuid = {ph} AND {q('key')} = {ph}"
        f" AND {step} >= {ph} AND {step} < {ph}"
    )
    without_nan = select + f" AND {nan} = {'false' if dialect.name == 'postgresql' else '0'}"
    edges = _bucket_edges(lo, hi, width)
    out = []
    cursor = conn.connection.cursor()
    try:
        for left, right in zip(edges[:-1], edges[1:], strict=True):
            cursor.execute(select, (run_id, key, left, right))
            vmin, vmax, vsum, count, nans, t0, t1 = cursor.fetchone()
            if nans:
                cursor.execute(without_nan, (run_id, key, left, right))
                vmin, vmax, vsum, count, _, t0, t1 = cursor.fetchone()
            if count:
                x0, x1 = (left, right - 1) if axis == "step" else (int(t0), int(t1))
                out.append(
                    (
                        x0,
                        x1,
                        _finite(float(vmin)),
                        _finite(float(vmax)),
                        _finite(float(vsum) / count),
                        int(count),
                    )
                )
    finally:
        cursor.close()
    if axis == "time":
        out.sort(key=lambda b: b[0])
    return out


def _grouped_buckets(conn: Any, of_metric: Any, column: Any, width: int) -> list[tuple]:
    """Buckets of equal ranges of `column`, in one GROUP BY pass."""
    import sqlalchemy as sa

    from flightlog.store import dbschema as db

    m = db.metrics
    ends = sa.select(sa.func.min(column), sa.func.max(column)).where(of_metric)
    lo, hi = (int(v) for v in conn.execute(ends).one())
    span = hi - lo + 1
    n = max(1, min(width, span))
    scaled = (column - lo) * n / float(span)
    # CAST truncates on SQLite (exact floor here: the value is never negative); elsewhere CAST
    # may round, so use FLOOR.
    if conn.dialect.name == "sqlite":
        bucket = sa.cast(scaled, sa.Integer)
    else:
        bucket = sa.cast(sa.func.floor(scaled), sa.BigInteger)
    bucket = bucket.label("bucket")
    query = (
        sa.select(
            bucket,
            sa.func.min(m.c.value),
            sa.func.max(m.c.value),
            sa.func.sum(m.c.value),
            sa.func.count(),
        )
        .where(of_metric, m.c.is_nan == sa.false())
        .group_by(bucket)
        .order_by(bucket)
    )
    out = []
    for b, vmin, vmax, vsum, count in conn.execute(query):
        b = min(int(b), n - 1)
        left = lo + (span * b) // n
        right = lo + (span * (b + 1)) // n - 1
        out.append(
            (
                left,
                max(left, right),
                _finite(float(vmin)),
                _finite(float(vmax)),
                _finite(float(vsum) / count),
                int(count),
            )
        )
    return out


# --- any store ---------------------------------------------------------------------------------


def _streamed_series(store: Any, run_id: str, key: str, axis: str, width: int) -> Series:
    """Read the history in pages, keeping at most 2 * width raw points; past that, switch to
    buckets over the range seen so far, re-bucketing as the range grows."""
    points: list[tuple[int, float | None]] = []
    token = None
    while True:
        page = store.get_metric_history(run_id, key, max_results=_STREAM_PAGE, page_token=token)
        for metric in page:
            x = metric.step if axis == "step" else metric.timestamp
            value = metric.value
            points.append((int(x), None if value != value else _finite(float(value))))
        token = getattr(page, "token", None)
        if not token:
            break
    if axis == "time":
        points.sort(key=lambda p: p[0])
    if len(points) <= 2 * width:
        return Series(key, axis, len(points), points=points)
    finite = [p for p in points if p[1] is not None]
    if not finite:
        return Series(key, axis, len(points), points=[])
    lo = min(p[0] for p in finite)
    hi = max(p[0] for p in finite)
    edges = _bucket_edges(lo, hi, width)
    import bisect

    acc: dict[int, list[float]] = {}
    for x, y in finite:
        i = bisect.bisect_right(edges, x) - 1
        i = min(max(i, 0), len(edges) - 2)
        slot = acc.get(i)
        if slot is None:
            acc[i] = [y, y, y, 1]  # type: ignore[list-item]
        else:
            if y < slot[0]:  # type: ignore[operator]
                slot[0] = y  # type: ignore[assignment]
            if y > slot[1]:  # type: ignore[operator]
                slot[1] = y  # type: ignore[assignment]
            slot[2] += y  # type: ignore[operator]
            slot[3] += 1
    buckets = [
        (edges[i], edges[i + 1] - 1, s[0], s[1], s[2] / s[3], int(s[3]))
        for i, s in sorted(acc.items())
    ]
    return Series(key, axis, len(points), buckets=buckets)
