#!/usr/bin/env python3
"""Regenerates the MedMNISTData test fixtures under Tests/Fixtures/data/.

Requirements: python3 with numpy, torch, torchvision, pillow, and `pip install medmnist scikit-learn`
(medmnist 3.0.2 pulls scikit-image and pandas). The Swift tests never run Python; they only read the files
written here. Everything is seeded, so a rerun writes the same arrays (zip timestamps aside).

    python3 Tests/Fixtures/make_data_fixtures.py

Writes:
  data/info.json                     the package's INFO (every field the Swift catalog holds) and version
  data/evaluator/*.npy, cases.json   scores + labels per task type, with ties, and the package's ACC/AUC
  data/npz/breastmnist.npz           a catalog-valid BreastMNIST-28 (real split sizes, synthetic images)
  data/npz/tiny/*.npz                tiny sets in the exact MedMNIST layout (np.savez_compressed), and broken ones
  data/transforms/*.npy, cases.json  inputs and torch/torchvision/PIL outputs for the transforms
  data/shuffle.json                  permutations from an independent Python port of MedTensor's RandomGenerator
  data/montage/*.npy                 skimage.util.montage (the package's montage2d) of fixed selections
"""
import hashlib
import io
import json
import os
import shutil
import zipfile

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

import medmnist
from medmnist.evaluator import getACC, getAUC, Evaluator
from medmnist.info import INFO
from medmnist.utils import montage2d
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.write("\n")


def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


# --------------------------------------------------------------------------------------------- INFO
def make_info():
    keys = ["python_class", "task", "n_channels", "n_samples", "license", "label",
            "url", "MD5", "url_64", "MD5_64", "url_128", "MD5_128", "url_224", "MD5_224"]
    info = {flag: {k: v[k] for k in keys if k in v} for flag, v in INFO.items()}
    write_json(os.path.join(OUT, "info.json"), {"version": medmnist.__version__, "INFO": info})


