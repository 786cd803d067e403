"""The logging queue between the training thread and the store.

The training thread only validates and appends a tuple to an in-memory deque. One daemon writer
thread per process (started on first use) drains it, groups what it finds by run, and hands each
run's data to the store in large batches (one SQL transaction each; for a remote store, chunks
within the store's `max_*_per_batch` limits). Batches are cut by size and by a short time window
(FLIGHTLOG_BATCH_WINDOW, default 0.2 s), so a live UI sees points within a second.

The writer competes with the training thread for the GIL, so it does little per point: points
stay (key, value, timestamp, step) tuples, and a store with ``log_metric_points(run_id, points)``
(SqlStore) takes them as they are. Other stores, the journal and the spool get Metric objects.
A thread that logs in a tight loop would hold the GIL nearly all the time, so while the writer
works, the logging call steps aside for a moment every 2048 points (``_lend``).
When the writer runs out of work it calls ``checkpoint()`` on each local store that took 10,000
entities or more since the last time (SQLite copies its write-ahead log into the database file),
so that this I/O stays out of the commits that later flushes wait for.

Interface (used by TrackingClient):
- ``submit_metric(store, run_id, key, value, timestamp, step)``: the hot path, a tuple append;
- ``submit(store, run_id, metrics, params, tags)``: anything else; raises ParamConflictError in
  the caller when a param conflicts with a value already queued or stored;
- ``write_through(...)``: the synchronous path (``synchronous=True``, FLIGHTLOG_ASYNC_LOGGING=false);
- ``end_run(store, run_id, status, end_time)``: mark a run terminated after its data;
- ``flush(run_id=None, timeout=None) -> bool``: wait until what was queued is stored;
- ``stats() -> dict``: queued, written, retried, spooled, failed (and replayed).

Guarantees:
- order per run is kept; nothing is dropped: a full queue (FLIGHTLOG_QUEUE_SIZE items) blocks
  the caller (backpressure) with a one-time warning;
- a write failing with StoreUnavailableError is retried with backoff for up to
  FLIGHTLOG_RETRY_TIMEOUT seconds (default 1); after that the run's batches go to a local,
  fsync'ed spool (`flightlog.spool`), and while the backend stays down every later batch for that
  store goes there directly. The spool is replayed in order as soon as the backend answers again
  (tried with backoff, up to 30 s apart); `flightlog sync` replays spools of processes that ended
  before that;
- a batch neither the store nor the spool takes (the spool's disk is full too) is held in memory,
  in order, up to FLIGHTLOG_QUEUE_SIZE items, and offered to both again; beyond that, and what is
  still held at exit, is counted as `lost` and reported as an error naming the runs;
- journaled and spooled batches carry a batch id (stores with ``accepts_batch_id`` skip one they
  have seen), so a replay after a SIGKILL stores nothing twice;
- other store errors at write time are logged once per run and kind, and counted as failed;
- after fork() the child starts with an empty queue and no threads: the parent alone writes
  what it had queued;
- `flightlog.lifecycle` flushes at exit, on uncaught exceptions and on SIGTERM, with a deadline
  (FLIGHTLOG_FLUSH_TIMEOUT, default 30 s) after which what is left goes to the spool.

Write-ahead journal (remote stores): for a store whose class sets ``is_remote = True`` (the REST
store does; FLIGHTLOG_JOURNAL=1 turns it on for every store) the writer appends each batch to
``<spool root>/<owner>/journal.jsonl`` and fsyncs it, then hands it to a second thread, the
sender, which sends it and acknowledges it in the journal once the store returns. The writer
never waits on the network, so even while the server is down (or a request hangs) each batching
window reaches the journal: a process killed with SIGKILL loses only what was still in memory,
at most one window. `flightlog sync` sends the unacknowledged journal entries of dead processes
together with their spools, each batch exactly once. Journal and spool records carry the store's
URI (``store.uri``, else the URI `flightlog.store.get_store` built it from).

How a fault test against a real server uses this (tests/queue/ does the same with a locked
SQLite file and FLIGHTLOG_JOURNAL=1): point FLIGHTLOG_SPOOL_DIR at a temporary folder; in a
subprocess, log while the server is stopped or answers 503; SIGKILL the subprocess (or let it
exit); ``flightlog.spool.owner_folders(spool_dir)`` lists the folders left behind and
``flightlog.spool.folder_records(folder)`` what each still holds; start the server, run
``python -m flightlog.cli sync`` and compare the stored points with what the subprocess said it
had logged. A second ``sync`` finds nothing to send.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from itertools import starmap
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from flightlog.entities import Metric, Param, RunTag
from flightlog.exceptions import ParamConflictError, StoreUnavailableError

if TYPE_CHECKING:
    from flightlog.spool import Owner, Record
    from flightlog.store.base import AbstractStore

# Markers in the key slot of a queue item; a metric item has its key (a str) there.
_BATCH = object()
_FLUSH = object()
_END = object()

_metric_fields = attrgetter("key", "value", "timestamp", "step")
# Entities written to a store before the idle writer calls its checkpoint(): a SQLite checkpoint
# syncs the database file, which is not worth doing for every small batch.
_TIDY_AFTER = 10_000
# While the writer works, a thread that logs steps aside for _LEND_S (~0.1 ms with the timer's
# slack) every _LEND_EVERY points: ~50 ns a point, and the writer's SQL runs alongside the
# caller instead of waiting 5 ms for the GIL after each statement (see LoggingQueue._lend).
_LEND_EVERY = 2048
_LEND_S = 0.00005
_DEFAULT_QUEUE_SIZE = 200_000  # items; about 30 MB of tuples at worst
_DRAIN_LIMIT = 50_000  # items taken per writer cycle
_WAKE_BATCH = 5_000  # items that wake the writer before its window is over
_REPLAY_FIRST_DELAY = 0.5
_REPLAY_MAX_DELAY = 30.0
# A local store (SQLite on a full disk) is cheap to try again: it is probed more often.
_REPLAY_MAX_DELAY_LOCAL = 2.0
_SPOOL_RETRY_S = 1.0  # after the spool's disk refused a write


def _env_float(name: str, default: float) -> float:
    from flightlog.config import env_float

    return env_float(name, default)


def _log():
    import logging

    return logging.getLogger("flightlog")


class _Group:
    """One run's data in one writer cycle."""

    __slots__ = ("store", "run_id", "points", "params", "tags", "done")

    def __init__(self, store: AbstractStore, run_id: str):
        self.store = store
        self.run_id = run_id
        self.points: list[tuple] = []  # (key, value, timestamp, step)
        self.params: dict[str, Param] = {}
        self.tags: dict[str, RunTag] = {}  # the last value of a key wins
        self.done = False

    @property
    def size(self) -> int:
        return len(self.points) + len(self.params) + len(self.tags)

    def chunks(self) -> list[tuple]:
        """log_batch calls: Metric objects, within the store's limits."""
        metrics = list(starmap(Metric, self.points))
        params, tags = list(self.params.values()), list(self.tags.values())
        return list(chunk_batch(self.store, metrics, params, tags))


