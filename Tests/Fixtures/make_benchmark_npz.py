#!/usr/bin/env python3
"""Writes a large synthetic .npz in the MedMNIST layout, for the loader's speed and memory measurements.

Images are smooth structures (a few Gaussian blobs over a gradient) plus noise, so they deflate about
1.3–1.5×, like real scans, not like random bytes. Not used by the tests.

    python3 Tests/Fixtures/make_benchmark_npz.py OUT.npz --train 30000 --val 2000 --test 2000 --size 64 --channels 3
"""
import argparse
import zlib

import numpy as np


def bank(rng, count, size, channels):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    out = np.empty((count, size, size, channels), dtype=np.float32)
    for k in range(count):
        img = np.zeros((size, size), np.float32) + 40 + 60 * (rng.uniform() * yy + rng.uniform() * xx)
        for _ in range(rng.integers(2, 6)):
            cy, cx, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.05, 0.3)
            img += rng.uniform(40, 120) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        for c in range(channels):
            out[k, :, :, c] = img * rng.uniform(0.7, 1.0)
    return out


def images(rng, n, size, channels, noise, base):
    out = np.empty((n, size, size, channels), dtype=np.uint8)
    step = 2048
    for start in range(0, n, step):
        k = min(step, n - start)
        picked = base[rng.integers(0, len(base), size=k)]
        jitter = rng.integers(-noise, noise + 1, size=picked.shape, dtype=np.int16)
        out[start:start + k] = np.clip(picked + jitter, 0, 255).astype(np.uint8)
    return out[..., 0] if channels == 1 else out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--train", type=int, default=30000)
    p.add_argument("--val", type=int, default=2000)
    p.add_argument("--test", type=int, default=2000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--classes", type=int, default=9)
    p.add_argument("--noise", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    base = bank(rng, 256, a.size, a.channels)
    arrays = {}
    for split, n in [("train", a.train), ("val", a.val), ("test", a.test)]:
        arrays[f"{split}_images"] = images(rng, n, a.size, a.channels, a.noise, base)
        arrays[f"{split}_labels"] = rng.integers(0, a.classes, size=(n, 1)).astype(np.uint8)
    sample = arrays["train_images"][:200].tobytes()
    print(f"deflate ratio of a sample: {len(sample) / len(zlib.compress(sample, 6)):.2f}")
    np.savez_compressed(a.out, **arrays)


if __name__ == "__main__":
    main()
