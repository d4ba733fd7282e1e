#!/usr/bin/env python3
"""PyTorch peer of `medmnist-bench models`: the same cases (timm / torchvision models, 9 classes, random inputs,
2 threads; train = forward + cross-entropy + backward + SGD momentum 0.9; median of 3 after three warm-up steps) and the
ratio table.

Usage:
  swift build -c release --product medmnist-bench
  python3 Benchmarks/peer/models_peer.py [--bench .build/release/medmnist-bench] [--case SUBSTRING] [--rounds N]

Each case runs in the Swift benchmark and then in PyTorch, `--rounds` times alternating (shared machines
drift by tens of percent from minute to minute; the median ratio of alternating rounds is what to quote).
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import timm
import torch
import torchvision

CASES = [  # as ModelsBenchmark.swift: model, size, batch, train
    ("resnet18", 28, 128, True), ("resnet18", 28, 256, False), ("resnet18", 64, 64, True),
    ("resnet18", 224, 16, False), ("resnet18", 224, 16, True), ("alexnet", 224, 32, False),
    ("vgg16", 224, 8, False), ("densenet121", 224, 8, False), ("efficientnet_b4", 224, 8, False),
    ("densenet121", 64, 64, True), ("efficientnet_b0", 64, 64, True), ("efficientnet_b0", 28, 64, False),
    ("vit_tiny_patch16_224", 224, 16, False), ("vit_small_patch16_224", 224, 8, False),
    ("vit_base_patch16_224", 224, 8, False), ("vit_base_patch16_clip_224", 224, 8, False),
    ("vit_base_patch16_clip_quickgelu_224", 224, 8, False), ("vit_tiny_patch16_224", 224, 16, True),
    ("vit_base_patch16_224", 64, 64, True), ("eva02_base_patch16_clip_224", 224, 8, False),
    ("samvit_base_patch16", 224, 8, False),
    # BF16 inference: ours with BF16 matrix products, PyTorch with torch.autocast("cpu", dtype=torch.bfloat16).
    ("vit_base_patch16_224", 224, 8, False, True), ("vit_small_patch16_224", 224, 8, False, True),
]


def create(name):
    if name == "alexnet":
        model = torchvision.models.alexnet()
        model.classifier[6] = torch.nn.Linear(4096, 9)
        return model
    if name.startswith("vit_"):
        # As the Swift ViTs: any size, the position embedding resampled, small sides zero-padded.
        return timm.create_model(name, num_classes=9, dynamic_img_size=True, dynamic_img_pad=True)
    if name.startswith("eva02_"):
        return timm.create_model(name, num_classes=9, dynamic_img_size=True, dynamic_img_pad=True)
    if name.startswith("samvit_"):
        # As the Swift SAM: sides that are not a multiple of 16 zero-padded (timm's samvit rejects them).
        from functools import partial
        from timm.layers import Format, PatchEmbed
        return timm.create_model(name, num_classes=9, embed_layer=partial(
            PatchEmbed, output_fmt=Format.NHWC, strict_img_size=False, dynamic_img_pad=True))
    return timm.create_model(name, num_classes=9)


def measure(name, size, batch, train, bf16=False):
    model = create(name)
    x = torch.randn(batch, 3, size, size)
    y = torch.arange(batch) % 9
    if train:
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step():
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    else:
        model.eval()

        def step():
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                model(x)
    for _ in range(3):  # warm-up runs, as medmnist-bench
        step()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return batch / statistics.median(times)


def ours(bench, case):
    """images/s of one case from the Swift benchmark."""
    command = [bench, "models", "--json", "--case", case]
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            env={**os.environ, "MEDTENSOR_NUM_THREADS": "2"}).stdout
    rows = {row["case"]: row["value"] for row in map(json.loads, output.splitlines())}
    return rows.get(case)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default=".build/release/medmnist-bench")
    parser.add_argument("--case", default="")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate Swift and PyTorch this many times per case; report the median ratio")
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(f"models images/s, 2 threads, torch {torch.__version__}, timm {timm.__version__}, {args.rounds} round(s)")
    print(f"{'case':30} {'swift-medmnist':>15} {'pytorch':>10} {'ratio':>7}  range")
    for name, size, batch, train, *rest in CASES:
        bf16 = bool(rest and rest[0])
        case = f"{name}-{size}-{'train' if train else 'infer'}{'-bf16' if bf16 else ''}"
        if args.case not in case:
            continue
        pairs = []
        for _ in range(args.rounds):
            value = ours(args.bench, case)
            if value is None:
                break
            pairs.append((value, measure(name, size, batch, train, bf16)))
        if not pairs:
            continue
        ratios = [a / b for a, b in pairs]
        mine, theirs = statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs)
        print(f"{case:30} {mine:15.2f} {theirs:10.2f} {statistics.median(ratios):6.2f}×  "
              f"{min(ratios):.2f}–{max(ratios):.2f}", flush=True)


if __name__ == "__main__":
    main()
