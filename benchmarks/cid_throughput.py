"""CID throughput against plain SHA-256 of the same bytes (the floor), side by side in one run.

    .venv/bin/python -m benchmarks.cid_throughput [--mib 256] [--repeats 5]

Writes benchmarks/results/cid_throughput.json. Both sides read the same file from the page cache
in 256 KiB pieces; the CID side also builds the dag-pb/UnixFS tree and hashes its nodes. Runs
alternate (sha256, cid, sha256, cid, …) so that machine noise hits both; medians are compared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track

from core.cid import CHUNK_SIZE, file_cid

RESULTS = Path(__file__).parent / "results"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(CHUNK_SIZE):
            h.update(piece)
    return h.hexdigest()


def timed(fn, path: Path) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn(path)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=256, help="File size in MiB (default 256).")
    parser.add_argument("--repeats", type=int, default=5, help="Timed runs of each side (default 5).")
    args = parser.parse_args()
    console = Console()
    size = args.mib << 20
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "payload"
        with path.open("wb") as f:
            seed = hashlib.sha256(b"heritage").digest()
            for i in range(size // (1 << 20)):
                f.write(hashlib.shake_256(seed + i.to_bytes(4, "big")).digest(1 << 20))
        sha256_file(path)  # warm the page cache
        cid = file_cid(path)
        sha, cidt = [], []
        for _ in track(range(args.repeats), description=f"hashing {args.mib} MiB", console=console):
            sha.append(timed(sha256_file, path))
            cidt.append(timed(file_cid, path))
    med_sha, med_cid = statistics.median(sha), statistics.median(cidt)
    result = {
        "benchmark": "cid_throughput",
        "bytes": size,
        "repeats": args.repeats,
        "cid": cid,
        "sha256_seconds": sha,
        "cid_seconds": cidt,
        "sha256_median_mib_s": args.mib / med_sha,
        "cid_median_mib_s": args.mib / med_cid,
        "ratio_cid_to_sha256": med_sha / med_cid,
        "aim": ">= 0.70",
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cid_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    console.print(
        f"sha256 {result['sha256_median_mib_s']:.0f} MiB/s, CID {result['cid_median_mib_s']:.0f} MiB/s "
        f"(medians of {args.repeats}): CID at {result['ratio_cid_to_sha256']:.1%} of the SHA-256 floor"
    )


if __name__ == "__main__":
    main()
