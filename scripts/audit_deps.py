"""Audit the pinned dependencies with pip-audit and say plainly what was and was not checked.

    python scripts/audit_deps.py            # requirements.txt and requirements-dev.txt

Exit 1 when a pinned version has a known vulnerability that is not listed in
scripts/audit_exceptions.txt (one ``ID  reason`` a line). When the vulnerability
service (PyPI's JSON API) cannot answer for some or all packages, the step prints
a loud UNAUDITED banner naming them; with KAGAMI_AUDIT_STRICT=1 that is a failure
too. It never reports "no known vulnerabilities" for packages it could not check.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXCEPTIONS = ROOT / "scripts" / "audit_exceptions.txt"


def exceptions() -> dict[str, str]:
    out: dict[str, str] = {}
    if EXCEPTIONS.exists():
        for line in EXCEPTIONS.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                vuln_id, _, reason = line.partition(" ")
                out[vuln_id] = reason.strip()
    return out


def audit(requirements: Path) -> dict:
    cmd = [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps", "--disable-pip",
           "--progress-spinner", "off", "--format", "json", "--timeout", "20"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return {"error": (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]}


def main() -> int:
    allowed = exceptions()
    strict = os.environ.get("KAGAMI_AUDIT_STRICT", "") in ("1", "true", "yes")
    vulnerable: list[str] = []
    unaudited: list[str] = []
    audited = 0
    for name in ("requirements.txt", "requirements-dev.txt"):
        report = audit(ROOT / name)
        if "error" in report:
            unaudited.append(f"{name}: pip-audit failed: {report['error'][0]}")
            continue
        for dep in report.get("dependencies", []):
            version = dep.get("version") or re.search(r"\(([^()]*)\)\s*$", dep.get("skip_reason", "")) or "?"
            label = f"{dep['name']}=={version if isinstance(version, str) else version.group(1)}"
            if "skip_reason" in dep:
                unaudited.append(label)
                continue
            audited += 1
            for vuln in dep.get("vulns", []):
                ids = [vuln["id"], *vuln.get("aliases", [])]
                excused = next((i for i in ids if i in allowed), None)
                if excused:
                    print(f"pip-audit: {label} {vuln['id']} excepted: {allowed[excused]}")
                else:
                    fixed = ", ".join(vuln.get("fix_versions", [])) or "?"
                    vulnerable.append(f"{label} {vuln['id']} (fixed in {fixed})")
    unaudited = sorted(set(unaudited))
    for line in vulnerable:
        print(f"!!! pip-audit: known vulnerability: {line}", file=sys.stderr)
    if unaudited:
        print(f"!!! pip-audit: UNAUDITED — the vulnerability service gave no answer for {len(unaudited)} pinned "
              f"package(s) ({audited} audited). These were NOT checked:", file=sys.stderr)
        print("    " + ", ".join(unaudited), file=sys.stderr)
        print("    (README → Security and reliability → Dependency audit explains this exception; "
              "KAGAMI_AUDIT_STRICT=1 makes it fail.)", file=sys.stderr)
    if not vulnerable and not unaudited:
        print(f"pip-audit: no known vulnerabilities in {audited} pinned packages")
    if vulnerable:
        return 1
    return 1 if (unaudited and strict) else 0


if __name__ == "__main__":
    sys.exit(main())
