"""`python -m alert_generator --target URL --key SERVICE=KEY ...`: send synthetic alerts
and serve the control API on $HOST:$PORT (default 127.0.0.1:8090).

Keys may also come from ALERTGEN_KEYS ("payments=KEY,search=KEY") and the target from
ALERTGEN_TARGET. The mix starts over the services given, the first ones busier."""

import argparse
import logging
import os
import sys

import uvicorn

from alert_generator.api import create_app
from alert_generator.mix import Mix
from alert_generator.runner import Generator


def parse_keys(pairs: list[str]) -> dict[str, str]:
    """`service=key` pairs as a dict; a malformed pair is an error naming it."""
    keys = {}
    for pair in pairs:
        service, sep, key = pair.partition("=")
        if not sep or not service.strip() or not key.strip():
            raise ValueError(f"expected SERVICE=KEY, got {pair!r}")
        keys[service.strip()] = key.strip()
    return keys


def default_mix(services: list[str]) -> Mix:
    """Traffic over the services with Zipf-like weights: the first is the noisiest."""
    return Mix(services={service: round(1 / (rank + 1), 3) for rank, service in enumerate(services)})


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, then serve the API and send until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get("ALERTGEN_TARGET") or "http://127.0.0.1:8001")
    parser.add_argument("--key", action="append", default=[], metavar="SERVICE=KEY")
    parser.add_argument("--rate", type=float, default=float(os.environ.get("ALERTGEN_RATE") or "5"))
    parser.add_argument("--seed", type=int, default=None, help="repeatable traffic")
    parser.add_argument("--paused", action="store_true", help="wait for POST /generator/start")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per event sent
    env_pairs = [p for p in os.environ.get("ALERTGEN_KEYS", "").split(",") if p.strip()]
    try:
        keys = parse_keys(env_pairs + args.key)
    except ValueError as exc:
        parser.error(str(exc))
    if not keys:
        parser.error("no integration key: pass --key SERVICE=KEY (or ALERTGEN_KEYS)")
    generator = Generator(
        target=args.target, keys=keys, mix=default_mix(list(keys)), events_per_second=args.rate, seed=args.seed
    )
    app = create_app(generator, start=not args.paused)
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8090"))
    logging.getLogger("alert_generator").info(
        "control API on http://%s:%d/docs, sending to %s", host, port, args.target
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
