"""The embedded PostgreSQL behind `make dev` and `make test`: it keeps its data
across restarts, and recovers from what a killed run leaves behind."""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from platform_testing.local_postgres import DataDirInUse, LocalPostgres

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    # Under the checkout, not /tmp: as root the server runs as its own user,
    # who cannot pass through pytest's private temporary folder. One initdb
    # for the module; each test starts and stops the server on it.
    path = ROOT / "data" / f"test-local-pg-{uuid.uuid4().hex[:8]}"
    with LocalPostgres(path):
        pass
    yield path
    shutil.rmtree(path, ignore_errors=True)
    for suffix in (".lock", ".log", ".initdb"):
        sibling = path.with_name(path.name + suffix)
        if sibling.is_dir():
            shutil.rmtree(sibling, ignore_errors=True)
        else:
            sibling.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_data_survives_a_restart_and_nothing_runs_after_stop(folder):
    with LocalPostgres(folder) as server:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (42)")
            # What the migrations ask of it (0005, 0014_quiet).
            conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        assert server.process is not None
        pid = server.process.pid
    assert not _alive(pid)
    assert not (folder / "postmaster.pid").exists()
    with LocalPostgres(folder) as server, psycopg.connect(server.url()) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == (42,)


def test_a_second_runner_on_the_same_folder_is_refused(folder):
    with LocalPostgres(folder), pytest.raises(DataDirInUse):
        LocalPostgres(folder).start()


def test_a_server_left_by_a_killed_run_is_stopped_before_ours_starts(folder):
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from platform_testing.local_postgres import LocalPostgres\n"
        "server = LocalPostgres(Path(sys.argv[1])).start()\n"
        "print(server.process.pid, server.url(), flush=True)\n"
        "time.sleep(120)\n"
    )
    runner = subprocess.Popen([sys.executable, "-c", script, str(folder)], stdout=subprocess.PIPE, text=True)
    assert runner.stdout is not None
    pid_text, old_url = runner.stdout.readline().split()
    old_pid = int(pid_text)
    runner.kill()  # SIGKILL: no chance to stop its server
    runner.wait()
    try:
        assert _alive(old_pid)
        with LocalPostgres(folder) as server, psycopg.connect(server.url()) as conn:
            assert not _alive(old_pid)
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(old_url, connect_timeout=2)
    finally:
        if _alive(old_pid):
            os.kill(old_pid, signal.SIGKILL)


def test_a_postmaster_pid_naming_another_program_does_not_block_the_start(folder):
    # After a crash and a reboot, the pid in postmaster.pid may belong to anything.
    other = subprocess.Popen(["sleep", "60"])
    try:
        lines = [str(other.pid), str(folder), str(int(time.time())), "5432", "", "127.0.0.1", "0 0", "ready"]
        (folder / "postmaster.pid").write_text("\n".join(lines) + "\n")
        with LocalPostgres(folder) as server, psycopg.connect(server.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert other.poll() is None  # left alone
    finally:
        other.kill()
        other.wait()


def test_a_restart_comes_back_on_the_same_port_with_the_data(folder):
    # The fault suite restarts PostgreSQL under running services: their URLs must stay right.
    with LocalPostgres(folder) as server:
        url = server.url()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS restarted (v int)")
            conn.execute("INSERT INTO restarted VALUES (7)")
            assert server.process is not None
            before = server.process.pid
            server.restart(down_for=0.5)
            with pytest.raises(psycopg.OperationalError):
                conn.execute("SELECT 1")  # the restart cut the session
        assert server.url() == url
        assert server.process is not None and server.process.pid != before
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT v FROM restarted").fetchone() == (7,)
