#!/usr/bin/env python3
"""PyTorch peer of `medmnist-bench conv`: the same cases, 2 threads, and the ratio table.

Usage:
  swift build -c release --product medmnist-bench
  python3 Benchmarks/peer/conv_peer.py [--bench .build/release/medmnist-bench] [--rounds 3] [--repetitions 5]
                                       [--case SUBSTRING]

For each case, the Swift benchmark (JSON mode) and PyTorch take turns `--rounds` times, each turn timing the
median of `--repetitions` runs after three warm-up runs; the table shows the median figures and the median ratio
ours / PyTorch (> 1: we are faster) with its range over the rounds. Alternating matters on shared machines,
where the speed of a core drifts by tens of percent from one minute to the next. "bwd" is the backward pass
alone after an untimed forward, in both.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F

CASES = [  # name, batch, in, out, size, kernel, stride, padding, groups (as ConvBenchmark.swift)
    ("conv3x3-64-64-56-b8", 8, 64, 64, 56, 3, 1, 1, 1),
    ("conv1x1-256-64-56-b8", 8, 256, 64, 56, 1, 1, 0, 1),
    ("dw3x3-144-56-b8", 8, 144, 144, 56, 3, 1, 1, 144),
    ("conv3x3s2-64-128-56-b8", 8, 64, 128, 56, 3, 2, 1, 1),
    ("stem7x7s2-3-64-224-b8", 8, 3, 64, 224, 7, 2, 3, 1),
    # ResNet-18 at 28 px, inference batch 256: the stem, one conv per stage, the first stride-2 conv.
    ("r18-28-stem7x7s2-3-64-28-b256", 256, 3, 64, 28, 7, 2, 3, 1),
    ("r18-28-conv3x3-64-64-7-b256", 256, 64, 64, 7, 3, 1, 1, 1),
    ("r18-28-conv3x3s2-64-128-7-b256", 256, 64, 128, 7, 3, 2, 1, 1),
    ("r18-28-conv3x3-128-128-4-b256", 256, 128, 128, 4, 3, 1, 1, 1),
    ("r18-28-conv3x3-256-256-2-b256", 256, 256, 256, 2, 3, 1, 1, 1),
    ("r18-28-conv3x3-512-512-1-b256", 256, 512, 512, 1, 3, 1, 1, 1),
]


WARM_UP_RUNS = 3  # as medmnist-bench: a fresh process's first large allocations fault their pages in


def median_seconds(fn, repetitions):
    for _ in range(WARM_UP_RUNS):
        fn()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_figures(case, repetitions):
    """{"NAME-fwd": images/s, "NAME-bwd": images/s} for one case."""
    name, n, cin, cout, size, k, s, p, g = case
    x = torch.rand(n, cin, size, size) * 2 - 1
    w = (torch.rand(cout, cin // g, k, k) * 2 - 1) * 0.1
    b = (torch.rand(cout) * 2 - 1) * 0.1
    with torch.no_grad():
        forward = n / median_seconds(lambda: F.conv2d(x, w, b, s, p, 1, g), repetitions)
    times = []
    for r in range(WARM_UP_RUNS + repetitions):
        xs, ws, bs = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()
        out = F.conv2d(xs, ws, bs, s, p, 1, g)
        seed = torch.ones_like(out)
        start = time.perf_counter()
        out.backward(seed)
        if r >= WARM_UP_RUNS:
            times.append(time.perf_counter() - start)
    return {f"{name}-fwd": forward, f"{name}-bwd": n / statistics.median(times)}


def swift_figures(bench, name, repetitions):
    command = [bench, "conv", "--json", "--repetitions", str(repetitions), "--case", name]
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            env={**os.environ, "MEDTENSOR_NUM_THREADS": "2"}).stdout
    return {row["case"]: row["value"] for row in map(json.loads, output.splitlines())}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default=".build/release/medmnist-bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--case", default="")
    args = parser.parse_args()
    torch.set_num_threads(2)
    pairs = {}  # case → [(ours, theirs)] per round
    for case in CASES:
        if args.case not in case[0]:
            continue
        for _ in range(args.rounds):
            ours = swift_figures(args.bench, case[0], args.repetitions)
            theirs = torch_figures(case, args.repetitions)
            for key, value in ours.items():
                pairs.setdefault(key, []).append((value, theirs[key]))
    print(f"conv2d images/s, 2 threads, torch {torch.__version__}, {args.rounds} alternating rounds")
    print(f"{'case':32} {'swift-medmnist':>15} {'pytorch':>10} {'ratio':>7}  range")
    for key, values in pairs.items():
        ratios = [a / b for a, b in values]
        ours, theirs = statistics.median(a for a, _ in values), statistics.median(b for _, b in values)
        print(f"{key:32} {ours:15.1f} {theirs:10.1f} {statistics.median(ratios):6.2f}×  "
              f"{min(ratios):.2f}–{max(ratios):.2f}")


if __name__ == "__main__":
    main()
