#!/usr/bin/env python3
"""Regenerate the IO fixtures in Tests/Fixtures/io/ (npy and safetensors files written by numpy, the
`safetensors` library and PyTorch), and check files written by the Swift code.

    python3 Tests/Fixtures/make_io_fixtures.py            # (re)write Tests/Fixtures/io/
    python3 Tests/Fixtures/make_io_fixtures.py verify DIR # check the files the Swift tests wrote into DIR
                                                          # (run the tests with MEDTENSOR_IO_VERIFY_DIR=DIR)

Needs numpy and safetensors (`pip install safetensors`). torch is optional: without it the bfloat16 fixtures
are computed with the same round-to-nearest-even rule in numpy and the BF16 safetensors file is crafted by
hand. The Swift tests hard-code the same values as VALUES below; change both together.
"""
import json
import os
import struct
import sys

import warnings

import numpy as np

warnings.filterwarnings("ignore", "overflow encountered in cast")  # float16 overflow to Inf is intended

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "io")

try:
    import torch
except Exception:  # torch is optional
    torch = None

# One (2, 3) array per npy dtype, chosen to hit the edges of each type. int64 includes 2**53 + 1, which a
# Float round trip would corrupt.
VALUES = {
    "b1": [True, False, True, False, False, True],
    "u1": [0, 1, 127, 128, 254, 255],
    "i1": [-128, -1, 0, 1, 100, 127],
    "u2": [0, 1, 255, 256, 65534, 65535],
    "i2": [-32768, -1, 0, 1, 12345, 32767],
    "i4": [-2147483648, -1, 0, 1, 123456789, 2147483647],
    "i8": [-9223372036854775808, -1, 0, 1, 9007199254740993, 9223372036854775807],
    "f2": [0.0, -0.0, 1.5, -65504.0, 2.0 ** -24, float("inf")],
    "f4": [0.0, -0.0, 1.5, -2.25, float(np.finfo(np.float32).max), float(np.finfo(np.float32).smallest_subnormal)],
    "f8": [0.0, -0.0, 0.1, 1e300, -2.5, 5e-324],
}


def path(*parts):
    return os.path.join(OUT, *parts)


def save_npy(name, array, version=None):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=False)


def arange(n, dtype):
    return np.arange(n).astype(dtype)


def make_npy():
    for code, values in VALUES.items():
        save_npy(f"dtype_{code}.npy", np.array(values, dtype="<" + code if code[1] != "1" else code).reshape(2, 3))
    # Fortran order (C order values 0..23 after conversion), also combined with big-endian.
    save_npy("fortran_i4.npy", np.asfortranarray(arange(24, "<i4").reshape(2, 3, 4)))
    save_npy("fortran_f8.npy", np.asfortranarray(arange(6, "<f8").reshape(2, 3) * 0.5))
    save_npy("fortran_be_i2.npy", np.asfortranarray(arange(12, ">i2").reshape(3, 2, 2) - 6))
    # Big-endian.
    save_npy("be_f8.npy", arange(6, ">f8").reshape(2, 3) * 1.25)
    save_npy("be_i4.npy", np.array([-2, -1, 0, 1, 2, 2**31 - 1], dtype=">i4"))
    save_npy("be_u2.npy", np.array([1, 258, 65535], dtype=">u2"))
    save_npy("be_f2.npy", np.array([1.0, -2.0, 0.5, 65504.0], dtype=">f2"))
    save_npy("be_i8.npy", np.array([-(2**62), 2**40 + 7], dtype=">i8"))
    # Header versions.
    for major in (1, 2, 3):
        save_npy(f"version_{major}.npy", arange(6, "<f4").reshape(2, 3), version=(major, 0))
    # 0-d, empty, bool.
    save_npy("scalar_f4.npy", np.array(3.5, dtype="<f4"))
    save_npy("scalar_i8.npy", np.array(-7, dtype="<i8"))
    save_npy("empty_f4.npy", np.zeros((0, 3), dtype="<f4"))
    save_npy("empty_fortran_u1.npy", np.asfortranarray(np.zeros((2, 0, 4), dtype="u1")))
    save_npy("bool_1d.npy", np.array([True, True, False], dtype="?"))