# ---------------------------------------------------------------------------------------- evaluator
def make_evaluator():
    d = os.path.join(OUT, "evaluator")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(20240416)
    cases = []

    def softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def add(name, task, labels, scores, expect_error=False):
        np.save(os.path.join(d, f"{name}_labels.npy"), labels)
        np.save(os.path.join(d, f"{name}_scores.npy"), scores)
        case = {"name": name, "task": task, "labels_shape": list(labels.shape), "scores_shape": list(scores.shape),
                "scores_dtype": str(scores.dtype)}
        if expect_error:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                auc = getAUC(labels, scores, task)
            case["expect_error"] = True
            case["package_auc"] = None if np.isnan(auc) else float(auc)
        else:
            case["auc"] = float(getAUC(labels, scores, task))
            case["acc"] = float(getACC(labels, scores, task))
            # Per-column AUCs the package averages.
            yt, ys = labels.squeeze(), scores.squeeze()
            if task == "multi-label, binary-class":
                per = [roc_auc_score(yt[:, i], ys[:, i]) for i in range(ys.shape[1])]
            elif task == "binary-class":
                per = [roc_auc_score(yt, ys[:, -1] if ys.ndim == 2 else ys)]
            else:
                per = [roc_auc_score((yt == i).astype(float), ys[:, i]) for i in range(ys.shape[1])]
            case["per_class_auc"] = [float(x) for x in per]
        cases.append(case)

    # multi-class, 5 classes, scores rounded to 2 decimals: many ties.
    n, c = 300, 5
    y = rng.integers(0, c, size=(n, 1)).astype(np.uint8)
    logits = rng.normal(size=(n, c)) + 1.5 * np.eye(c)[y[:, 0]]
    add("multiclass_ties", "multi-class", y, np.round(softmax(logits), 2))
    # multi-class with argmax ties inside rows (first maximum wins).
    s = np.round(softmax(rng.normal(size=(n, c))), 1)
    s[::7, 1] = s[::7, 3] = s[::7].max(axis=1)
    add("multiclass_argmax_ties", "multi-class", y, s)
    # multi-class, float32 scores, 9 classes, larger.
    n9 = 1000
    y9 = rng.integers(0, 9, size=(n9, 1)).astype(np.uint8)
    add("multiclass_float32", "multi-class", y9,
        softmax(rng.normal(size=(n9, 9)) + 2.0 * np.eye(9)[y9[:, 0]]).astype(np.float32))
    # ordinal regression, 5 grades, quantised.
    yo = rng.integers(0, 5, size=(400, 1)).astype(np.uint8)
    add("ordinal", "ordinal-regression", yo, np.round(softmax(rng.normal(size=(400, 5)) + np.eye(5)[yo[:, 0]]), 2))
    # binary-class: (N, 2), (N, 1), (N,), with heavy ties (scores in steps of 0.05), and scores exactly 0.5.
    nb = 257
    yb = rng.integers(0, 2, size=(nb, 1)).astype(np.uint8)
    p1 = np.clip(np.round((0.35 * yb[:, 0] + rng.uniform(0, 0.65, size=nb)) * 20) / 20, 0, 1)
    p1[:10] = 0.5
    add("binary_n2", "binary-class", yb, np.stack([1 - p1, p1], axis=1))
    add("binary_n1", "binary-class", yb, p1[:, None].copy())
    add("binary_n", "binary-class", yb, p1.copy())
    # binary, all scores tied: AUC 0.5.
    add("binary_all_tied", "binary-class", yb, np.full((nb, 2), 0.5))
    # multi-label, 6 labels (chest-like), quantised sigmoid scores.
    nl, L = 250, 6
    yl = (rng.uniform(size=(nl, L)) < 0.3).astype(np.uint8)
    sl = 1 / (1 + np.exp(-(rng.normal(size=(nl, L)) + 1.2 * yl)))
    add("multilabel_ties", "multi-label, binary-class", yl, np.round(sl, 2))
    # multi-label, 14 labels like ChestMNIST, float32.
    yc = (rng.uniform(size=(500, 14)) < 0.15).astype(np.uint8)
    add("multilabel14_float32", "multi-label, binary-class", yc,
        (1 / (1 + np.exp(-(rng.normal(size=(500, 14)) + yc)))).astype(np.float32))
    # A class absent from the labels: the package's AUC is undefined (NaN with a warning, or ValueError).
    ya = rng.choice([0, 1, 2, 4], size=(60, 1)).astype(np.uint8)
    add("multiclass_absent_class", "multi-class", ya, softmax(rng.normal(size=(60, 5))), expect_error=True)

    # The package's CSV: pd.DataFrame(y_score).to_csv(path, header=None), named by get_standard_evaluation_filename.
    csv = {}
    for name in ["binary_n2", "multiclass_float32", "binary_n"]:
        scores = np.load(os.path.join(d, f"{name}_scores.npy"))[:5]
        buf = io.StringIO()
        import pandas as pd
        pd.DataFrame(scores).to_csv(buf, header=None)
        csv[name] = buf.getvalue()
    write_json(os.path.join(d, "cases.json"), {"cases": cases, "csv_first5": csv,
                                               "sklearn": __import__("sklearn").__version__})


