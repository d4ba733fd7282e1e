#!/usr/bin/env python3
"""One training epoch of ResNet-18 at 28 px, `medmnist train` against the same recipe in PyTorch, in one run.

The recipe (issue 12's figure): a generated binary-class set in the MedMNIST schema with 55,000 training images
(plus 5,000 validation and 5,000 test images), ResNet-18 randomly initialised, preset `fast` (grayscale → RGB,
ImageNet mean/std, the native 28 px), AdamW lr 1e-4 weight decay 0.01, batch 128 shuffled, one epoch, then the
validation and test passes at batch 256. Wall time of the whole command (loading to metrics) and peak RSS of
each side, each in its own process, both with the same thread count.

Usage:
  swift build -c release --product medmnist
  python3 Benchmarks/peer/train_epoch_peer.py [--binary .build/release/medmnist] [--train 55000] [--threads 2]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def generate(path, train, val, test, seed=0):
    """Two classes that differ by where a bright square sits, over dim noise (as SyntheticDataset)."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, count in (("train", train), ("val", val), ("test", test)):
        labels = rng.integers(0, 2, (count, 1)).astype(np.uint8)
        images = (rng.random((count, 28, 28)) * 60).astype(np.uint8)
        for i in range(count):
            r = 4 if labels[i, 0] == 0 else 16
            images[i, r:r + 9, r:r + 9] += 120
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    np.savez_compressed(path, **arrays)


def torch_run(npz, threads, batch):
    """The same recipe in PyTorch + timm; prints a JSON line with its own timings."""
    import timm
    import torch
    started = time.perf_counter()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = np.load(npz)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def inputs(images):
        x = torch.from_numpy(images).float().div_(255).unsqueeze(1).expand(-1, 3, -1, -1)
        return (x - mean) / std

    model = timm.create_model("resnet18", num_classes=2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    images, labels = data["train_images"], torch.from_numpy(data["train_labels"][:, 0].astype(np.int64))
    loaded = time.perf_counter()
    model.train()
    order = torch.randperm(len(images))
    for start in range(0, len(images), batch):
        index = order[start:start + batch]
        x, y = inputs(images[index.numpy()]), labels[index]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    trained = time.perf_counter()
    model.eval()
    accuracy = {}
    with torch.no_grad():
        for split in ("val", "test"):
            split_images, split_labels = data[f"{split}_images"], data[f"{split}_labels"][:, 0]
            predictions = np.concatenate([model(inputs(split_images[s:s + 256])).argmax(1).numpy()
                                          for s in range(0, len(split_images), 256)])
            accuracy[split] = float((predictions == split_labels).mean())
    finished = time.perf_counter()
    print(json.dumps({"loading": loaded - started, "training": trained - loaded, "evaluation": finished - trained,
                      "total": finished - started, "train_images_per_second": len(images) / (trained - loaded),
                      "acc": accuracy, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def timed(command, env):
    """Runs `command`, returns (wall seconds, peak RSS MiB of the child, stdout)."""
    started = time.perf_counter()
    process = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{command[0]} failed ({process.returncode}):\n{process.stderr}")
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, process.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/medmnist")
    parser.add_argument("--train", type=int, default=55_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--torch-run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_run:
        return torch_run(args.torch_run, args.threads, args.batch)

    with tempfile.TemporaryDirectory() as folder:
        npz = os.path.join(folder, "synthetic.npz")
        generate(npz, args.train, 5_000, 5_000)
        env = dict(os.environ, MEDTENSOR_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
        # Swift first, then PyTorch; RUSAGE_CHILDREN's maximum only grows, so the PyTorch figure is read from
        # its own process.
        swift_wall, swift_rss, swift_out = timed(
            [args.binary, "train", "--npz", npz, "--epochs", "1", "--batch-size", str(args.batch),
             "--threads", str(args.threads), "-o", os.path.join(folder, "run")], env)
        metrics = json.load(open(os.path.join(folder, "run", "metrics.json")))
        torch_wall, _, torch_out = timed([sys.executable, __file__, "--torch-run", npz, "--threads", str(args.threads),
                                          "--batch", str(args.batch)], env)
        torch_result = json.loads(torch_out.strip().splitlines()[-1])
    print(f"ResNet-18, 28 px, {args.train} training images, batch {args.batch}, one epoch, {args.threads} threads")
    print(f"| | wall (whole command) | training | train img/s | peak RSS | test ACC |")
    print(f"|---|---|---|---|---|---|")
    print(f"| swift-medmnist | {swift_wall:.1f} s | {metrics['seconds']['training']:.1f} s | "
          f"{metrics.get('train_images_per_second') or 0:.0f} | {swift_rss:.0f} MiB | {metrics['test']['acc'] * 100:.2f} % |")
    print(f"| PyTorch {__import__('torch').__version__} | {torch_wall:.1f} s | {torch_result['training']:.1f} s | "
          f"{torch_result['train_images_per_second']:.0f} | {torch_result['peak_rss_mib']:.0f} MiB | "
          f"{torch_result['acc']['test'] * 100:.2f} % |")
    print(f"ratio (PyTorch wall / swift-medmnist wall): {torch_wall / swift_wall:.2f}×")
    print(swift_out.strip().splitlines()[-4])


if __name__ == "__main__":
    main()
