"""Prometheus for the local run: Debian's `prometheus` with the repository's rules
(monitoring/rules), scraping the services of `make dev` (their ports follow
DEV_BASE_PORT), its data under data/prometheus/.

`make dev` starts it beside the services when the binary is there (installing the
Debian package first when run as root with apt-get; otherwise it prints the command and
the services run without it). `make observe` runs it alone, against a `make dev`
already running (started with DEV_PROMETHEUS=0); when one already answers on its port (the
one `make dev` started), it says so and leaves it. UI and API on
http://127.0.0.1:$DEV_PROMETHEUS_PORT (default 9090, moved with DEV_BASE_PORT; Debian's
build serves the UI under /classic/); DEV_PROMETHEUS_DIR moves its data; DEV_PROMETHEUS=0
leaves it out of `make dev`."""

import logging
import os
import sys
from pathlib import Path

import httpx
import yaml

from system_packages import find_or_install

log = logging.getLogger("observe")

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "monitoring" / "rules"
DATA = Path(os.environ.get("DEV_PROMETHEUS_DIR") or ROOT / "data" / "prometheus")
# job name and port offset from DEV_BASE_PORT, as in scripts/dev.py and monitoring/prometheus.yml
JOBS = (("alert-ingestion", 0), ("incident-management", 1), ("oncall-service", 2), ("notification-service", 3))


def local_targets(base_port: int) -> dict[str, str]:
    """job -> host:port of the services `make dev` runs from `base_port`."""
    return {job: f"127.0.0.1:{base_port + offset}" for job, offset in JOBS}


def write_config(folder: Path, *, targets: dict[str, str], scrape_interval: str = "15s") -> Path:
    """monitoring/prometheus.yml with these targets (job -> host:port) and the rules' absolute path."""
    config = yaml.safe_load((ROOT / "monitoring" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval}
    config["rule_files"] = [str(RULES / "*.yml")]
    config["scrape_configs"] = [
        {"job_name": job, "static_configs": [{"targets": [target]}]} for job, target in targets.items()
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "prometheus.yml"
    path.write_text("# Written by scripts/observe.py from monitoring/prometheus.yml; changes are overwritten.\n")
    with path.open("a") as out:
        yaml.safe_dump(config, out, sort_keys=False)
    return path


def command(
    binary: str, *, targets: dict[str, str], port: int, data: Path = DATA, scrape_interval: str = "15s"
) -> list[str]:
    """The command line of a Prometheus scraping `targets`, serving on 127.0.0.1:`port`, its TSDB under `data`."""
    config = write_config(data, targets=targets, scrape_interval=scrape_interval)
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=15d",
        "--web.enable-lifecycle",
    ]


def local_port() -> int:
    """DEV_PROMETHEUS_PORT, else 9090 moved with DEV_BASE_PORT, so a second copy of the
    platform gets a Prometheus of its own."""
    return int(os.environ.get("DEV_PROMETHEUS_PORT") or 9090 + int(os.environ.get("DEV_BASE_PORT", "8001")) - 8001)


def local_command() -> list[str] | None:
    """The Prometheus of `make dev` / `make observe`, from DEV_BASE_PORT and DEV_PROMETHEUS_PORT."""
    binary = find_or_install("prometheus", "prometheus", service="prometheus")
    if binary is None:
        return None
    port = local_port()
    log.info("Prometheus on http://127.0.0.1:%d/classic/alerts (rules: monitoring/rules, data: %s)", port, DATA)
    return command(binary, targets=local_targets(int(os.environ.get("DEV_BASE_PORT", "8001"))), port=port)


def running(port: int) -> bool:
    """Whether a Prometheus answers ready on 127.0.0.1:`port`."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if running(port := local_port()):
        log.info(
            "Prometheus already runs on http://127.0.0.1:%d/classic/alerts (`make dev` starts one unless"
            " DEV_PROMETHEUS=0); nothing to start",
            port,
        )
        return 0
    argv = local_command()
    if argv is None:
        return 1
    os.execv(argv[0], argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