def conversion_sources(kind, rng):
    """float32 inputs for the f16 / bf16 conversion fixtures: specials, boundaries, exact ties, random bits."""
    f = lambda x: np.float32(x).view(np.uint32)  # noqa: E731
    bits = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000,  # ±0, ±Inf
            0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF, 0xFF802000,  # NaNs: quiet, signalling, payloads
            0x00000001, 0x807FFFFF, 0x00400000,  # float32 subnormals
            0x7F7FFFFF, 0xFF7FFFFF]  # ±max float32
    if kind == "f16":
        for x in [65504, 65505, 65519, 65519.996, 65520, 65536, 2.0**-14, 2.0**-24, 2.0**-25, 3 * 2.0**-26,
                  1.5 * 2.0**-24, 2.5 * 2.0**-24, 1023.5 * 2.0**-24, 1023.75 * 2.0**-24, 6.1e-5, -6.1e-5]:
            bits.append(f(x))
            bits.append(f(-x))
        bits += [0x33000000, 0x33000001, 0x337FFFFF, 0x387FFFFF, 0x38800000, 0x477FEFFF, 0x477FF000, 0x477FF001]
        # Normal ties: the 13 dropped bits are exactly 0x1000, with an even and an odd kept mantissa.
        for e in range(113, 143, 3):
            for m in (0x000000, 0x002000, 0x7FC000, 0x123456 & ~0x1FFF):
                bits.append((e << 23) | m | 0x1000)
                bits.append((e << 23) | m | 0x0FFF)
                bits.append((e << 23) | m | 0x1001)
        # Subnormal ties: (k + 1/2) * 2^-24 for even and odd k.
        for k in (0, 1, 2, 3, 100, 101, 1022, 1023):
            bits.append(f((k + 0.5) * 2.0**-24))
        focus = (rng.integers(100, 144, 300, dtype=np.uint32) << 23) | rng.integers(0, 1 << 23, 300, dtype=np.uint32)
    else:
        # bfloat16 ties: the 16 dropped bits are exactly 0x8000.
        for e in (1, 50, 127, 200, 254):
            for m in (0x000000, 0x010000, 0x7F0000):
                bits.append((e << 23) | m | 0x8000)
                bits.append((e << 23) | m | 0x7FFF)
                bits.append((e << 23) | m | 0x8001)
        bits += [0x7F7F8000, 0x7F7F7FFF, 0x007F8000, 0x00008000, 0x00018000]  # overflow, subnormal ties
        focus = (rng.integers(0, 255, 300, dtype=np.uint32) << 23) | rng.integers(0, 1 << 23, 300, dtype=np.uint32)
    sign = rng.integers(0, 2, focus.size, dtype=np.uint32) << 31
    anything = rng.integers(0, 2**32, 400, dtype=np.uint64).astype(np.uint32)
    return np.concatenate([np.array(bits, dtype=np.uint32), focus | sign, anything]).view("<f4")


def bf16_bits(x):
    """PyTorch's rounding when torch is missing: c10::BFloat16 round_to_nearest_even (NaN → 0x7FC0)."""
    u = x.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(x), np.uint16(0x7FC0), r)


def make_conversions():
    rng = np.random.default_rng(20240601)
    src = conversion_sources("f16", rng)
    save_npy("f16_source_f32.npy", src)
    half = src.astype("<f2")
    save_npy("f16_numpy.npy", half)
    save_npy("f16_numpy_widened_f32.npy", half.astype("<f4"))  # f16 -> f32, exact
    src = conversion_sources("bf16", rng)
    save_npy("bf16_source_f32.npy", src)
    if torch is not None:
        bits = torch.from_numpy(src.copy()).to(torch.bfloat16).view(torch.int16).numpy().view("<u2")
    else:
        bits = bf16_bits(src)
    save_npy("bf16_torch_u2.npy", bits.astype("<u2"))