class _EndRequest:
    """A run's final status, written behind its data (used when that data waits in the spool or
    the backend is down, so the status must wait too)."""

    __slots__ = ("store", "run_id", "status", "end_time", "lock", "error", "done")
    size = 1

    def __init__(self, store: AbstractStore, run_id: str, status: str, end_time: int):
        self.store = store
        self.run_id = run_id
        self.status = status
        self.end_time = end_time
        self.lock = threading.Lock()
        self.lock.acquire()
        self.error: BaseException | None = None
        self.done = False


class _Flush:
    """A point in the queue that a flush() caller waits for."""

    __slots__ = ("lock",)

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()


class _Lane:
    """What one delivering thread owns: its counters and its replay schedule. The writer thread
    delivers to local stores; the sender thread to journaled (remote) ones."""

    def __init__(self, remote: bool):
        self.remote = remote
        self.written = self.retried = self.spooled = self.failed = self.replayed = 0
        self.next_replay = 0.0
        self.replay_delay = _REPLAY_FIRST_DELAY
        self.replay_rounds = 0
        # Held around every store call of this lane: fork() waits for it (see _before_fork).
        self.io_lock = threading.Lock()


def chunk_batch(
    store: Any, metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> Iterator[tuple[Sequence[Metric], Sequence[Param], Sequence[RunTag]]]:
    """Split one run's data into log_batch calls within the store's per-request limits."""
    max_m = getattr(store, "max_metrics_per_batch", None) or 100_000
    max_p = getattr(store, "max_params_per_batch", None) or 10_000
    max_t = getattr(store, "max_tags_per_batch", None) or 10_000
    max_all = getattr(store, "max_entities_per_batch", None)
    n_m, n_p, n_t = len(metrics), len(params), len(tags)
    if (
        n_m <= max_m
        and n_p <= max_p
        and n_t <= max_t
        and (max_all is None or n_m + n_p + n_t <= max_all)
    ):
        yield metrics, params, tags
        return
    im = ip = it = 0
    while im < n_m or ip < n_p or it < n_t:
        p = params[ip : ip + max_p]
        t = tags[it : it + max_t]
        room = max_m if max_all is None else max(1, min(max_m, max_all - len(p) - len(t)))
        m = metrics[im : im + room]
        im, ip, it = im + len(m), ip + len(p), it + len(t)
        yield m, p, t


def _store_uri(store: Any) -> str | None:
    """The URI a store answers to, for spool records (`flightlog sync` reconnects with it),
    without its password: spool and journal files never hold one (sync gets it back from the
    tracking URI of its own environment)."""
    from flightlog.rest_client import strip_password

    uri = _full_store_uri(store)
    return strip_password(uri) if uri is not None else None


def _full_store_uri(store: Any) -> str | None:
    uri = getattr(store, "uri", None)
    if not isinstance(uri, str):
        from flightlog import store as stores

        uri = next((u for u, known in list(stores._stores.items()) if known is store), None)
    if not isinstance(uri, str):
        uri = getattr(store, "db_uri", None)
    if not isinstance(uri, str):
        return None
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        # A relative SQLite path: make it absolute, `flightlog sync` may run elsewhere.
        path, _, query = uri[len("sqlite:///") :].partition("?")
        if path and path != ":memory:":
            uri = "sqlite:///" + os.path.abspath(path) + (f"?{query}" if query else "")
    return uri


class LoggingQueue:
    """The process's logging queue and its threads (see the module docstring)."""

    def __init__(self) -> None:
        from flightlog.config import env_flag

        self._max_size = max(1, int(_env_float("FLIGHTLOG_QUEUE_SIZE", _DEFAULT_QUEUE_SIZE)))
        self._wake_batch = min(_WAKE_BATCH, self._max_size)
        self._window = _env_float("FLIGHTLOG_BATCH_WINDOW", 0.2)
        self._retry_timeout = _env_float("FLIGHTLOG_RETRY_TIMEOUT", 1.0)
        self._journal_all = env_flag("FLIGHTLOG_JOURNAL", False)
        self._reset()

    def _reset(self) -> None:
        """Fresh state: at construction and in a forked child."""
        self._q: deque = deque()
        # submit* takes the slow path once len(queue) reaches this: 1 before the writer runs (to
        # start it), the wake threshold while it sleeps, the queue size while it works.
        self._wake_len = 1
        self._thread: threading.Thread | None = None
        self._writer_ident: int | None = None
        self._start_lock = threading.Lock()
        self._inline_lock = threading.Lock()
        # A binary semaphore made of a plain lock, held while nobody asked the writer to wake.
        # Only C-level lock calls: a signal handler that wakes the writer cannot deadlock.
        self._wakeup = threading.Lock()
        self._wakeup.acquire()
        self._flush_pending = False
        # Points queued in batch items since the writer last took: they wake it as single points
        # do (a log_metrics of 10 keys is one item).
        self._batched = 0
        self._busy = False
        self._inflight: list | None = None
        # The sender thread (journaled stores) and its own queue of journaled batches.
        self._outbox: deque = deque()
        self._sender: threading.Thread | None = None
        self._sender_ident: int | None = None
        self._sender_busy = False
        self._sender_wakeup = threading.Lock()
        self._sender_wakeup.acquire()
        self._closed = False
        self._stop = False
        self._deadline: float | None = None
        self._full_warned = False
        # Params already queued or stored, per (store, run): conflicts raise in the caller.
        self._params: dict[tuple[Any, str], dict[str, str]] = {}
        self._params_lock = threading.Lock()
        # Spool state. Keys of local stores belong to the writer, of remote ones to the sender.
        self._owner: Owner | None = None
        self._spooled: dict[tuple[Any, str], str | None] = {}  # (store, run) -> uri
        self._down: set[Any] = set()  # stores whose batches go to the spool directly
        self._local = _Lane(remote=False)
        self._remote = _Lane(remote=True)
        self._seq = 0
        self._seq_lock = threading.Lock()
        # Batch ids are <token>-<seq>: unique across processes (a forked child gets its own).
        self._token = uuid.uuid4().hex[:16]
        # Records that neither the store nor the spool took (the spool's disk is full or
        # unwritable too), per (store, run), oldest first: kept in memory, at most
        # FLIGHTLOG_QUEUE_SIZE entities, and offered again to the spool and the store.
        self._held: dict[tuple[Any, str], list[Record]] = {}
        self._held_lock = threading.Lock()
        self._held_count = 0
        # Entities given up: held beyond the bound, or still held (or unspoolable) at exit.
        self._lost = 0
        self._lost_runs: set[str] = set()
        self._lost_ends: set[str] = set()  # runs whose final status was lost: left RUNNING
        self._spool_error: str | None = None
        # After the spool's disk refused a write, it is tried again only after this moment
        # (monotonic): rewriting everything held for every new batch would stall the pipeline.
        self._spool_retry_at = 0.0
        # Per caller thread: whether its last flush ran out of time (end_run then does not
        # wait a second full timeout for the run's status).
        self._tls = threading.local()
        self._warned: set[tuple[str, str]] = set()
        self._last_error: str | None = None
        self._held_for_fork: list[threading.Lock] = []
        # Stores by id(), for the ids queue items carry (kept alive here so ids stay unique).
        self._stores: dict[int, Any] = {}
        # Entities written to each local store since its last upkeep (see _tidy).
        self._written: dict[Any, int] = {}

    # --- the caller side -------------------------------------------------------------------
    def submit_metric(
        self, store: AbstractStore, run_id: str, key: str, value: float, timestamp: int, step: int
    ) -> None:
        # The store goes in as its id(): a tuple of plain numbers and strings is untracked by
        # the garbage collector, so a long queue does not make every GC pass slower.
        sid = id(store)
        if sid not in self._stores:
            self._stores[sid] = store
        q = self._q
        q.append((sid, run_id, key, value, timestamp, step))
        if len(q) >= self._wake_len:
            self._pressure()

    def submit(
        self,
        store: AbstractStore,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        if params:
            self._check_params(store, run_id, params)
        sid = id(store)
        if sid not in self._stores:
            self._stores[sid] = store
        # Points travel as tuples of plain values, in an item of tuples: the garbage collector
        # stops tracking all of it (params and tags aside). A long queue of tracked objects
        # (Metric objects, lists) makes collections in every thread slower and brings on full
        # ones.
        points = tuple(map(_metric_fields, metrics))
        q = self._q
        q.append((sid, run_id, _BATCH, points, tuple(params), tuple(tags)))
        self._batched += len(points)  # a lost update only wakes the writer early or late
        if len(q) + self._batched >= self._wake_len:
            self._pressure()

    def write_through(
        self,
        store: AbstractStore,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Write now, in the caller's thread, after everything queued for the run."""
        self.flush(run_id)
        if params:
            self._check_params(store, run_id, params)
        for m, p, t in chunk_batch(store, metrics, params, tags):
            store.log_batch(run_id, m, p, t)

    def end_run(self, store: AbstractStore, run_id: str, status: str, end_time: int) -> None:
        """Set a run's final status once its data is through (the caller flushed it). When that
        data waits in the spool, or the backend is down, the status waits there too."""
        self.forget_run(store, run_id)
        # While shutting down, a store call that hangs must not outlast the deadline: the writer
        # makes it, and what is not through by then is spooled. A remote store's call could
        # hang too (a server that accepts and never answers): the sender makes it.
        direct = self._deadline is None and not self._journaled(store)
        if direct and (store, run_id) not in self._spooled and store not in self._down:
            try:
                store.update_run_info(run_id, status, end_time)
                return
            except StoreUnavailableError as exc:
                self._last_error = str(exc)
        request = _EndRequest(store, run_id, status, end_time)
        self._stores.setdefault(id(store), store)
        self._q.append((id(store), run_id, _END, request, None, None))
        self._flush_pending = True
        if not self._ensure_writer():
            self._drain_inline()
        self._wake()
        # The caller (set_terminated) flushed the run first; if that ran out of time, the status
        # gets a moment more, not a second full timeout: end_run's deadline is one timeout.
        wait = (
            1.0
            if getattr(self._tls, "timed_out", False)
            else _env_float("FLIGHTLOG_FLUSH_TIMEOUT", 30.0)
        )
        if not request.lock.acquire(timeout=self._timeout_left(wait)):
            self._warn_once(
                run_id,
                "end",
                f"flightlog: run {run_id} is not marked {status} yet: its data is still on its "
                f"way to the tracking store ({self._last_error or 'slow to answer'}); the status "
                "follows it (behind it in the spool if the store stays away).",
            )
            return
        if request.error is not None:
            raise request.error

    def note_new_run(self, store: AbstractStore, run_id: str) -> None:
        """A run this process just created has no params: its first log_params needs no read
        of the stored ones (a sweep makes a run per trial; the read cost as much as the rest)."""
        with self._params_lock:
            self._params.setdefault((store, run_id), {})

    def forget_run(self, store: AbstractStore, run_id: str) -> None:
        """Drop the run's known params (it ended; a resumed run reloads them from the store)."""
        with self._params_lock:
            self._params.pop((store, run_id), None)

    def _check_params(self, store: AbstractStore, run_id: str, params: Sequence[Param]) -> None:
        with self._params_lock:
            known = self._params.get((store, run_id))
            if known is None:
                known = self._stored_params(store, run_id)
                self._params[(store, run_id)] = known
            for p in params:
                old = known.get(p.key)
                if old is not None and old != p.value:
                    raise ParamConflictError(
                        f"Changing param values is not allowed: param {p.key!r} of run "
                        f"{run_id!r} was already logged with value {old!r}; attempted new "
                        f"value {p.value!r}"
                    )
            for p in params:
                known.setdefault(p.key, p.value)

    @staticmethod
    def _stored_params(store: AbstractStore, run_id: str) -> dict[str, str]:
        try:
            return dict(store.get_run(run_id).data.params)
        except Exception:  # noqa: BLE001 - unknown for now; the store checks again on write
            return {}

    def _pressure(self) -> None:
        """Slow path of submit: start or wake the writer; block while the queue is full, and
        step aside now and then while the writer works."""
        if not self._ensure_writer():
            self._drain_inline()
            return
        self._wake()
        if len(self._q) >= self._max_size:
            self._wait_for_room()
        elif self._busy:
            self._lend()

    def _lend(self) -> None:
        """Let the writer have the GIL for a moment. A thread that logs in a tight loop holds it
        nearly all the time, and the writer, back from each SQL statement (run without the
        GIL), would wait a whole switch interval (5 ms) to get it back: so little of the
        database work would overlap the caller's. Called every _LEND_EVERY points while the
        writer works."""
        if threading.get_ident() in (self._writer_ident, self._sender_ident):
            return
        self._wake_len = self._backlog() + _LEND_EVERY
        time.sleep(_LEND_S)

    def _wait_for_room(self) -> None:
        if threading.get_ident() in (self._writer_ident, self._sender_ident):
            return  # logging from inside a store call: never block a thread on itself
        if not self._full_warned:
            self._full_warned = True
            _log().warning(
                "flightlog: the logging queue is full (%d items): logging calls now wait for the "
                "background writer to catch up (backpressure; nothing is dropped). Set "
                "FLIGHTLOG_QUEUE_SIZE to allow more in memory.",
                self._max_size,
            )
        # Resume at half full: fewer, longer turns between the caller and the writer.
        resume = self._max_size // 2
        q = self._q
        while len(q) > resume:
            thread = self._thread
            if thread is None or not thread.is_alive():
                self._drain_inline()
                return
            self._wake()
            time.sleep(0.0005)

    def _ensure_writer(self) -> bool:
        thread = self._thread
        if thread is not None and thread.is_alive():
            return True
        if not self._start_lock.acquire(timeout=1.0):
            return False
        try:
            thread = self._thread
            if thread is None or not thread.is_alive():
                thread = threading.Thread(target=self._run, name="flightlog-writer", daemon=True)
                thread.start()
                self._thread = thread
            return True
        except RuntimeError:  # interpreter shutting down: no new threads
            return False
        finally:
            self._start_lock.release()

    def _wake(self) -> None:
        self._wake_len = self._max_size
        try:
            self._wakeup.release()
        except RuntimeError:
            pass  # already awake

    # --- flushing ----------------------------------------------------------------------------
    def flush(self, run_id: str | None = None, timeout: float | None = None) -> bool:
        """Wait until everything queued before this call is stored. False when `timeout` ran
        out first, or when some of it (for `run_id`, or any run) waits in the spool or in
        memory. Without `timeout` the wait is bounded all the same, by FLIGHTLOG_FLUSH_TIMEOUT
        (a store call that hangs must not hang the caller)."""
        if threading.get_ident() in (self._writer_ident, self._sender_ident):
            return False  # called from inside a store call: waiting on ourselves would hang
        if timeout is None:
            timeout = _env_float("FLIGHTLOG_FLUSH_TIMEOUT", 30.0)
        finished = self._flush(timeout)
        self._tls.timed_out = not finished
        return finished and not self._has_spooled(run_id)

    def _flush(self, timeout: float | None) -> bool:
        if self._idle():
            return True
        marker = _Flush()
        self._q.append((None, None, _FLUSH, marker, None, None))
        self._flush_pending = True
        if not self._ensure_writer():
            self._drain_inline()
        self._wake()
        return marker.lock.acquire(timeout=self._timeout_left(timeout))

    def _idle(self) -> bool:
        # Checked along the pipeline (queue, writer, outbox, sender): each stage marks itself busy
        # before taking an item and hands it on before clearing the mark.
        return not (self._q or self._busy or self._outbox or self._sender_busy)

    def _timeout_left(self, timeout: float | None) -> float:
        """Seconds to wait (-1: forever), never past the shutdown deadline."""
        if self._deadline is not None:
            left = max(0.0, self._deadline - time.monotonic())
            timeout = left if timeout is None else min(timeout, left)
        return -1 if timeout is None else max(0.0, timeout)

    def _has_spooled(self, run_id: str | None) -> bool:
        spooled = self._spooled
        if not spooled:
            return False
        return run_id is None or any(r == run_id for _, r in list(spooled))

    def _drain_inline(self) -> None:
        """No writer thread (interpreter shutdown): do its work in the caller's thread."""
        if not self._inline_lock.acquire(timeout=5.0):
            return
        try:
            while self._q:
                self._cycle()
        finally:
            self._inline_lock.release()

    def close(self, timeout: float | None = None) -> bool:
        """Flush, then stop the threads (a later submit starts new ones)."""
        flushed = self._flush(timeout)
        self._stop = True
        for thread, wakeup in ((self._thread, self._wakeup), (self._sender, self._sender_wakeup)):
            if thread is not None:
                try:
                    wakeup.release()
                except RuntimeError:
                    pass
                thread.join(None if timeout is None else max(0.0, timeout))
        self._thread = self._sender = None
        self._stop = False
        self._wake_len = 1
        return flushed

    # --- stats -------------------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        queued = 0
        for item in list(self._q):  # list(deque) copies atomically under the GIL
            key = item[2]
            if key.__class__ is str:
                queued += 1
            elif key is _BATCH:
                queued += len(item[3]) + len(item[4]) + len(item[5])
        for action in self._inflight or ():
            queued += 0 if action.done else action.size
        for entry in list(self._outbox):
            if entry[0] == "r":
                queued += sum(r.size for r in entry[3])
        lanes = (self._local, self._remote)
        return {
            "queued": queued,
            "written": sum(lane.written for lane in lanes),
            "retried": sum(lane.retried for lane in lanes),
            "spooled": sum(lane.spooled for lane in lanes),
            "failed": sum(lane.failed for lane in lanes),
            "replayed": sum(lane.replayed for lane in lanes),
            "held": self._held_count,
            "lost": self._lost,
        }

    # --- the writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        self._writer_ident = threading.get_ident()
        while not self._stop:
            try:
                self._step()
            except Exception as exc:  # noqa: BLE001 - the writer must outlive its own bugs
                self._warn_once("writer", type(exc).__name__, f"flightlog writer error: {exc!r}")
                time.sleep(0.05)

    def _step(self) -> None:
        lane = self._local
        if self._spooled and time.monotonic() >= lane.next_replay and self._has_work(lane):
            self._replay(lane)
        q = self._q
        if not q and not self._flush_pending:
            if self._tidy_due() and self._deadline is None:  # (not while the process exits)
                self._tidy()
                return  # look again: more may have come meanwhile
            timeout = None
            if self._spooled and self._has_work(lane):
                timeout = max(0.01, lane.next_replay - time.monotonic())
            self._sleep(1, timeout)
            return
        if (
            self._backlog() < self._wake_batch
            and not self._flush_pending
            and self._deadline is None
        ):
            self._sleep(self._wake_batch, self._window)
        self._cycle()

    def _backlog(self) -> int:
        return len(self._q) + self._batched

    def _tidy_due(self) -> bool:
        return any(n >= _TIDY_AFTER for n in self._written.values())

    def _tidy(self) -> None:
        """Out of work: let the stores that took a good amount of data do their upkeep (a
        SQLite checkpoint) now, rather than inside a commit that a flush waits for."""
        lane = self._local
        for store, n in list(self._written.items()):
            if n < _TIDY_AFTER:
                continue
            del self._written[store]
            checkpoint = getattr(store, "checkpoint", None)
            if checkpoint is None:
                continue
            try:
                with lane.io_lock:
                    checkpoint()
            except Exception as exc:  # noqa: BLE001 - upkeep only: a commit checkpoints later
                message = f"flightlog: could not checkpoint {store!r}: {exc!r}"
                self._warn_once("checkpoint", type(exc).__name__, message)

    def _sleep(self, threshold: int, timeout: float | None) -> None:
        self._wake_len = threshold
        if self._backlog() < threshold and not self._flush_pending and not self._stop:
            self._wakeup.acquire(timeout=-1 if timeout is None else timeout)
        self._wake_len = self._max_size

    def _cycle(self) -> None:
        """Take what is queued, write it run by run, then release the flushes waiting on it."""
        self._busy = True  # before taking items: flush() must not see an empty, idle queue
        pending, self._flush_pending = self._flush_pending, False
        flushes: list[_Flush] = []
        try:
            items = self._take()
            self._wake_len = min(self._max_size, len(self._q) + _LEND_EVERY)  # see _lend
            if pending and self._q:
                self._flush_pending = True  # its marker may be behind what this cycle took
            actions = self._plan(items, flushes)
            self._inflight = actions
            for action in actions:
                if self._closed:
                    break
                if action.__class__ is _Group:
                    self._write_group(action)
                else:
                    self._write_end(action)
        finally:
            for marker in flushes:
                if self._outbox or self._sender_busy:
                    self._post(("f", marker))  # released once the sender is through too
                else:
                    marker.lock.release()
            self._inflight = None
            self._busy = False

    def _take(self) -> list:
        self._batched = 0
        q = self._q
        pop = q.popleft
        items = []
        append = items.append
        try:
            for _ in range(min(len(q), _DRAIN_LIMIT)):
                append(pop())
        except IndexError:
            pass
        return items

    def _plan(self, items: list, flushes: list[_Flush]) -> list:
        """Group items by run, in queue order; a run-end request is a barrier."""
        stores = self._stores
        actions: list = []
        groups: dict[tuple[int, str], _Group] = {}
        last_store = last_run = group = add_point = None
        for item in items:
            key = item[2]
            if key.__class__ is str:  # the common case: one point from submit_metric
                if item[1] is not last_run or item[0] != last_store:
                    last_store, last_run = item[0], item[1]
                    group = groups.get((last_store, last_run))
                    if group is None:
                        group = _Group(stores[last_store], last_run)
                        groups[(last_store, last_run)] = group
                        actions.append(group)
                    add_point = group.points.append
                add_point(item[2:])  # type: ignore[misc]
            elif key is _BATCH:
                last_store, last_run = item[0], item[1]
                group = groups.get((last_store, last_run))
                if group is None:
                    group = _Group(stores[last_store], last_run)
                    groups[(last_store, last_run)] = group
                    actions.append(group)
                add_point = group.points.append
                group.points += item[3]
                for p in item[4]:
                    group.params.setdefault(p.key, p)
                for t in item[5]:
                    group.tags.pop(t.key, None)
                    group.tags[t.key] = t
            elif key is _FLUSH:
                flushes.append(item[3])
            elif key is _END:
                actions.append(item[3])
                groups = {}
                last_store = last_run = group = add_point = None
        return actions

    def _journaled(self, store: Any) -> bool:
        return self._journal_all or bool(getattr(store, "is_remote", False))

    def _write_group(self, group: _Group) -> None:
        store, run_id = group.store, group.run_id
        if self._write_points(group):
            return
        chunks = group.chunks()
        if self._journaled(store):
            # Durable before it is sent; the sender thread does the (possibly slow) sending.
            records = [self._record(store, run_id, c) for c in chunks]
            self._journal(records)
            group.done = True
            self._post(("r", store, run_id, records))
            return
        lane = self._local
        if (store, run_id) in self._spooled or store in self._down:
            records = [self._record(store, run_id, c) for c in chunks]
            self._spool(lane, store, run_id, records, group)
            return
        for i, (m, p, t) in enumerate(chunks):
            if self._send(lane, store, run_id, m, p, t) == "spool":
                records = [self._record(store, run_id, c) for c in chunks[i:]]
                self._spool(lane, store, run_id, records, group)
                return
        group.done = True
        self._wrote(store, group.size)

    def _write_points(self, group: _Group) -> bool:
        """The fast path: metric points only, to a local store that takes them as tuples.
        False when the group must go the general way."""
        store, run_id, points = group.store, group.run_id, group.points
        log_points = getattr(store, "log_metric_points", None)
        if (
            log_points is None
            or not points
            or group.params
            or group.tags
            or self._journaled(store)
            or (store, run_id) in self._spooled
            or store in self._down
        ):
            return False
        call = lambda: log_points(run_id, points)  # noqa: E731
        if self._deliver(self._local, run_id, call, len(points)) == "spool":
            records = [self._record(store, run_id, c) for c in group.chunks()]
            self._spool(self._local, store, run_id, records, group)
        else:
            group.done = True
            self._wrote(store, len(points))
        return True

    def _wrote(self, store: Any, n: int) -> None:
        self._written[store] = self._written.get(store, 0) + n

    def _write_end(self, request: _EndRequest) -> None:
        if self._journaled(request.store):
            self._post(("e", request))
        else:
            self._end(self._local, request)

    # --- the sender thread (journaled stores) ------------------------------------------------
    def _post(self, entry: tuple) -> None:
        self._outbox.append(entry)
        if not self._ensure_sender():
            self._send_inline()
            return
        try:
            self._sender_wakeup.release()
        except RuntimeError:
            pass

    def _ensure_sender(self) -> bool:
        thread = self._sender
        if thread is not None and thread.is_alive():
            return True
        try:
            thread = threading.Thread(target=self._sender_run, name="flightlog-sender", daemon=True)
            thread.start()
        except RuntimeError:  # interpreter shutting down
            return False
        self._sender = thread
        return True

    def _sender_run(self) -> None:
        self._sender_ident = threading.get_ident()
        lane = self._remote
        while not self._stop:
            try:
                if self._spooled and time.monotonic() >= lane.next_replay and self._has_work(lane):
                    self._replay(lane)
                if not self._outbox:
                    timeout = -1.0
                    if self._spooled and self._has_work(lane):
                        timeout = max(0.01, lane.next_replay - time.monotonic())
                    self._sender_wakeup.acquire(timeout=timeout)
                    continue
                self._send_next()
            except Exception as exc:  # noqa: BLE001 - the sender must outlive its own bugs
                self._warn_once("sender", type(exc).__name__, f"flightlog sender error: {exc!r}")
                time.sleep(0.05)

    def _send_inline(self) -> None:
        while self._outbox:
            self._send_next()

    def _send_next(self) -> None:
        self._sender_busy = True  # before taking: flush() must not see an idle pipeline
        try:
            entry = self._outbox.popleft()
        except IndexError:
            self._sender_busy = False
            return
        try:
            kind = entry[0]
            if kind == "r":
                self._deliver_journaled(entry[1], entry[2], entry[3])
            elif kind == "e":
                self._end(self._remote, entry[1])
            else:
                entry[1].lock.release()
        finally:
            self._sender_busy = False

    def _deliver_journaled(self, store: Any, run_id: str, records: list[Record]) -> None:
        lane = self._remote
        # A batch goes out of the journal once it is stored or spooled; one only held in memory
        # stays there too (`flightlog sync` can still send it if this process dies).
        if (store, run_id) in self._spooled or store in self._down:
            if self._spool(lane, store, run_id, records, None):
                self._ack([r.seq for r in records])
            return
        for i, record in enumerate(records):
            outcome = self._send(
                lane, store, run_id, record.metrics, record.params, record.tags, record.batch_id
            )
            if outcome == "spool":
                if self._spool(lane, store, run_id, records[i:], None):
                    self._ack([r.seq for r in records[i:]])
                return
            self._ack([record.seq])

    # --- delivery, shared by both threads ----------------------------------------------------
    def _with_retries(self, lane: _Lane, call: Callable[[], Any]) -> bool:
        """Run a store call, retrying StoreUnavailableError with backoff within the retry
        budget (and the shutdown deadline). False when the store stayed unavailable; any other
        error is raised."""
        delay = 0.05
        give_up = time.monotonic() + self._retry_timeout
        if self._deadline is not None:
            give_up = min(give_up, self._deadline)
        while True:
            try:
                with lane.io_lock:
                    call()
                return True
            except StoreUnavailableError as exc:
                self._last_error = str(exc)
                if self._closed or time.monotonic() + delay > give_up:
                    return False
                lane.retried += 1
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _send(
        self, lane: _Lane, store: Any, run_id: str, m, p, t, batch_id: str | None = None
    ) -> str:
        """Write one chunk: "ok", "spool" (the store stayed unavailable) or "failed"."""
        if batch_id is not None and getattr(store, "accepts_batch_id", False):
            call = lambda: store.log_batch(run_id, m, p, t, batch_id=batch_id)  # noqa: E731
        else:
            call = lambda: store.log_batch(run_id, m, p, t)  # noqa: E731
        return self._deliver(lane, run_id, call, len(m) + len(p) + len(t))

    def _deliver(self, lane: _Lane, run_id: str, call: Callable[[], Any], n: int) -> str:
        """Make one store call of n entities: "ok", "spool" or "failed" (see _send)."""
        try:
            if not self._with_retries(lane, call):
                return "spool"
        except Exception as exc:  # noqa: BLE001 - reported and counted, never raised here
            self._fail(lane, run_id, exc, n)
            return "failed"
        lane.written += n
        return "ok"

    def _end(self, lane: _Lane, request: _EndRequest) -> None:
        store, run_id = request.store, request.run_id
        try:
            if (store, run_id) not in self._spooled and store not in self._down:
                call = lambda: store.update_run_info(run_id, request.status, request.end_time)  # noqa: E731
                if self._with_retries(lane, call):
                    request.done = True
                    return
            record = self._record(store, run_id, ((), (), ()))
            record.end = (request.status, request.end_time)
            self._spool(lane, store, run_id, [record], request)
        except Exception as exc:  # noqa: BLE001 - handed to the caller of end_run
            request.error = exc
            request.done = True
        finally:
            request.lock.release()

    def _fail(self, lane: _Lane, run_id: str, exc: BaseException, n: int) -> None:
        lane.failed += n
        self._warn_once(
            run_id,
            type(exc).__name__,
            f"flightlog: could not store {n} metric points/params/tags of run {run_id}: {exc} "
            "(further failures like this are counted in flightlog.queue_stats()['failed'])",
        )

    def _warn_once(self, scope: str, kind: str, message: str, error: bool = False) -> None:
        if (scope, kind) not in self._warned:
            self._warned.add((scope, kind))
            (_log().error if error else _log().warning)(message)

    # --- spool and journal -------------------------------------------------------------------
    def _record(self, store: Any, run_id: str, chunk: tuple) -> Record:
        from flightlog.spool import Record

        with self._seq_lock:
            self._seq += 1
            seq = self._seq
        m, p, t = chunk
        record = Record(seq, _store_uri(store), run_id, list(m), list(p), list(t))
        record.batch_id = f"{self._token}-{seq}"
        return record

    def _get_owner(self) -> Owner:
        if self._owner is None:
            from flightlog.spool import Owner

            self._owner = Owner()
        return self._owner

    def _journal(self, records: list[Record]) -> None:
        if time.monotonic() < self._spool_retry_at:
            return  # its disk refused a write a moment ago: these go unjournaled
        try:
            self._get_owner().journal_append(records)
        except OSError as exc:
            self._spool_retry_at = time.monotonic() + _SPOOL_RETRY_S
            self._spool_error = str(exc)
            self._warn_once("journal", "OSError", f"flightlog: cannot write the journal: {exc}")
            return
        for record in records:
            record.journaled = True

    def _ack(self, seqs: list[int]) -> None:
        try:
            self._get_owner().journal_ack(seqs)
        except OSError:
            pass  # at worst `flightlog sync` sends the batch once more

    def _spool(
        self, lane: _Lane, store: Any, run_id: str, records: list[Record], action: Any
    ) -> bool:
        """Put records on disk behind what the run has spooled (and held) already. True when
        they are durable; False when the spool could not be written either: then they are held
        in memory (see _hold), and the store counts as down all the same, so later batches do
        not each pay a full retry cycle."""
        key = (store, run_id)
        if time.monotonic() < self._spool_retry_at:
            self._hold(lane, store, run_id, records, None)  # behind what is held already
            if action is not None:
                action.done = True
            return False
        with self._held_lock:
            earlier = self._held.pop(key, None)
            if earlier:
                self._held_count -= sum(r.size for r in earlier)
        if earlier:
            records = earlier + records  # held ones are older: they go first
        n = sum(r.size for r in records)

        def durable() -> None:  # runs under the spool lock: a shutdown sees it atomically
            if action is not None:
                action.done = True
            self._spooled[key] = records[0].uri if records else None
            self._down.add(store)
            lane.spooled += n

        try:
            self._get_owner().spool_append(records, on_durable=durable)
        except OSError as exc:
            self._spool_retry_at = time.monotonic() + _SPOOL_RETRY_S
            self._hold(lane, store, run_id, records, exc)
            if action is not None:
                action.done = True
            return False
        self._spool_retry_at = 0.0
        self._schedule_replay(lane)
        if earlier and lane.remote:
            self._ack([r.seq for r in earlier])
        self._warn_once(
            "spool",
            repr(store),
            f"flightlog: the tracking store is unavailable ({self._last_error}); batches are "
            f"kept in {self._get_owner().dir} and sent when it is back",
        )
        return True

    def _schedule_replay(self, lane: _Lane) -> None:
        now = time.monotonic()
        if lane.next_replay <= now:
            lane.next_replay = now + lane.replay_delay

    def _hold(
        self, lane: _Lane, store: Any, run_id: str, records: list[Record], exc: OSError | None
    ) -> None:
        """Neither the store nor the spool took these records: keep them in memory (oldest
        first, up to FLIGHTLOG_QUEUE_SIZE entities in all), say so loudly, and count what does
        not fit as lost."""
        from flightlog.spool import spool_root

        key = (store, run_id)
        if exc is not None:
            where = f": {exc.filename}" if exc.filename else ""
            self._spool_error = f"{exc.strerror or exc}{where}"
        self._spooled.setdefault(key, records[0].uri if records else None)
        self._down.add(store)
        kept: list[Record] = []
        dropped: list[Record] = []
        with self._held_lock:
            room = self._max_size - self._held_count
            for record in records:
                if record.size <= room:
                    kept.append(record)
                    room -= record.size
                else:
                    dropped.append(record)
            if kept:
                self._held.setdefault(key, []).extend(kept)
                self._held_count += sum(r.size for r in kept)
        self._schedule_replay(lane)
        self._warn_once(
            "held",
            repr(store),
            f"flightlog: cannot store the batches of run {run_id} anywhere: the tracking store "
            f"is unavailable ({self._last_error}) and the spool in {spool_root()} cannot be "
            f"written ({self._spool_error}). Up to {self._max_size} items are kept in memory "
            "and offered again to both (flightlog.queue_stats()['held']); they are lost if the "
            "process ends first.",
            error=True,
        )
        if dropped:
            self._give_up(dropped, "the in-memory bound (FLIGHTLOG_QUEUE_SIZE) was reached")

    def _give_up(self, records: list[Record], why: str) -> None:
        # A journaled record is not lost: it stays in the journal (unacknowledged) for
        # `flightlog sync`, and the exit report counts it with the spool.
        records = [r for r in records if not r.journaled]
        n = sum(r.size for r in records)
        if not n:
            return
        self._lost += n
        for record in records:
            self._lost_runs.add(record.run_id)
            if record.end is not None:
                self._lost_ends.add(record.run_id)
        self._warn_once(
            "lost",
            why,
            f"flightlog: LOST {n} logged items (and counting: flightlog.queue_stats()['lost']) "
            f"that could be stored neither in the tracking store ({self._last_error}) nor in "
            f"the spool ({self._spool_error}): {why}.",
            error=True,
        )

    def _has_work(self, lane: _Lane) -> bool:
        """Whether this lane has spooled runs to replay."""
        return any(self._journaled(store) == lane.remote for store, _ in list(self._spooled))

    def _replay(self, lane: _Lane) -> None:
        """Send this lane's spooled runs in order; stop at the first transient failure."""
        owner = self._get_owner()
        try:
            self._spool_held(lane)
            for key, uri in list(self._spooled.items()):
                store, run_id = key
                if self._journaled(store) != lane.remote:
                    continue
                records = owner.pending_records(uri, run_id)
                for record in records:
                    if self._closed or self._stop:
                        return
                    if not self._replay_one(lane, store, record):
                        return
                    try:
                        owner.mark_replayed(record.seq)
                    except OSError:
                        pass  # a full disk: at worst it is sent again, and its batch id says so
                # Then what only memory holds (the spool could not take it): it is newer.
                held = self._held.get(key)
                while held:
                    if self._closed or self._stop:
                        return
                    record = held[0]
                    if not self._replay_one(lane, store, record):
                        return
                    with self._held_lock:
                        if held and held[0] is record:
                            held.pop(0)
                            self._held_count -= record.size
                    if lane.remote:
                        self._ack([record.seq])
                with self._held_lock:
                    if key in self._held and not self._held[key]:
                        del self._held[key]
                    if key in self._held:
                        return  # more was held meanwhile: the next round sends it
                if not owner.drop_run(uri, run_id, records.offset):
                    return  # more was spooled meanwhile (a shutdown): the next round sends it
                self._spooled.pop(key, None)
            # This lane is through: its stores are back, and a later outage is reported again.
            lane.replay_delay = _REPLAY_FIRST_DELAY
            for store in list(self._down):
                if self._journaled(store) == lane.remote:
                    self._down.discard(store)
                    self._warned.discard(("spool", repr(store)))
        finally:
            lane.replay_rounds += 1

    def _replay_one(self, lane: _Lane, store: Any, record: Record) -> bool:
        """Send one spooled or held record. False when the store is still unavailable (the
        round stops and the next one is scheduled); a refusal is reported and counted."""
        from flightlog.spool import send

        # The store was found down: one attempt tells whether it is back (a remote store's
        # whole HTTP retry cycle on every probe would keep the sender from other work).
        probe = getattr(store, "single_attempt", None)
        try:
            with lane.io_lock, probe() if probe is not None else contextlib.nullcontext():
                send(store, record)
        except StoreUnavailableError as exc:
            self._last_error = str(exc)
            lane.retried += 1
            cap = _REPLAY_MAX_DELAY if lane.remote else _REPLAY_MAX_DELAY_LOCAL
            lane.replay_delay = min(lane.replay_delay * 2, cap)
            if self._deadline is not None:
                lane.replay_delay = min(lane.replay_delay, 0.5)
            lane.next_replay = time.monotonic() + lane.replay_delay
            return False
        except Exception as exc:  # noqa: BLE001 - refused for good: report, go on
            self._fail(lane, record.run_id, exc, record.size)
        else:
            lane.replayed += record.size
            if record.end is None:
                lane.written += record.size
        return True

    def _spool_held(self, lane: _Lane) -> None:
        """Move this lane's held records to the spool once it can be written again (they are
        safer on disk than in memory while the store stays down)."""
        for key in list(self._held):
            store, run_id = key
            if self._journaled(store) != lane.remote:
                continue
            with self._held_lock:
                records = self._held.pop(key, None)
                if not records:
                    continue
                n = sum(r.size for r in records)
                self._held_count -= n
            try:
                self._get_owner().spool_append(records)
            except OSError:
                self._spool_retry_at = time.monotonic() + _SPOOL_RETRY_S
                with self._held_lock:
                    self._held[key] = records + self._held.get(key, [])
                    self._held_count += n
                return  # still unwritable: no use trying the others now
            self._spool_retry_at = 0.0
            lane.spooled += n
            if lane.remote:
                self._ack([r.seq for r in records])

    # --- shutdown ----------------------------------------------------------------------------
    def begin_shutdown(self, timeout: float | None = None) -> bool:
        """Start the exit sequence: from now on every wait ends by the deadline. Returns whether
        everything queued was written or spooled in time."""
        if timeout is None:
            timeout = _env_float("FLIGHTLOG_FLUSH_TIMEOUT", 30.0)
        if self._deadline is None:
            self._deadline = time.monotonic() + max(0.0, timeout)
        return self._flush(None)

    def end_shutdown(self) -> None:
        """Finish the exit sequence: one more replay of the spool (the backend may be back),
        then spool whatever is still in memory, and say once how much is left and where."""
        self._last_replay_round()
        if not self._idle():
            self._abandon()
        self._spool_held_at_exit()
        self._report_spool()
        self._report_lost()

    def _last_replay_round(self) -> None:
        lanes = [lane for lane in (self._local, self._remote) if self._has_work(lane)]
        if not lanes or self._deadline is None:
            return
        rounds = [lane.replay_rounds for lane in lanes]
        for lane in lanes:
            lane.next_replay = 0.0
        self._wake()
        try:
            self._sender_wakeup.release()
        except RuntimeError:
            pass
        while time.monotonic() < self._deadline:
            if all(lane.replay_rounds > r for lane, r in zip(lanes, rounds, strict=True)):
                return
            if not any(t is not None and t.is_alive() for t in (self._thread, self._sender)):
                return
            time.sleep(0.01)

    def _abandon(self) -> None:
        """The deadline passed with data still in memory: spool it from this thread. Batches in
        the sender's outbox are in the journal already; only their run-end requests are not."""
        self._closed = True
        flushes: list[_Flush] = []
        actions = [a for a in (self._inflight or ()) if not a.done]
        actions += self._plan(self._take(), flushes)
        records: list[Record] = []
        for entry in list(self._outbox):
            if entry[0] == "e" and not entry[1].done:
                actions.append(entry[1])
            elif entry[0] == "f":
                flushes.append(entry[1])
            elif entry[0] == "r":
                # Not in the journal (it could not be written): only this copy is left.
                records += [r for r in entry[3] if not r.journaled]
        for action in actions:
            if action.__class__ is _Group:
                records += [self._record(action.store, action.run_id, c) for c in action.chunks()]
            else:
                record = self._record(action.store, action.run_id, ((), (), ()))
                record.end = (action.status, action.end_time)
                records.append(record)
        if records:
            try:
                if self._get_owner().spool_append(records, timeout=5.0):
                    self._local.spooled += sum(r.size for r in records)
                else:
                    self._give_up(records, "the spool stayed busy past the exit deadline")
            except OSError as exc:
                self._spool_error = str(exc)
                self._give_up(records, "the process ended and the spool could not be written")
        for marker in flushes:
            try:
                marker.lock.release()
            except RuntimeError:
                pass

    def checkpoint_stores(self) -> None:
        """At a clean exit: have each local store this process used fold its write-ahead log
        into the database file (SQLite: the .db alone then holds everything)."""
        from flightlog import store as stores

        seen: set[int] = set()
        for store in [*self._stores.values(), *list(stores._stores.values())]:
            if id(store) in seen or getattr(store, "is_remote", False):
                continue
            seen.add(id(store))
            checkpoint = getattr(store, "checkpoint", None)
            if checkpoint is None:
                continue
            try:
                checkpoint(final=True)
            except TypeError:
                continue  # a store whose checkpoint takes no arguments: its own business
            except Exception as exc:  # noqa: BLE001 - the data is committed (in the WAL) anyway
                _log().warning("flightlog: could not checkpoint %r at exit: %s", store, exc)

    def _spool_held_at_exit(self) -> None:
        """One last try to put what memory holds on disk; what still does not fit is lost."""
        if not self._held:
            return
        self._closed = True  # the lane threads stop replaying: these records are ours now
        with self._held_lock:
            held, self._held = self._held, {}
            self._held_count = 0
        records = [r for rs in held.values() for r in rs]
        if not records:
            return
        try:
            ok = self._get_owner().spool_append(records, timeout=5.0)
        except OSError as exc:
            self._spool_error = str(exc)
            ok = False
        if ok:
            self._local.spooled += sum(r.size for r in records)
        else:
            self._give_up(records, "the process ended while they were held in memory")

    def _report_lost(self) -> None:
        """The loud last word on what could be stored nowhere (stderr through logging)."""
        if not self._lost:
            return
        runs = sorted(self._lost_runs)
        shown = ", ".join(runs[:10]) + (f" and {len(runs) - 10} more" if len(runs) > 10 else "")
        message = (
            f"flightlog: {self._lost} logged items (metric points, params, tags, run statuses) "
            f"of run(s) {shown} could NOT be stored anywhere and are LOST: the tracking store "
            f"was unavailable ({self._last_error}) and the spool in {self._spool_root()} could "
            f"not be written ({self._spool_error})."
        )
        if self._lost_ends:
            ended = ", ".join(sorted(self._lost_ends)[:10])
            message += (
                f" Run(s) {ended} stay RUNNING in the tracking store: their final status was "
                "among the lost items."
            )
        _log().error(message)

    @staticmethod
    def _spool_root() -> str:
        from flightlog.spool import spool_root

        return str(spool_root())

    def _report_spool(self) -> None:
        owner = self._owner
        if owner is None or not owner.exists():
            return
        from flightlog.spool import count_folder

        entities, runs = count_folder(owner.dir)
        if not entities:
            owner.remove()  # nothing left: no folder for `flightlog sync` to look at
            self._owner = None
            return
        _log().warning(
            "flightlog: %d logged items (metric points, params, tags, run statuses) of %d run(s) "
            "could not be sent to the tracking store%s and were saved in %s; run `flightlog "
            "sync` to send them.",
            entities,
            runs,
            f" ({self._last_error})" if self._last_error else "",
            owner.dir,
        )

    # --- fork --------------------------------------------------------------------------------
    def _before_fork(self) -> None:
        """Let a store call in progress finish first: SQLite keeps lock state per process, and
        a child forked in the middle of a write transaction finds the database locked forever."""
        self._held_for_fork = [
            lane.io_lock
            for lane in (self._local, self._remote)
            if threading.get_ident() not in (self._writer_ident, self._sender_ident)
            and lane.io_lock.acquire(timeout=5.0)
        ]

    def _after_fork_in_parent(self) -> None:
        for lock in self._held_for_fork:
            lock.release()
        self._held_for_fork = []

    def _after_fork_in_child(self) -> None:
        """The child gets a fresh queue and no threads; the parent writes what it queued."""
        owner = self._owner
        if owner is not None:
            owner.abandon_after_fork()
        self._reset()


_queue = LoggingQueue()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_queue._before_fork,
        after_in_parent=_queue._after_fork_in_parent,
        after_in_child=_queue._after_fork_in_child,
    )


def get_logging_queue() -> LoggingQueue:
    return _queue
