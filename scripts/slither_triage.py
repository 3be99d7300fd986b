"""Compare slither's JSON findings with the triage file; fail on any finding not triaged.

A finding is identified by its detector and the first element slither names (for example
`RoyaltyRouter._withdraw(address,address)`), which stays stable when lines move.
Usage: python3 scripts/slither_triage.py FINDINGS.json TRIAGE.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def key(detector: dict) -> str:
    elements = detector.get("elements") or [{}]
    first = elements[0]
    parent = first.get("type_specific_fields", {}).get("parent", {})
    name = first.get("name", "?")
    if first.get("type") in ("function", "variable") and parent.get("name"):
        name = f"{parent['name']}.{name}"
    elif first.get("type") == "node" and parent.get("type_specific_fields", {}).get("parent", {}).get("name"):
        owner = parent["type_specific_fields"]["parent"]["name"]
        name = f"{owner}.{parent.get('name', '?')}"
    return f"{detector['check']}: {name}"


def main() -> int:
    findings = json.loads(Path(sys.argv[1]).read_text())
    triage = json.loads(Path(sys.argv[2]).read_text())
    known = {entry["finding"]: entry for entry in triage["findings"]}
    results = findings.get("results", {}).get("detectors", [])
    seen = sorted({key(d) for d in results})
    untriaged = [k for k in seen if k not in known]
    stale = [k for k in known if k not in seen]
    for k in seen:
        status = known[k]["verdict"] if k in known else "UNTRIAGED"
        print(f"  [{status}] {k}")
    print(f"slither: {len(seen)} findings, {len(seen) - len(untriaged)} triaged, {len(untriaged)} untriaged")
    if stale:
        print("slither: triage entries no longer reported (remove them): " + "; ".join(stale))
    if untriaged:
        print("slither: fix these or explain them in contracts/slither-triage.json:")
        for k in untriaged:
            print(f"  {k}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