def numpy_tensors():
    return {
        "weight": np.array([[1.0, -2.0, 3.5], [0.25, -0.0, 1e-3]], dtype=np.float32),
        "scalar": np.array(7.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "half": np.array([1.0, -0.5, 65504.0, 2.0**-24], dtype=np.float16),
        "double": np.array([0.1, -1e300], dtype=np.float64),
        "labels": np.array([0, 1, -1, 2**53 + 1, -(2**63)], dtype=np.int64),
        "i32": np.array([-(2**31), 2**31 - 1], dtype=np.int32),
        "i16": np.array([-300, 300], dtype=np.int16),
        "i8": np.array([-128, 127, 0], dtype=np.int8),
        "pixels": np.array([[0, 255], [17, 128]], dtype=np.uint8),
        "mask": np.array([True, False, True]),
        "u16": np.array([0, 65535], dtype=np.uint16),
    }


def make_safetensors():
    from safetensors.numpy import save_file as np_save_file

    np_save_file(numpy_tensors(), path("numpy.safetensors"), metadata={"format": "np"})
    metadata = {"format": "pt", "note": 'unicode \u2713 "quoted"\n\ttab', "empty": ""}
    np_save_file({"x": np.arange(3, dtype=np.float32)}, path("metadata.safetensors"), metadata=metadata)
    bf16 = np.array([[1.0, -2.0, 0.0078125], [3.140625, -0.0, 65280.0]], dtype=np.float32)
    tensors = {
        "conv.weight": bf16,
        "fc.weight": np.array([0.5, -1.25], dtype=np.float16),
        "fc.bias": np.array([0.125, 8.0], dtype=np.float32),
        "bn.num_batches_tracked": np.array(12345, dtype=np.int64),
    }
    if torch is not None:
        from safetensors.torch import save_file as torch_save_file

        tt = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
        tt["conv.weight"] = tt["conv.weight"].to(torch.bfloat16)
        torch_save_file(tt, path("torch.safetensors"), metadata={"format": "pt"})
    else:
        # Craft the bytes the library would write: same order (dtype rank descending, then name), padding.
        order = [("bn.num_batches_tracked", "I64"), ("fc.bias", "F32"), ("conv.weight", "BF16"), ("fc.weight", "F16")]
        header, data = {"__metadata__": {"format": "pt"}}, b""
        for name, dt in order:
            raw = bf16_bits(tensors[name]).tobytes() if dt == "BF16" else tensors[name].tobytes()
            header[name] = {"dtype": dt, "shape": list(tensors[name].shape), "data_offsets": [len(data), len(data) + len(raw)]}
            data += raw
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * ((8 - len(text) % 8) % 8)
        with open(path("torch.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + data)


def verify(directory):
    """Check files the Swift tests wrote: numpy and safetensors must read back VALUES exactly."""
    from safetensors.numpy import load_file

    failures = 0
    for code, values in VALUES.items():
        a = np.load(os.path.join(directory, f"swift_{code}.npy"))
        expected = np.array(values, dtype="<" + code if code[1] != "1" else code).reshape(2, 3)
        same = a.dtype == expected.dtype and a.shape == expected.shape and a.tobytes() == expected.tobytes()
        with open(os.path.join(directory, f"swift_{code}.npy"), "rb") as f:
            same = same and f.read() == open(path(f"dtype_{code}.npy"), "rb").read()
        print(("ok  " if same else "FAIL"), f"swift_{code}.npy")
        failures += not same
    loaded = load_file(os.path.join(directory, "swift.safetensors"))
    for name, expected in numpy_tensors().items():
        same = loaded[name].dtype == expected.dtype and loaded[name].shape == expected.shape \
            and loaded[name].tobytes() == expected.tobytes()
        print(("ok  " if same else "FAIL"), f"swift.safetensors:{name}")
        failures += not same
    from safetensors import safe_open

    with safe_open(os.path.join(directory, "swift.safetensors"), "np") as f:
        same = f.metadata() == {"format": "np"}
        print(("ok  " if same else "FAIL"), "swift.safetensors:__metadata__")
        failures += not same
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        verify(sys.argv[2])
    else:
        os.makedirs(OUT, exist_ok=True)
        make_npy()
        make_conversions()
        make_safetensors()
        for n in os.listdir(OUT):  # the safetensors library creates 0600 files
            os.chmod(path(n), 0o644)
        total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
        print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT} (torch: {torch is not None})")
