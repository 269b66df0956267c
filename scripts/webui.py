"""The web UI's build (web-ui/ -> web-ui/dist, which nginx serves at /), for
`make dev` and the tests: `npm ci` when the lockfile changed since the last
install, `npm run build` when any source is newer than the build. npm comes
from Debian's package when missing and we are root; without it the platform
runs with the API only and nginx says at / that the UI is not built.

    .venv/bin/python scripts/webui.py      (build now if needed)
"""

import fcntl
import logging
import os
import subprocess
import sys
from pathlib import Path

from system_packages import find_or_install

log = logging.getLogger("web-ui")

ROOT = Path(__file__).resolve().parents[1]
UI = ROOT / "web-ui"


def dist() -> Path:
    """Where the UI is built: DEV_UI_DIST, else web-ui/dist (what nginx serves)."""
    return Path(os.environ.get("DEV_UI_DIST") or UI / "dist").resolve()


SOURCES = ("src", "openapi", "index.html", "package-lock.json", "tsconfig.json", "vite.config.ts", "scripts")


def _newest(paths: list[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def _sources() -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        path = UI / name
        files += [p for p in path.rglob("*") if "types" not in p.parts] if path.is_dir() else [path]
    return files


def _install(npm: str) -> None:
    """`npm ci` when the lockfile changed since the last install (caller holds the lock)."""
    installed = UI / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (UI / "package-lock.json").stat().st_mtime:
        log.info("installing the UI's packages (npm ci)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=UI, check=True, capture_output=True)


def packages() -> bool:
    """The UI's packages installed (for tools that run its TypeScript without a build); whether they are."""
    npm = find_or_install("npm", "npm")
    if npm is None:
        return False
    with (UI / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install(npm)
    return True


def build(*, force: bool = False) -> bool:
    """Build the UI if it is missing or older than its sources; whether a build is there.
    One build at a time per checkout (a lock file): runs side by side share node_modules."""
    built = dist() / "index.html"
    npm = find_or_install("npm", "npm")
    if npm is None:
        return built.exists()
    with (UI / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install(npm)
        if force or not built.exists() or built.stat().st_mtime < _newest(_sources()):
            log.info("building the UI (npm run build) into %s", dist())
            command = [npm, "run", "build", "--", "--outDir", str(dist())]
            done = subprocess.run(command, cwd=UI, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"the UI did not build:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return built.exists()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    sys.exit(0 if build(force="--force" in sys.argv) else 1)
