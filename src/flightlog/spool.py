"""The local, durable side of the logging queue: a spool for batches the backend did not take,
and a write-ahead journal for batches on their way to a remote backend.

Layout under the spool root (``$FLIGHTLOG_SPOOL_DIR``, else ``$XDG_CACHE_HOME/flightlog/spool``,
else ``~/.cache/flightlog/spool``)::

    <root>/<owner>/            one folder per process that ever needed one ("owner")
        owner.json             pid, host, start time, command line (for people and for `sync`)
        lock                   flock'ed by the owner while it lives (the kernel drops the lock
                               when the process dies, even by SIGKILL)
        journal.jsonl          write-ahead journal: batches sent to a remote store, not yet acked
        spool-<run>-<uri>.jsonl  one append-only file per run: batches waiting for the backend
        replayed               sequence numbers already replayed (so nothing is sent twice)

Every batch is one JSON line, a `Record`, carrying its store URI, run id and a sequence number
unique within the owner. Replaying an owner folder (the live writer does it for its own folder,
`flightlog sync` for folders of dead processes) merges journal and spool records per run, sorts
them by sequence number, skips the ones already replayed or acknowledged, and sends the rest in
order. Files are written with os.write on unbuffered descriptors and fsync'ed, so a forked child
can never flush a parent's buffer a second time.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import json
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flightlog.entities import Metric, Param, RunTag

try:  # POSIX; elsewhere dead owners are found by pid
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FORMAT_VERSION = 1
JOURNAL_NAME = "journal.jsonl"
REPLAYED_NAME = "replayed"
OWNER_NAME = "owner.json"
LOCK_NAME = "lock"
FILE_MODE = 0o600  # spool and journal lines hold params, tags and metrics


def spool_root() -> Path:
    """Where spools and journals live (read each time: tests and users may change the env)."""
    configured = os.environ.get("FLIGHTLOG_SPOOL_DIR")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "flightlog" / "spool"


@dataclass
class Record:
    """One batch for one run (or, with `end`, the run's final status), as stored on disk."""

    seq: int
    uri: str | None
    run_id: str
    metrics: list[Metric] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    tags: list[RunTag] = field(default_factory=list)
    end: tuple[str, int] | None = None  # (status, end_time) for a run-termination record
    # The id the store remembers the batch by (stores with `accepts_batch_id`): a batch sent
    # again after its answer was lost (a SIGKILL before the journal ack, then `flightlog sync`)
    # is stored once.
    batch_id: str | None = None
    # In memory only: whether this record reached the journal (then `flightlog sync` can send
    # it even if this process never does).
    journaled: bool = field(default=False, compare=False, repr=False)

    @property
    def size(self) -> int:
        """Entities in the record (a termination counts as one)."""
        return len(self.metrics) + len(self.params) + len(self.tags) + (1 if self.end else 0)

    def encode(self) -> bytes:
        # "seq" first: readers find the order of a file without decoding whole lines.
        d: dict = {"seq": self.seq, "v": FORMAT_VERSION, "uri": self.uri, "run": self.run_id}
        if self.metrics:
            d["m"] = [[m.key, m.value, m.timestamp, m.step] for m in self.metrics]
        if self.params:
            d["p"] = [[p.key, p.value] for p in self.params]
        if self.tags:
            d["t"] = [[t.key, t.value] for t in self.tags]
        if self.end:
            d["end"] = list(self.end)
        if self.batch_id:
            d["b"] = self.batch_id
        # NaN and +/-inf are valid metric values; Python's json writes and reads them back.
        return (json.dumps(d, separators=(",", ":")) + "\n").encode("utf-8")

    @classmethod
    def decode(cls, d: dict) -> Record:
        return cls(
            seq=int(d["seq"]),
            uri=d.get("uri"),
            run_id=d["run"],
            metrics=[Metric(k, float(v), int(t), int(s)) for k, v, t, s in d.get("m", ())],
            params=[Param(k, v) for k, v in d.get("p", ())],
            tags=[RunTag(k, v) for k, v in d.get("t", ())],
            end=(d["end"][0], int(d["end"][1])) if d.get("end") else None,
            batch_id=d.get("b"),
        )


class Damage:
    """Counts lines of spool and journal files that could not be read (a torn write, a disk
    error, an edit): they are skipped, and `flightlog sync` says how many."""

    def __init__(self) -> None:
        self.lines = 0


def _lines(path: Path, damage: Damage | None = None) -> Iterator[tuple[int, bytes]]:
    """Complete lines of a file with the offset just past each, streamed. A last line without
    its newline is a write cut short (a crash, or an append in progress): it is not returned
    (and counted as damaged)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by the generator
    except FileNotFoundError:
        return
    with f:
        offset = 0
        for line in f:
            if not line.endswith(b"\n"):
                if damage is not None and line.strip():
                    damage.lines += 1
                return
            offset += len(line)
            if line.strip():
                yield offset, line


def _seq_of(line: bytes) -> int:
    try:
        if line.startswith(b'{"seq":'):
            return int(line[7 : line.index(b",", 7)])
        d = json.loads(line)
        return int(d.get("seq", -1)) if isinstance(d, dict) else -1
    except ValueError:
        return -1  # a damaged line: the decoder skips (and counts) it


def _decode(line: bytes, damage: Damage | None = None) -> Record | None:
    try:
        d = json.loads(line)
        record = Record.decode(d) if isinstance(d, dict) and "seq" in d else None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        record = None
    if record is None and damage is not None:
        damage.lines += 1
    return record


class SpoolReader:
    """The records of one spool file not yet replayed, in sequence order, streamed (a long
    outage can leave millions of points). `offset` is how far the file was read."""

    def __init__(self, path: Path, done: set[int], damage: Damage | None = None):
        self.path = path
        self.done = done
        self.offset = 0
        self.damage = damage

    def __iter__(self) -> Iterator[Record]:
        if self._in_order():
            for offset, line in _lines(self.path, self.damage):
                self.offset = offset
                if _seq_of(line) in self.done:
                    continue
                record = _decode(line, self.damage)
                if record is not None:
                    yield record
            return
        # Appended out of order (a shutdown spooled beside the writer): sort in memory.
        records = []
        for offset, line in _lines(self.path, self.damage):
            self.offset = offset
            record = _decode(line, self.damage)
            if record is not None and record.seq not in self.done:
                records.append(record)
        yield from sorted(records, key=lambda r: r.seq)

    def _in_order(self) -> bool:
        last = -1
        for _, line in _lines(self.path):
            seq = _seq_of(line)
            if seq < 0:
                continue  # damaged: skipped either way
            if seq < last:
                return False
            last = seq
        return True


def _append(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _append_whole(fd: int, data: bytes) -> None:
    """Append and fsync, or leave the file as it was: a write cut short by a full disk
    (ENOSPC, EFBIG) must not leave half a line for the next append to run into."""
    size = os.fstat(fd).st_size
    try:
        _append(fd, data)
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise


def _write_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        _append(fd, data)
    finally:
        os.close(fd)


def _uri_tag(uri: str | None) -> str:
    return hashlib.sha1((uri or "").encode("utf-8")).hexdigest()[:10]


def spool_file_name(uri: str | None, run_id: str) -> str:
    return f"spool-{run_id}-{_uri_tag(uri)}.jsonl"


class Owner:
    """This process's folder in the spool root, created on first use.

    Thread-safe: the writer thread and a shutting-down thread may both append (the lock is taken
    with a timeout by callers that must never hang)."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else spool_root()
        self.lock = threading.Lock()
        self._dir: Path | None = None
        self._lock_fd: int | None = None
        self._journal_fd: int | None = None
        self._journal_pending: set[int] = set()
        self._spool_fds: dict[str, int] = {}
        self._replayed_fd: int | None = None

    # --- setup ---------------------------------------------------------------------------
    @property
    def dir(self) -> Path:
        if self._dir is None:
            self._dir = self._create()
        return self._dir

    def exists(self) -> bool:
        return self._dir is not None

    def _create(self) -> Path:
        sweep_empty_folders(self.root)
        started = time.time()
        name = f"{os.getpid()}-{int(started)}-{uuid.uuid4().hex[:8]}"
        if not self.root.is_dir():
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.root / name
        # The folder holds params, tags and metrics of runs: the owner's eyes only (0700
        # whatever the umask; files 0600).
        path.mkdir(mode=0o700)
        fd = None
        try:
            os.chmod(path, 0o700)
            # Lock first, owner.json last: a folder is only listed (owner_folders) once it has
            # owner.json, and by then its lock shows whether the process lives.
            fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, FILE_MODE)
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            info = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": started,
                "argv": sys.argv[:8],
            }
            tmp = path / (OWNER_NAME + ".tmp")
            _write_file(tmp, json.dumps(info).encode("utf-8"))
            os.replace(tmp, path / OWNER_NAME)  # complete or absent, never half written
        except BaseException:
            # A full disk, say: leave no half-made folder (the next attempt makes a new one).
            if fd is not None:
                os.close(fd)
            shutil.rmtree(path, ignore_errors=True)
            raise
        self._lock_fd = fd
        return path

    def remove(self) -> None:
        """Delete the folder (nothing left in it) and close its files; the lock goes last."""
        with self.lock:
            path = self._dir
            for fd in [self._journal_fd, self._replayed_fd, *self._spool_fds.values()]:
                if fd is not None:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._journal_fd = self._replayed_fd = None
            self._spool_fds = {}
            self._journal_pending.clear()
            self._dir = None
            if path is not None:
                remove_folder(path)
            if self._lock_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._lock_fd)
                self._lock_fd = None

    def abandon_after_fork(self) -> None:
        """In a forked child: let go of the parent's files without touching them. Only close
        descriptors (never LOCK_UN: the lock belongs to the parent's open file too)."""
        for fd in [self._lock_fd, self._journal_fd, self._replayed_fd, *self._spool_fds.values()]:
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._lock_fd = self._journal_fd = self._replayed_fd = None
        self._spool_fds = {}
        self._dir = None
        self.lock = threading.Lock()

    # --- journal -------------------------------------------------------------------------
    def journal_append(self, records: Iterable[Record]) -> None:
        """Write batches about to be sent; durable (fsync) before this returns."""
        data = b"".join(r.encode() for r in records)
        if not data:
            return
        with self.lock:
            if self._journal_fd is None:
                self._journal_fd = os.open(
                    self.dir / JOURNAL_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE
                )
            _append_whole(self._journal_fd, data)
            for r in records:
                self._journal_pending.add(r.seq)

    def journal_ack(self, seqs: Iterable[int]) -> None:
        """The backend has these (or they moved to the spool): forget them. The file is emptied
        when nothing in it is pending, so it stays small."""
        seqs = list(seqs)
        with self.lock:
            fd = self._journal_fd
            if fd is None:
                return
            self._journal_pending.difference_update(seqs)
            if not self._journal_pending:
                os.ftruncate(fd, 0)
            else:
                size = os.fstat(fd).st_size
                try:
                    _append(fd, (json.dumps({"ack": seqs}) + "\n").encode())
                except OSError:
                    os.ftruncate(fd, size)  # no half line; the batches just stay pending
                    raise

    # --- spool ---------------------------------------------------------------------------
    def spool_append(
        self,
        records: list[Record],
        on_durable: Callable[[], None] | None = None,
        timeout: float = -1,
    ) -> bool:
        """Append records to their runs' spool files and fsync them. `on_durable` runs while
        the lock is still held, so a concurrent shutdown sees the caller's bookkeeping. False
        when the lock could not be had within `timeout` (nothing written)."""
        by_file: dict[str, list[bytes]] = {}
        for r in records:
            by_file.setdefault(spool_file_name(r.uri, r.run_id), []).append(r.encode())
        if not self.lock.acquire(timeout=timeout):
            return False
        try:
            written: list[tuple[int, int]] = []  # (fd, size before), to undo on failure
            try:
                for name, lines in by_file.items():
                    fd = self._spool_fds.get(name)
                    if fd is None:
                        fd = os.open(
                            self.dir / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE
                        )
                        self._spool_fds[name] = fd
                    written.append((fd, os.fstat(fd).st_size))
                    _append_whole(fd, b"".join(lines))
            except OSError:
                # All or nothing: the caller keeps these records elsewhere (in memory) and
                # offers them again, so no file may keep a part of them.
                for fd, size in written:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, size)
                raise
            if on_durable is not None:
                on_durable()
            return True
        finally:
            self.lock.release()

    def mark_replayed(self, seq: int) -> None:
        with self.lock:
            if self._replayed_fd is None:
                self._replayed_fd = os.open(
                    self.dir / REPLAYED_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE
                )
            _append(self._replayed_fd, f"{seq}\n".encode())

    def pending_records(self, uri: str | None, run_id: str) -> SpoolReader:
        """The spooled records of one run not yet replayed, in order (iterate the result)."""
        folder = self._dir
        if folder is None:
            return SpoolReader(Path(os.devnull), set())
        return SpoolReader(folder / spool_file_name(uri, run_id), read_replayed(folder))

    def drop_run(self, uri: str | None, run_id: str, replayed_up_to: int) -> bool:
        """A run's spool was replayed up to `replayed_up_to` bytes: delete the file, unless more
        was appended meanwhile (then False: replay again)."""
        name = spool_file_name(uri, run_id)
        with self.lock:
            if self._dir is None:
                return True
            path = self._dir / name
            try:
                if path.stat().st_size > replayed_up_to:
                    return False
            except FileNotFoundError:
                return True
            fd = self._spool_fds.pop(name, None)
            if fd is not None:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return True


