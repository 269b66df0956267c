"""The pipeline's pip-audit step: every pin of a constraints file is audited
where its vulnerability data can be reached, and every other one is named.

pip-audit asks PyPI for the vulnerabilities of each pinned version at
https://pypi.org/pypi/<name>/<version>/json. Where that URL is out of reach (the
development machines and CI reach PyPI's package index and each project's own
JSON, https://pypi.org/pypi/<name>/json, and get 404 for every per-version one;
OSV's API is not reached at all), pip-audit skips each pin ("could not be
audited") and still exits 0: it audited nothing and said so only in a table.

A project's JSON lists the vulnerabilities of its latest release: PyPI's same
data for that version. So a pin pip-audit skipped that is the latest release
is audited from there; the others are listed as NOT AUDITED, with the reason.

Run with the pipeline's Python (pip-audit beside it):

    python scripts/pipeline/pip_audit.py constraints.txt

Exit status: 0 every pin audited, none vulnerable; 1 a known vulnerability in
a pin, or pip-audit failed; 3 none vulnerable among the pins audited, and some
not audited (listed).
"""

import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

JSON_API = "https://pypi.org/pypi"
VULNERABLE, INCOMPLETE = 1, 3

ProjectPage = Callable[[str], dict[str, Any] | str]


@dataclass(frozen=True)
class Finding:
    """A known vulnerability of a pinned version."""

    name: str
    version: str
    id: str
    fix_versions: tuple[str, ...]
    description: str


@dataclass
class Audit:
    """What became of each pin: audited (by which source) or not (why), and what was found."""

    pins: dict[str, str]
    audited: dict[str, str] = field(default_factory=dict)
    not_audited: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def pins_of(requirements: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (comments and markers dropped)."""
    pins = {}
    for line in requirements.read_text().splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            pins[canonicalize_name(name.split("[", 1)[0])] = version.strip()
    return pins


def run_pip_audit(requirements: Path) -> dict[str, Any]:
    """pip-audit's JSON report over the pins (PyPI's vulnerability data, no resolution)."""
    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        run = subprocess.run(
            [
                str(pip_audit),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report),
                "-r",
                str(requirements),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if not report.exists():
            raise RuntimeError(f"pip-audit failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
        return json.loads(report.read_text())


def project_page(name: str) -> dict[str, Any] | str:
    """PyPI's JSON of a project, or why it could not be read."""
    try:
        with urllib.request.urlopen(f"{JSON_API}/{name}/json", timeout=60) as response:  # noqa: S310 - PyPI, over https  # nosec B310
            return json.load(response)
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        return f"PyPI's JSON of {name} could not be read ({exc})"


def _finding(name: str, version: str, vulnerability: dict[str, Any]) -> Finding:
    # pip-audit's report says fix_versions and description; PyPI's JSON fixed_in, summary and details.
    text = vulnerability.get("description") or vulnerability.get("summary") or vulnerability.get("details") or ""
    return Finding(
        name=name,
        version=version,
        id=vulnerability["id"],
        fix_versions=tuple(vulnerability.get("fix_versions") or vulnerability.get("fixed_in") or ()),
        description=" ".join(text.split()),
    )


def _same(one: str, other: str) -> bool:
    try:
        return Version(one) == Version(other)
    except InvalidVersion:
        return one == other


def audit(pins: dict[str, str], report: dict[str, Any], page_of: ProjectPage = project_page) -> Audit:
    """Every pin audited by pip-audit's report where it could, from PyPI's project JSON where
    that describes the pinned version (its latest release), and named as not audited otherwise."""
    result = Audit(pins=pins)
    skipped = []
    for dependency in report.get("dependencies", []):
        name = canonicalize_name(dependency["name"])
        if name not in pins:
            continue
        if "skip_reason" in dependency:
            skipped.append(name)
            continue
        result.audited[name] = "pip-audit"
        result.findings += [_finding(name, pins[name], v) for v in dependency.get("vulns", [])]
    skipped += [name for name in pins if name not in result.audited and name not in skipped]
    for name in skipped:
        page = page_of(name)
        if isinstance(page, str):
            result.not_audited[name] = page
            continue
        latest = page.get("info", {}).get("version", "")
        if not _same(latest, pins[name]):
            result.not_audited[name] = f"this version's data is out of reach here (PyPI's project JSON is of {latest})"
            continue
        result.audited[name] = "PyPI's project JSON (the latest release)"
        live = [v for v in page.get("vulnerabilities") or [] if not v.get("withdrawn")]
        result.findings += [_finding(name, pins[name], v) for v in live]
    return result


def report_lines(result: Audit) -> list[str]:
    """What the step prints: findings, then how much was audited and what was not."""
    lines = [
        f"VULNERABLE: {f.name}=={f.version} {f.id} (fixed in {', '.join(f.fix_versions) or 'no release yet'})"
        f"{': ' + f.description if f.description else ''}"
        for f in result.findings
    ]
    by_source: dict[str, int] = {}
    for source in result.audited.values():
        by_source[source] = by_source.get(source, 0) + 1
    sources = ", ".join(f"{count} through {source}" for source, count in sorted(by_source.items()))
    lines.append(f"audited {len(result.audited)} of {len(result.pins)} pins" + (f" ({sources})" if sources else ""))
    if result.not_audited:
        lines.append(f"NOT AUDITED ({len(result.not_audited)} of {len(result.pins)}):")
        lines += [f"  {name}=={result.pins[name]}: {why}" for name, why in sorted(result.not_audited.items())]
    return lines


def status_of(result: Audit) -> int:
    """The step's exit status (see the module's docstring)."""
    if result.findings:
        return VULNERABLE
    return INCOMPLETE if result.not_audited else 0


def main(argv: list[str]) -> int:
    requirements = Path(argv[1] if len(argv) > 1 else "constraints.txt")
    pins = pins_of(requirements)
    try:
        report = run_pip_audit(requirements)
    except RuntimeError as exc:
        print(f"    {exc}", file=sys.stderr)
        return VULNERABLE
    result = audit(pins, report)
    for line in report_lines(result):
        print(f"    {line}")
    return status_of(result)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
