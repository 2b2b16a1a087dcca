#!/usr/bin/env python3
"""Benchmark (issue #16): one 1 MB group file with 100,000 unknown keys.

Every unknown key gets its own diagnostic; the cost must stay linear (the
did-you-mean search is capped per file, see compiler.model.from_document).
Runs `pops validate --no-cache` on the file in a fresh process, several times,
and prints wall time and the process's CPU time (user + system, which a busy
machine inflates less than wall time). It prints numbers; it is not a test.

    .venv/bin/python bench/unknown_keys.py            # 100,000 keys, 3 runs
    .venv/bin/python bench/unknown_keys.py -k 20000 -r 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_group(folder: Path, keys: int) -> Path:
    """`name:` plus `keys` unknown top-level keys (`k00000: 1`, ...), 10 bytes a line."""
    groups = folder / "groups"
    groups.mkdir()
    lines = ["name: Many unknown keys", "payments: {credit_card: true}"]
    lines += [f"k{i:05d}: 1" for i in range(keys)]
    path = groups / "many.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_once(pops: str, folder: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, diagnostic lines) of one `pops validate --no-cache`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [pops, "validate", "--no-cache"], cwd=folder, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 1 or "Traceback" in proc.stderr:
        sys.exit(f"unexpected result (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall, cpu, proc.stdout.count("[key-unknown]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", "--keys", type=int, default=100_000)
    parser.add_argument("-r", "--runs", type=int, default=3)
    args = parser.parse_args()
    pops = str(Path(sys.executable).parent / "pops")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_group(folder, args.keys)
        print(f"{path.stat().st_size:,} bytes, {args.keys:,} unknown keys", file=sys.stderr)
        results = [run_once(pops, folder) for _ in range(args.runs)]
    walls, cpus, counts = zip(*results, strict=True)
    if set(counts) != {args.keys}:
        sys.exit(f"expected {args.keys} key-unknown diagnostics, got {sorted(set(counts))}")
    print(
        f"pops validate, {args.keys:,} unknown keys: "
        f"wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}), "
        f"CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f}); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
