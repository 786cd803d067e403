"""Chart summaries of long histories, kept per server process and brought up to date lazily.

A chart of a 10M-point history needs ~1,000 buckets, but computing them from the points reads
all 10M rows on every render. A `Rollup` holds the history of one (run, key) cut into *base
buckets* of `size` steps (a power of two, chosen so the history spans at most ~4,096 of them),
each with its count, min, max, sum and first/last timestamp (NaN points left out, as the chart
leaves them out). A render merges base buckets into the chart's buckets: its cost depends on
the number of base buckets, not on the history's length.

Kept up to date lazily: each rollup remembers the highest metric row id it has folded in.
A render first asks for the table's highest id (a primary-key probe); when it moved, only the
rows after the remembered id are aggregated (a primary-key range, as SQL rows are appended with
growing ids) and merged in. When the history's step range outgrows its buckets (more than
`MAX_BASE_BUCKETS`), the rollup is rebuilt with a coarser size. Nothing is written to the
database, so ingestion pays nothing; a server restart rebuilds on first view.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

TARGET_BASE_BUCKETS = 4096
MAX_BASE_BUCKETS = 65536
# Rollups kept per process (least recently used dropped first); each is at most
# MAX_BASE_BUCKETS small lists, typically a few thousand.
CACHE_ENTRIES = 256
# Histories shorter than this are cheap to bucket from the rows directly.
MIN_POINTS = 200_000


@dataclass
class Rollup:
    size: int
    hwm: int = 0  # every row of this history with id <= hwm is folded in
    # bucket index -> [count, min, max, sum, first_ts, last_ts]
    buckets: dict[int, list] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fold(self, rows: Any) -> None:
        for b, count, vmin, vmax, vsum, t0, t1 in rows:
            b, count = int(b), int(count)
            if not count:
                continue
            slot = self.buckets.get(b)
            if slot is None:
                self.buckets[b] = [count, float(vmin), float(vmax), float(vsum), int(t0), int(t1)]
            else:
                slot[0] += count
                slot[1] = min(slot[1], float(vmin))
                slot[2] = max(slot[2], float(vmax))
                slot[3] += float(vsum)
                slot[4] = min(slot[4], int(t0))
                slot[5] = max(slot[5], int(t1))

    def points(self) -> int:
        return sum(slot[0] for slot in self.buckets.values())


def _size_for(lo: int, hi: int) -> int:
    span = hi - lo + 1
    size = 1
    while span / size > TARGET_BASE_BUCKETS:
        size *= 2
    return size


class RollupCache:
    def __init__(self, entries: int = CACHE_ENTRIES):
        self._entries = entries
        self._lock = threading.Lock()
        self._rollups: OrderedDict[tuple, Rollup] = OrderedDict()

    def clear(self) -> None:
        with self._lock:
            self._rollups.clear()

    def has(self, store_key: Any, run_id: str, key: str) -> bool:
        return self.get_cached(store_key, run_id, key) is not None

    def get_cached(self, store_key: Any, run_id: str, key: str) -> Rollup | None:
        with self._lock:
            return self._rollups.get((store_key, run_id, key))

    def get(self, conn: Any, store_key: Any, run_id: str, key: str, lo: int, hi: int) -> Rollup:
        """The rollup of (run, key), built or brought up to date over `conn`."""
        ident = (store_key, run_id, key)
        with self._lock:
            rollup = self._rollups.get(ident)
            if rollup is not None:
                self._rollups.move_to_end(ident)
        if rollup is None or (hi - lo + 1) / rollup.size > MAX_BASE_BUCKETS:
            rollup = Rollup(_size_for(lo, hi))
            with self._lock:
                self._rollups[ident] = rollup
                while len(self._rollups) > self._entries:
                    self._rollups.popitem(last=False)
        with rollup.lock:
            top = _max_id(conn)
            if top is not None and top < rollup.hwm:  # the database was replaced: start over
                rollup.buckets.clear()
                rollup.hwm = 0
            if top is not None and top > rollup.hwm:
                if rollup.hwm == 0 and conn.dialect.name == "sqlite":
                    rows = _aggregate_ranges(conn, run_id, key, rollup.size, lo, hi, top)
                else:
                    rows = _aggregate(conn, run_id, key, rollup.size, rollup.hwm, top)
                rollup.fold(rows)
                rollup.hwm = top
        return rollup


def _max_id(conn: Any) -> int | None:
    cursor = conn.connection.cursor()
    try:
        cursor.execute("SELECT MAX(id) FROM metrics")
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None or row[0] is None else int(row[0])


def _sql_names(conn: Any) -> tuple[Any, str, str]:
    dialect = conn.dialect
    ph = "?" if dialect.paramstyle == "qmark" else "%s"
    false = "false" if dialect.name == "postgresql" else "0"
    return dialect.identifier_preparer.quote, ph, false


def _aggregate(
    conn: Any, run_id: str, key: str, size: int, after_id: int, upto_id: int
) -> list[tuple]:
    """Per base bucket (index, count, min, max, sum, first ts, last ts) of the rows with
    after_id < id <= upto_id, in one GROUP BY pass inside the database."""
    q, ph, false = _sql_names(conn)
    step, value, ts, nan = q("step"), q("value"), q("timestamp"), q("is_nan")
    div = "DIV" if conn.dialect.name in ("mysql", "mariadb") else "/"
    # Floor division on every backend: integer division truncates toward zero.
    bucket = (
        f"CASE WHEN {step} >= 0 THEN {step} {div} {size:d}"
        f" ELSE -((-{step} - 1) {div} {size:d}) - 1 END"
    )
    # An incremental fold reads only the new rows, by primary key: SQLite would otherwise pick
    # the (run, key, ...) index and walk the whole history to find them.
    table = "metrics NOT INDEXED" if conn.dialect.name == "sqlite" and after_id else "metrics"
    statement = (
        f"SELECT {bucket} AS b, COUNT(*), MIN({value}), MAX({value}), SUM({value}),"
        f" MIN({ts}), MAX({ts}) FROM {table} WHERE id > {ph} AND id <= {ph}"
        f" AND run_uuid = {ph} AND {q('key')} = {ph} AND {nan} = {false} GROUP BY b"
    )
    cursor = conn.connection.cursor()
    try:
        cursor.execute(statement, (after_id, upto_id, run_id, key))
        return cursor.fetchall()
    finally:
        cursor.close()


def _aggregate_ranges(
    conn: Any, run_id: str, key: str, size: int, lo: int, hi: int, upto_id: int
) -> list[tuple]:
    """The same as `_aggregate` for a first build on SQLite: one aggregate per base bucket,
    each a range seek on the history index. SQLite cannot group by a function of the step
    without sorting every row first; these seeks read the rows in index order instead."""
    q, ph, false = _sql_names(conn)
    step, value, ts, nan = q("step"), q("value"), q("timestamp"), q("is_nan")
    statement = (
        f"SELECT COUNT(*), MIN({value}), MAX({value}), SUM({value}), MIN({ts}), MAX({ts})"
        f" FROM metrics WHERE run_uuid = {ph} AND {q('key')} = {ph} AND {step} >= {ph}"
        f" AND {step} < {ph} AND {nan} = {false} AND id <= {ph}"
    )
    out = []
    cursor = conn.connection.cursor()
    try:
        for b in range(lo // size, hi // size + 1):
            cursor.execute(statement, (run_id, key, b * size, (b + 1) * size, upto_id))
            row = cursor.fetchone()
            if row[0]:
                out.append((b, *row))
    finally:
        cursor.close()
    return out


def chart_buckets(rollup: Rollup, edges: list[int], axis: str) -> list[tuple]:
    """Merge base buckets into the chart's buckets [edges[i], edges[i+1]): (x_lo, x_hi, min,
    max, mean, count). A base bucket belongs to the chart bucket holding its first step."""
    merged: dict[int, list] = {}
    size = rollup.size
    last = len(edges) - 2
    for b, (count, vmin, vmax, vsum, t0, t1) in rollup.buckets.items():
        start = b * size
        i = min(max(bisect.bisect_right(edges, start) - 1, 0), last)
        slot = merged.get(i)
        if slot is None:
            merged[i] = [count, vmin, vmax, vsum, t0, t1]
        else:
            slot[0] += count
            slot[1] = min(slot[1], vmin)
            slot[2] = max(slot[2], vmax)
            slot[3] += vsum
            slot[4] = min(slot[4], t0)
            slot[5] = max(slot[5], t1)
    out = []
    for i, (count, vmin, vmax, vsum, t0, t1) in sorted(merged.items()):
        x0, x1 = (edges[i], edges[i + 1] - 1) if axis == "step" else (t0, t1)
        out.append((x0, x1, vmin, vmax, vsum / count, count))
    if axis == "time":
        out.sort(key=lambda bkt: bkt[0])
    return out


CACHE = RollupCache()