def read_replayed(folder: Path) -> set[int]:
    try:
        text = (folder / REPLAYED_NAME).read_text()
    except FileNotFoundError:
        return set()
    return {int(x) for x in text.split() if x.isdigit()}


# --- replaying folders left behind -----------------------------------------------------------
def owner_folders(root: Path | None = None) -> list[Path]:
    root = Path(root) if root is not None else spool_root()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / OWNER_NAME).exists())


@contextlib.contextmanager
def claim(folder: Path) -> Iterator[bool]:
    """Take over an owner folder: yields True when its owner is gone and nobody else (another
    `flightlog sync`) holds it; the claim lasts for the block."""
    if fcntl is None:  # pragma: no cover - Windows: by pid only
        yield not _pid_alive(folder)
        return
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        # The folder may have been finished and removed between listing and locking.
        yield (folder / OWNER_NAME).exists()
    finally:
        os.close(fd)


def _pid_alive(folder: Path) -> bool:  # pragma: no cover - Windows fallback
    try:
        pid = int(json.loads((folder / OWNER_NAME).read_text())["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError):
        return False
    return True


def _journal_pending(
    folder: Path, done: set[int], damage: Damage | None = None
) -> dict[str, list[Record]]:
    """Unacknowledged journal entries (a few batches at most), by spool file name."""
    entries: dict[int, Record] = {}
    acked: set[int] = set()
    for _, line in _lines(folder / JOURNAL_NAME, damage):
        try:
            d = json.loads(line)
            if isinstance(d, dict) and "ack" in d:
                acked.update(int(s) for s in d["ack"])
                continue
        except (ValueError, TypeError):
            pass
        record = _decode(line, damage)
        if record is not None:
            entries[record.seq] = record
    by_file: dict[str, list[Record]] = {}
    for seq in sorted(entries):
        if seq not in acked and seq not in done:
            record = entries[seq]
            by_file.setdefault(spool_file_name(record.uri, record.run_id), []).append(record)
    return by_file


def iter_folder(folder: Path, damage: Damage | None = None) -> Iterator[Record]:
    """Everything in an owner folder still to be sent, run by run, each run in sequence order:
    unacknowledged journal entries merged with the spool records, minus what was replayed.
    A batch moved from the journal to the spool is returned once. Lines that cannot be read
    are skipped and counted in `damage`."""
    done = read_replayed(folder)
    journal = _journal_pending(folder, done, damage)
    for path in sorted(folder.glob("spool-*.jsonl")):
        reader = SpoolReader(path, done, damage)
        merged = heapq.merge(reader, journal.pop(path.name, []), key=_by_seq)
        last = None
        for record in merged:
            if record.seq != last:
                yield record
            last = record.seq
    for records in journal.values():
        yield from records


def _by_seq(record: Record) -> int:
    return record.seq


def folder_records(folder: Path) -> list[Record]:
    """`iter_folder` as a list (for small folders and tests)."""
    return list(iter_folder(folder))


def count_folder(folder: Path) -> tuple[int, int]:
    """(entities, runs) still to be sent from an owner folder."""
    entities = 0
    runs: set[str] = set()
    for record in iter_folder(folder):
        entities += record.size
        runs.add(record.run_id)
    return entities, len(runs)


def sweep_empty_folders(root: Path) -> None:
    """Remove folders of ended processes that hold nothing to send (a process killed while its
    journal was empty leaves one behind)."""
    for folder in owner_folders(root):
        try:
            with claim(folder) as ours:
                if ours and next(iter_folder(folder), None) is None:
                    remove_folder(folder)
        except OSError:
            continue


def remove_folder(folder: Path) -> None:
    # The owner file goes first: a racing `claim` then sees the folder as finished.
    with contextlib.suppress(FileNotFoundError):
        (folder / OWNER_NAME).unlink()
    shutil.rmtree(folder, ignore_errors=True)


def mark_folder_replayed(folder: Path, seq: int) -> None:
    fd = os.open(folder / REPLAYED_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        _append(fd, f"{seq}\n".encode())
    finally:
        os.close(fd)


def send(store, record: Record) -> None:
    """Deliver one record to its store (raises what the store raises)."""
    if record.end is not None:
        store.update_run_info(record.run_id, record.end[0], record.end[1])
    elif record.batch_id and getattr(store, "accepts_batch_id", False):
        store.log_batch(
            record.run_id, record.metrics, record.params, record.tags, batch_id=record.batch_id
        )
    else:
        store.log_batch(record.run_id, record.metrics, record.params, record.tags)


@dataclass
class ReplayReport:
    """What replaying one owner folder did."""

    folder: Path
    sent: int = 0  # records delivered
    entities: int = 0  # points, params, tags and statuses delivered
    failed: int = 0  # records the backend refused for good (reported, not retried)
    errors: list[str] = field(default_factory=list)
    unavailable: str | None = None  # set when the backend was down: the folder is kept
    runs: set[str] = field(default_factory=set)
    damaged: int = 0  # lines of the folder's files that could not be read, skipped

    @property
    def complete(self) -> bool:
        return self.unavailable is None


def replay_folder(folder: Path, store_for: Callable[[str | None], object]) -> ReplayReport:
    """Send a claimed owner folder's records in order, each exactly once; remove the folder
    when everything is through. A backend that is down stops the replay (progress is kept in
    the folder's `replayed` file, so the next attempt resumes where this one stopped)."""
    from flightlog.exceptions import StoreUnavailableError

    report = ReplayReport(folder)
    damage = Damage()
    for record in iter_folder(folder, damage):
        report.damaged = damage.lines
        try:
            send(store_for(record.uri), record)
        except StoreUnavailableError as exc:
            report.unavailable = str(exc)
            return report
        except Exception as exc:  # noqa: BLE001 - a refused record must not block the others
            report.failed += 1
            report.errors.append(f"run {record.run_id}, batch {record.seq}: {exc}")
        else:
            report.sent += 1
            report.entities += record.size
            report.runs.add(record.run_id)
        mark_folder_replayed(folder, record.seq)
    report.damaged = damage.lines
    remove_folder(folder)
    return report
