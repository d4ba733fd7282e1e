#!/usr/bin/env python3
"""PyTorch peer of `medmnist-bench conv`: the same cases, 2 threads, and the ratio table.

Usage:
  swift build -c release --product medmnist-bench
  python3 Benchmarks/peer/conv_peer.py [--bench .build/release/medmnist-bench] [--repetitions 5]

Runs the Swift benchmark (JSON mode) and PyTorch in the same session and prints ours / PyTorch per case
(> 1 means we are faster). "bwd" is the backward pass alone after an untimed forward, in both.
"""
import argparse
import json
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
]


def median_seconds(fn, repetitions):
    fn()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_figures(repetitions):
    torch.set_num_threads(2)
    results = {}
    for name, n, cin, cout, size, k, s, p, g in CASES:
        x = torch.rand(n, cin, size, size) * 2 - 1
        w = (torch.rand(cout, cin // g, k, k) * 2 - 1) * 0.1
        b = (torch.rand(cout) * 2 - 1) * 0.1
        with torch.no_grad():
            results[f"{name}-fwd"] = n / median_seconds(lambda: F.conv2d(x, w, b, s, p, 1, g), repetitions)
        times = []
        for r in range(repetitions + 1):
            xs, ws, bs = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()
            out = F.conv2d(xs, ws, bs, s, p, 1, g)
            seed = torch.ones_like(out)
            start = time.perf_counter()
            out.backward(seed)
            if r > 0:
                times.append(time.perf_counter() - start)
        results[f"{name}-bwd"] = n / statistics.median(times)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default=".build/release/medmnist-bench")
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    env_threads = {"MEDTENSOR_NUM_THREADS": "2"}
    import os
    output = subprocess.run([args.bench, "conv", "--json", "--repetitions", str(args.repetitions)], check=True,
                            capture_output=True, text=True, env={**os.environ, **env_threads}).stdout
    ours = {row["case"]: row["value"] for row in map(json.loads, output.splitlines())}
    theirs = torch_figures(args.repetitions)
    print(f"conv2d images/s, 2 threads, torch {torch.__version__}")
    print(f"{'case':34} {'swift-medmnist':>15} {'pytorch':>10} {'ratio':>7}")
    for case, value in ours.items():
        peer = theirs.get(case)
        ratio = f"{value / peer:6.2f}×" if peer else "-"
        print(f"{case:34} {value:15.1f} {peer or 0:10.1f} {ratio:>7}")


if __name__ == "__main__":
    main()
