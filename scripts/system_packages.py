"""Tools the local run uses from Debian's packages (nginx, Prometheus): found on
PATH, or installed when this runs as root with apt-get, else a warning that
says the one command to run. The platform's services run without them."""

import logging
import os
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger("system-packages")


def find_or_install(binary: str, package: str, *, service: str | None = None) -> str | None:
    """The path of `binary`, installing `package` first when we are root with apt-get.

    Debian starts the service a package installs (`service`, e.g. nginx on :80):
    the local run starts its own, so that one is stopped and kept from booting."""
    found = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if found:
        return found
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log.info("installing %s: %s", package, " ".join(install))
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run([*install, "-qq"], env=env, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
            subprocess.run([*install, "-qq"], env=env, check=False)
        if service:
            subprocess.run([f"/etc/init.d/{service}", "stop"], capture_output=True, check=False)
            subprocess.run(["update-rc.d", service, "disable"], capture_output=True, check=False)
        return shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    log.warning("%s is not installed; the platform runs without it. To add it: sudo %s", binary, " ".join(install))
    return None
