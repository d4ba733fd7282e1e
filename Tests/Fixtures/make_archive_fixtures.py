#!/usr/bin/env python3
"""Writes the fixtures of Tests/MedMNISTDataTests/ArchiveTests.swift into Tests/Fixtures/archive/.

Run from anywhere: `python3 Tests/Fixtures/make_archive_fixtures.py` (needs numpy). The tests only read
the files; they never run Python. Everything is seeded and time-stamped with a fixed clock, so a rerun
gives the same bytes (as long as zlib's and zipfile's output does not change).

Outputs:
- raw DEFLATE streams (`*.deflate`) made by zlib with wbits=-15, at levels 0/1/6/9 and with special
  strategies, flushes and tiny memLevel (many small blocks);
- zip archives made by `zipfile`, `numpy.savez` and `numpy.savez_compressed`, zip64 ones, one with a
  prefix, and broken ones (bad CRC, encrypted flag, unsupported methods);
- `sample.bin`, the uncompressed data of the `sample.*` streams;
- `manifest.json`: for every stream its decoded size, CRC-32 and MD5; for every archive the entry list
  exactly as Python's zipfile reads it, with each entry's MD5.
"""
import hashlib
import io
import json
import os
import struct
import time
import zipfile
import zlib

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "archive")
FIXED_TIME = (2024, 1, 16, 12, 0, 0)

# numpy.savez time-stamps entries with the current time; pin the clock for reproducible bytes.
os.environ["TZ"] = "UTC"
time.tzset()
time.time = lambda: 1705406400.0


def md5(data):
    return hashlib.md5(data).hexdigest()


def image_like(rng, shape):
    """Smooth structures plus sensor noise, uint8: compresses about as badly as real scans (~1.3-1.5x)."""
    n, h, w = shape[:3]
    coarse = rng.normal(128, 50, size=(n, 4, 4) + tuple(shape[3:]))
    ys = np.linspace(0, 3, h)
    xs = np.linspace(0, 3, w)
    y0 = np.floor(ys).astype(int).clip(0, 2)
    x0 = np.floor(xs).astype(int).clip(0, 2)
    fy = (ys - y0)[None, :, None]
    fx = (xs - x0)[None, None, :]
    if coarse.ndim == 4:
        fy, fx = fy[..., None], fx[..., None]
    top = coarse[:, y0][:, :, x0] * (1 - fx) + coarse[:, y0][:, :, x0 + 1] * fx
    bottom = coarse[:, y0 + 1][:, :, x0] * (1 - fx) + coarse[:, y0 + 1][:, :, x0 + 1] * fx
    smooth = top * (1 - fy) + bottom * fy
    noisy = smooth + rng.normal(0, 6, size=smooth.shape)
    return noisy.clip(0, 255).astype(np.uint8)


def sample_bytes():
    rng = np.random.default_rng(1)
    image = image_like(rng, (1, 64, 128)).tobytes()  # 8 KiB
    text = (b"MedMNIST+ is a collection of standardized biomedical images. " * 80)[:4096]
    labels = rng.integers(0, 9, 4096, dtype=np.uint8).tobytes()
    return image + text + labels


