"""Image scans: a scanner given an image reference prints Trivy's JSON report.

``BOTARENA_SCAN_COMMAND`` is split like a shell command and the image reference appended
(``trivy image --quiet --format json``, in production). Findings are kept with the build
and shown as warnings; with ``BOTARENA_SCAN_BLOCKING=true`` a finding of severity HIGH or
CRITICAL fails the build.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from typing import Any

BLOCKING_SEVERITIES = frozenset({"HIGH", "CRITICAL"})
_OUTPUT_LIMIT = 2000


class ScanError(Exception):
    """The scanner could not run or did not print a report."""


@dataclass(frozen=True)
class Finding:
    """One vulnerability of one package in the image."""

    vulnerability: str
    package: str
    installed: str
    severity: str
    title: str
    fixed: str | None = None

    @property
    def blocking(self) -> bool:
        return self.severity in BLOCKING_SEVERITIES

    def warning(self) -> str:
        fix = f", fixed in {self.fixed}" if self.fixed else ""
        title = f": {self.title}" if self.title else ""
        return (
            f"{self.vulnerability} ({self.severity}) in {self.package} {self.installed}{fix}{title}"
        )


def scan_image(command: str, image: str, *, timeout: float) -> list[Finding]:
    """Run the scanner on ``image``; its findings, most severe first."""
    argv = [*shlex.split(command), image]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise ScanError(f"the scanner {argv[0]!r} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise ScanError(f"the scan took longer than {timeout:g} s") from exc
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip()[-_OUTPUT_LIMIT:]
        raise ScanError(f"the scanner exited with code {done.returncode}: {tail}")
    return parse_report(done.stdout.decode(errors="replace"))


def parse_report(text: str) -> list[Finding]:
    """The vulnerabilities of a Trivy JSON report (schema version 2)."""
    try:
        report = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScanError(f"the scanner's report is not JSON: {exc}") from exc
    if not isinstance(report, dict):
        raise ScanError("the scanner's report is not a JSON object")
    findings: list[Finding] = []
    for result in report.get("Results") or []:
        if not isinstance(result, dict):
            continue
        for item in result.get("Vulnerabilities") or []:
            if isinstance(item, dict):
                findings.append(_finding(item))
    order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
    findings.sort(key=lambda f: order.index(f.severity) if f.severity in order else len(order))
    return findings


def _finding(item: dict[str, Any]) -> Finding:
    return Finding(
        vulnerability=str(item.get("VulnerabilityID") or "unknown"),
        package=str(item.get("PkgName") or "unknown"),
        installed=str(item.get("InstalledVersion") or ""),
        severity=str(item.get("Severity") or "UNKNOWN").upper(),
        title=str(item.get("Title") or ""),
        fixed=str(item["FixedVersion"]) if item.get("FixedVersion") else None,
    )