# -------------------------------------------------------------------------------------------- npz
def smooth_images(rng, n, shape, noise=6):
    """Smooth blobs plus noise, uint8: compresses like real scans, not like random bytes."""
    grids = np.meshgrid(*[np.linspace(-1, 1, s) for s in shape], indexing="ij")
    out = np.empty((n,) + tuple(shape), dtype=np.uint8)
    for i in range(n):
        centre = rng.uniform(-0.5, 0.5, size=len(shape))
        r2 = sum((g - c) ** 2 for g, c in zip(grids, centre))
        img = 200 * np.exp(-r2 / rng.uniform(0.1, 0.4)) + 20 + rng.normal(0, noise, size=shape)
        out[i] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def make_npz():
    d = os.path.join(OUT, "npz")
    tiny = os.path.join(d, "tiny")
    os.makedirs(tiny, exist_ok=True)
    rng = np.random.default_rng(7)
    meta = {}

    # Catalog-valid BreastMNIST-28: real split sizes; images nearly constant so the file stays small.
    n = INFO["breastmnist"]["n_samples"]
    arrays = {}
    for split in ["train", "val", "test"]:
        k = n[split]
        imgs = np.zeros((k, 28, 28), dtype=np.uint8)
        imgs[:, 14, 14] = np.arange(k) % 256  # each image marked with its index
        imgs[:, 0, 0] = 255
        arrays[f"{split}_images"] = imgs
        arrays[f"{split}_labels"] = rng.integers(0, 2, size=(k, 1)).astype(np.uint8)
    path = os.path.join(d, "breastmnist.npz")
    np.savez_compressed(path, **arrays)
    # Scores for its test split and the package's Evaluator on them (root = this folder).
    yt = arrays["test_labels"]
    p = np.clip(np.round((0.3 * yt[:, 0] + rng.uniform(0, 0.7, size=len(yt))) * 20) / 20, 0, 1)
    scores = np.stack([1 - p, p], axis=1).astype(np.float32)
    np.save(os.path.join(d, "breastmnist_test_scores.npy"), scores)
    ev = Evaluator("breastmnist", "test", size=28, root=d)
    m = ev.evaluate(scores)
    meta["breastmnist"] = {"md5": md5(path), "bytes": os.path.getsize(path), "auc": float(m.AUC),
                           "acc": float(m.ACC), "csv_name_run_fixture": ev.get_standard_evaluation_filename(m, "fixture")}
    # Scores for 10 samples, not the 156 of the test split: the Evaluator's shape error (LoadingTests).
    np.save(os.path.join(d, "breastmnist_bad_scores.npy"), np.zeros((10, 2), dtype=np.float32))

    def tiny_set(name, sizes, image_shape, label_fn, compressed=True, noise=6, **overrides):
        arrays = {}
        for split, k in zip(["train", "val", "test"], sizes):
            arrays[f"{split}_images"] = smooth_images(rng, k, image_shape, noise)
            arrays[f"{split}_labels"] = label_fn(k)
        for key, value in overrides.items():
            if value is None:
                del arrays[key]
            else:
                arrays[key] = value
        p = os.path.join(tiny, name)
        (np.savez_compressed if compressed else np.savez)(p, **arrays)
        meta[name] = {"md5": md5(p), "bytes": os.path.getsize(p),
                      "arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype),
                                     "sum": int(v.astype(np.int64).sum()),
                                     "first": v.reshape(-1)[:8].astype(int).tolist()} for k, v in arrays.items()}}
        return arrays

    sizes = (6, 3, 4)
    # Valid tiny sets, named like catalog files; tests give them a catalog entry with split sizes 6/3/4.
    lab = lambda c: (lambda k: rng.integers(0, c, size=(k, 1)).astype(np.uint8))
    tiny_set("bloodmnist_64.npz", sizes, (64, 64, 3), lab(8), noise=0)
    tiny_set("chestmnist.npz", sizes, (28, 28), lambda k: (rng.uniform(size=(k, 14)) < 0.3).astype(np.uint8))
    tiny_set("organmnist3d.npz", sizes, (28, 28, 28), lab(11), noise=0)
    tiny_set("pneumoniamnist_stored.npz", sizes, (28, 28), lab(2), compressed=False)
    tiny_set("dermamnist_int64labels.npz", sizes, (28, 28, 3),
             lambda k: rng.integers(0, 7, size=(k, 1)).astype(np.int64))
    # Custom sets (task inferred from the labels).
    tiny_set("custom_multilabel.npz", sizes, (32, 32), lambda k: (rng.uniform(size=(k, 3)) < 0.5).astype(np.uint8))
    tiny_set("custom_binary.npz", sizes, (32, 32), lab(2))
    tiny_set("custom_multiclass.npz", sizes, (32, 32, 3), lab(4))
    # Broken ones.
    tiny_set("missing_key.npz", sizes, (28, 28), lab(2), val_labels=None)
    tiny_set("float_images.npz", sizes, (28, 28), lab(2),
             train_images=rng.uniform(size=(6, 28, 28)).astype(np.float32))
    tiny_set("label_out_of_range.npz", sizes, (28, 28), lab(2),
             test_labels=np.array([[0], [1], [2], [1]], dtype=np.uint8))
    tiny_set("wrong_image_shape.npz", sizes, (28, 28), lab(2),
             val_images=smooth_images(rng, 3, (28, 27)))
    tiny_set("label_count_mismatch.npz", sizes, (28, 28), lab(2),
             train_labels=rng.integers(0, 2, size=(5, 1)).astype(np.uint8))
    tiny_set("fortran_images.npz", sizes, (28, 28), lab(2),
             train_images=np.asfortranarray(smooth_images(rng, 6, (28, 28))))
    good = os.path.join(tiny, "chestmnist.npz")
    raw = open(good, "rb").read()
    open(os.path.join(tiny, "truncated.npz"), "wb").write(raw[: len(raw) // 2])
    # Flip one byte inside the first member's compressed data: a CRC or inflate error.
    with zipfile.ZipFile(good) as z:
        first = z.infolist()[0]
    local = first.header_offset
    name_len = int.from_bytes(raw[local + 26: local + 28], "little")
    extra_len = int.from_bytes(raw[local + 28: local + 30], "little")
    start = local + 30 + name_len + extra_len
    corrupt = bytearray(raw)
    corrupt[start + first.compress_size // 2] ^= 0x01
    open(os.path.join(tiny, "corrupt.npz"), "wb").write(bytes(corrupt))
    # Stored copy whose data byte is changed: inflate cannot notice, only the CRC can.
    stored = open(os.path.join(tiny, "pneumoniamnist_stored.npz"), "rb").read()
    with zipfile.ZipFile(os.path.join(tiny, "pneumoniamnist_stored.npz")) as z:
        first = z.infolist()[0]
    local = first.header_offset
    name_len = int.from_bytes(stored[local + 26: local + 28], "little")
    extra_len = int.from_bytes(stored[local + 28: local + 30], "little")
    bad = bytearray(stored)
    bad[local + 30 + name_len + extra_len + 200] ^= 0x10
    open(os.path.join(tiny, "crc_mismatch.npz"), "wb").write(bytes(bad))
    write_json(os.path.join(d, "meta.json"), meta)


# ------------------------------------------------------------------------------------- transforms
def make_transforms():
    d = os.path.join(OUT, "transforms")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(11)
    gray = rng.integers(0, 256, size=(2, 5, 7), dtype=np.uint8)
    rgb = rng.integers(0, 256, size=(2, 6, 5, 3), dtype=np.uint8)
    np.save(os.path.join(d, "gray.npy"), gray)
    np.save(os.path.join(d, "rgb.npy"), rgb)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

    def paper(imgs, pad_to):
        # MEDMNIST.md §1.3: PIL image, convert('RGB'), ToTensor, Normalize, Pad (zeros after normalisation).
        size = imgs.shape[1]
        total = max(0, pad_to - size)
        l = total // 2
        r = total - l
        tf = T.Compose([T.ToTensor(), T.Normalize(mean, std), T.Pad((l, l, r, r), fill=0, padding_mode="constant")])
        return torch.stack([tf(Image.fromarray(im).convert("RGB")) for im in imgs]).numpy()

    square_gray = rng.integers(0, 256, size=(2, 6, 6), dtype=np.uint8)
    square_rgb = rng.integers(0, 256, size=(2, 6, 6, 3), dtype=np.uint8)
    np.save(os.path.join(d, "square_gray.npy"), square_gray)
    np.save(os.path.join(d, "square_rgb.npy"), square_rgb)
    np.save(os.path.join(d, "paper_gray_pad11.npy"), paper(square_gray, 11))
    np.save(os.path.join(d, "paper_rgb_pad10.npy"), paper(square_rgb, 10))

    def to_tensor(imgs):
        t = torch.from_numpy(imgs).float().div(255)
        return t.permute(0, 3, 1, 2).contiguous() if t.ndim == 4 else t[:, None]

    for name, imgs in [("gray", gray), ("rgb", rgb)]:
        x = to_tensor(imgs)
        for (h, w) in [(11, 13), (3, 4), (5, 7)]:
            for mode in ["bilinear", "nearest", "nearest-exact"]:
                kw = {"align_corners": False} if mode == "bilinear" else {}
                y = F.interpolate(x, size=(h, w), mode=mode, **kw)
                np.save(os.path.join(d, f"{name}_{mode}_{h}x{w}.npy"), y.numpy())
    # PIL NEAREST on uint8 (the v2 baselines' 28 → 224) equals torch's nearest-exact; recorded to show it.
    pil = np.stack([np.asarray(Image.fromarray(im).resize((13, 11), Image.NEAREST)) for im in gray])
    np.save(os.path.join(d, "gray_pil_nearest_11x13.npy"), pil)
    write_json(os.path.join(d, "cases.json"), {"mean": mean, "std": std, "torch": torch.__version__})


# ----------------------------------------------------------------------------------------- shuffle
MASK = (1 << 64) - 1


class PortableRandom:
    """xoshiro256** seeded through SplitMix64, Lemire's bounded integers, Fisher–Yates: a line-by-line port of
    MedTensor's RandomGenerator, so the golden permutations do not come from the code under test."""

    def __init__(self, seed):
        self.mixer = seed & MASK

        def split_mix():
            self.mixer = (self.mixer + 0x9E3779B97F4A7C15) & MASK
            z = self.mixer
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            return z ^ (z >> 31)

        self.s = [split_mix() for _ in range(4)]

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.s
        result = (self.rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 45)
        return result

    def next_int_below(self, bound):
        product = self.next() * bound
        low = product & MASK
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                product = self.next() * bound
                low = product & MASK
        return product >> 64

    def permutation(self, count):
        values = list(range(count))
        for i in range(count - 1, 0, -1):
            j = self.next_int_below(i + 1)
            values[i], values[j] = values[j], values[i]
        return values


def make_shuffle():
    cases = []
    for seed, count in [(0, 10), (42, 25), (2024, 100)]:
        cases.append({"seed": seed, "count": count, "permutation": PortableRandom(seed).permutation(count)})
    big = PortableRandom(7).permutation(89996)
    cases.append({"seed": 7, "count": 89996, "first": big[:16], "last": big[-16:]})
    # Epoch orders of a loader: generator seeded once, one permutation per epoch.
    g = PortableRandom(123)
    epochs = [g.permutation(13) for _ in range(3)]
    write_json(os.path.join(OUT, "shuffle.json"), {"cases": cases, "epochs_seed123_count13": epochs})


# ----------------------------------------------------------------------------------------- montage
def make_montage():
    d = os.path.join(OUT, "montage")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(5)
    gray = rng.integers(0, 256, size=(10, 4, 4), dtype=np.uint8)
    rgb = rng.integers(0, 256, size=(10, 3, 3, 3), dtype=np.uint8)
    sel = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5])  # length 3, with repeats
    np.save(os.path.join(d, "gray.npy"), gray)
    np.save(os.path.join(d, "rgb.npy"), rgb)
    np.save(os.path.join(d, "sel.npy"), sel)
    np.save(os.path.join(d, "gray_montage.npy"), np.asarray(montage2d(gray, 1, sel)))
    np.save(os.path.join(d, "rgb_montage.npy"), np.asarray(montage2d(rgb, 3, sel)))


if __name__ == "__main__":
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    make_info()
    make_evaluator()
    make_npz()
    make_transforms()
    make_shuffle()
    make_montage()
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")
