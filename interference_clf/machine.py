"""The CPU a number was measured on: speed depends on its instruction sets, so every figure names them."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# The instruction sets that decide how fast int8 and bf16 inference run.
SPEED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8", "amx_bf16", "avx_vnni")


def cpu_summary() -> dict:
    """CPU model, usable cores and the speed-relevant instruction sets (from /proc/cpuinfo on Linux)."""
    model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": model, "cores": cores, "instruction_sets": [flag for flag in SPEED_FLAGS if flag in flags]}


def cpu_line() -> str:
    summary = cpu_summary()
    return f"{summary['cpu']}, {summary['cores']} cores, {' '.join(summary['instruction_sets']) or 'no AVX2'}"