def overlap_bytes():
    """Runs with periods 1..23 (overlapping copies of every short distance), a far repeat and zeros."""
    rng = np.random.default_rng(2)
    parts = []
    for period in range(1, 24):
        unit = rng.integers(0, 256, period, dtype=np.uint8).tobytes()
        parts.append((unit * (700 // period + 2))[: 600 + 7 * period])
    block = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    parts += [block, b"\0" * 20000, block, b"\x80" * 5000, block[:1000] * 3]
    return b"".join(parts)


def deflate(data, level=6, mem_level=8, strategy=zlib.Z_DEFAULT_STRATEGY, chunks=None, flush=None):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, mem_level, strategy)
    if chunks is None:
        return c.compress(data) + c.flush()
    out = b""
    for i in range(0, len(data), chunks):
        out += c.compress(data[i : i + chunks]) + c.flush(flush)
    return out + c.flush()


def zip_info(name, method=zipfile.ZIP_DEFLATED):
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = method
    return info


def describe_zip(data):
    """The entry list as Python's zipfile reads it; entries it cannot extract get md5 None."""
    entries = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            try:
                digest = md5(z.read(info))
            except (RuntimeError, NotImplementedError, zipfile.BadZipFile):
                digest = None
            entries.append(
                dict(name=info.filename, method=info.compress_type, compressedSize=info.compress_size,
                     size=info.file_size, crc32=info.CRC, headerOffset=info.header_offset, md5=digest))
    return entries


def medmnist_arrays(rng, n):
    return {
        "train_images": image_like(rng, (n, 28, 28)),
        "train_labels": rng.integers(0, 9, (n, 1), dtype=np.uint8),
        "val_images": image_like(rng, (2, 28, 28, 3)),
        "val_labels": rng.integers(0, 9, (2, 1), dtype=np.uint8),
        "test_images": image_like(rng, (4, 28, 28)),
        "test_labels": rng.integers(0, 2, (4, 14), dtype=np.uint8),
    }


def build_zips():
    zips = {}
    rng = np.random.default_rng(3)
    sample = sample_bytes()
    small_image = image_like(rng, (1, 32, 32)).tobytes()

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.comment = b"stored entries; this comment follows the end record"
        z.writestr(zip_info("readme.txt", zipfile.ZIP_STORED), b"hello zip\n" * 20)
        z.writestr(zip_info("image.raw", zipfile.ZIP_STORED), small_image)
        z.writestr(zip_info("empty.bin", zipfile.ZIP_STORED), b"")
        z.writestr(zip_info("folder/", zipfile.ZIP_STORED), b"")
    zips["zipfile_stored.zip"] = buf.getvalue()

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(zip_info("sample.bin"), sample[:6000])
        z.writestr(zip_info("données/é.txt"), "UTF-8 name, flag bit 11\n".encode() * 10)
        z.writestr(zip_info("empty.txt"), b"")
        z.writestr(zip_info("tiny.txt"), b"x")
    zips["zipfile_deflated.zip"] = buf.getvalue()

    arrays = medmnist_arrays(np.random.default_rng(4), 8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    zips["numpy_savez.npz"] = buf.getvalue()
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    zips["numpy_savez_compressed.npz"] = buf.getvalue()

    # force_zip64 puts zip64 extra fields into the local headers (numpy does the same).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, method, payload in [("a.bin", zipfile.ZIP_DEFLATED, sample[:5000]),
                                      ("b.bin", zipfile.ZIP_STORED, small_image)]:
            info = zip_info(name, method)
            with z.open(info, "w", force_zip64=True) as f:
                f.write(payload)
    zips["zip64_forced.zip"] = buf.getvalue()

    # Real zip64 structures (central directory extras with 64-bit sizes and offsets, zip64 end record
    # and locator) normally need > 4 GiB; lowering zipfile's limits makes its own writer emit them.
    saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 100, 2
    try:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(zip_info("one.bin"), sample[:3000])
            z.writestr(zip_info("two.bin", zipfile.ZIP_STORED), small_image)
            z.writestr(zip_info("three.bin"), sample[8192:12288])
        zips["zip64_full.zip"] = buf.getvalue()
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved
    data = zips["zip64_full.zip"]
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data and b"\xff\xff\xff\xff" in data

    # A self-extractor-style prefix: every recorded offset is off by its length.
    zips["prefixed.zip"] = b"#!/bin/sh\necho this is not zip data\nexit 0\n" + zips["zipfile_deflated.zip"]

    # One flipped data byte in a stored entry: CRC mismatch (Python: "Bad CRC-32").
    bad = bytearray(zips["zipfile_stored.zip"])
    position = bad.index(b"hello zip") + 3
    bad[position] ^= 0x20
    zips["bad_crc.zip"] = bytes(bad)

    # Encryption flag set in both headers (zipfile cannot write encrypted entries itself).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zip_info("secret.txt", zipfile.ZIP_STORED), b"not really encrypted")
    enc = bytearray(buf.getvalue())
    enc[enc.index(b"PK\x03\x04") + 6] |= 1
    enc[enc.index(b"PK\x01\x02") + 8] |= 1
    zips["encrypted_flag.zip"] = bytes(enc)

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zip_info("bzip2.txt", zipfile.ZIP_BZIP2), b"bzip2 " * 50)
        z.writestr(zip_info("lzma.txt", zipfile.ZIP_LZMA), b"lzma " * 50)
        z.writestr(zip_info("plain.txt", zipfile.ZIP_DEFLATED), b"deflate " * 50)
    zips["other_methods.zip"] = buf.getvalue()
    return zips


def build_streams():
    sample = sample_bytes()
    overlap = overlap_bytes()
    rng = np.random.default_rng(5)
    mixed = rng.integers(0, 256, 1500, dtype=np.uint8).tobytes() + sample[:3000] + b"ab" + sample[12288:]
    runs = b"\0" * 20000 + sample[:1500] + b"\x80" * 5000 + b"\x01\x02" * 300
    return {
        "sample.l0.deflate": (sample, deflate(sample, 0)),
        "sample.l1.deflate": (sample, deflate(sample, 1)),
        "sample.l6.deflate": (sample, deflate(sample, 6)),
        "sample.l9.deflate": (sample, deflate(sample, 9)),
        "sample.l6.memlevel1.deflate": (sample, deflate(sample, 6, mem_level=1)),
        "text.fixed.deflate": (sample[6144:], deflate(sample[6144:], 9, strategy=zlib.Z_FIXED)),
        "text.huffman_only.deflate": (sample[8192:], deflate(sample[8192:], 6, strategy=zlib.Z_HUFFMAN_ONLY)),
        "overlap.l9.deflate": (overlap, deflate(overlap, 9)),
        "runs.rle.deflate": (runs, deflate(runs, 6, strategy=zlib.Z_RLE)),
        "overlap.l1.deflate": (overlap, deflate(overlap, 1)),
        "mixed.sync_flush.deflate": (mixed, deflate(mixed, 6, chunks=1000, flush=zlib.Z_SYNC_FLUSH)),
        "mixed.full_flush.deflate": (mixed, deflate(mixed, 6, chunks=2500, flush=zlib.Z_FULL_FLUSH)),
        "empty.deflate": (b"", deflate(b"", 6)),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {"streams": {}, "zips": {}}
    for name, (plain, stream) in build_streams().items():
        assert zlib.decompress(stream, -15) == plain
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(stream)
        manifest["streams"][name] = dict(size=len(plain), crc32=zlib.crc32(plain), md5=md5(plain))
    with open(os.path.join(OUT, "sample.bin"), "wb") as f:
        f.write(sample_bytes())
    for name, data in build_zips().items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        manifest["zips"][name] = dict(md5=md5(data), entries=describe_zip(data))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
