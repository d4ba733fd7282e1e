#!/usr/bin/env python3
"""Regenerate the PyTorch checkpoint fixtures in Tests/Fixtures/torch/ for TorchCheckpointTests.swift.

    python3 Tests/Fixtures/make_torch_fixtures.py

Needs torch (written with 2.15) and safetensors. Each NAME.pth written by torch.save comes with
NAME.safetensors holding the same state dict made contiguous, which the Swift tests compare against
bit for bit. The malicious files are built by hand (no torch.save can write them) and must be rejected.

Files:
  basic.pth              zip format, every supported dtype, views of one shared storage (offsets, strides),
                         transposed/permuted (non-contiguous) and expanded (stride 0) tensors, 0-dim, empty
  basic_archive.pth      the same written to a BytesIO (top-level folder "archive" instead of "basic")
  basic_p4.pth           the same with pickle_protocol=4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL)
  basic_legacy.pth       the same without uint16 (torch cannot read uint16 back from this format) in the legacy
                         (non-zip) format, _use_new_zipfile_serialization=False (expected: bigendian.safetensors)
  basic_legacy_p5.pth    legacy format, pickle_protocol=5 (expected: bigendian.safetensors)
  bigendian.pth          basic.pth re-packed with byteorder "big" and every storage byte-swapped
                         (expected: bigendian.safetensors)
  module.pth             an nn.Module state_dict (conv, batch norm with num_batches_tracked, linear) after
                         two training steps; module_legacy.pth the same in the legacy format
  wrapped.pth            {"state_dict": ..., "epoch", "arch", "best_acc", "optimizer": SGD state} (zip)
  wrapped_model.pth      {"model": ..., "epoch"} (legacy)
  params.pth             a dict of nn.Parameter (torch._utils._rebuild_parameter)
  malicious.pth          zip whose data.pkl is GLOBAL os.system + REDUCE
  malicious_legacy.pth   legacy header, then STACK_GLOBAL builtins.eval + REDUCE (protocol 4)
"""
import io
import os
import warnings
import pickle
import struct
import sys
import zipfile

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch")


def contiguous(sd):
    return {k: v.detach().clone().contiguous() for k, v in sd.items()}


def basic_dict(with_uint16=True):
    g = torch.Generator().manual_seed(0)
    base = torch.arange(24, dtype=torch.float32)
    half = torch.randn(4, 6, generator=g).to(torch.float16)
    d = {
        "f32": torch.randn(3, 4, generator=g),
        "f16": torch.randn(5, generator=g).to(torch.float16),
        "bf16": torch.randn(2, 3, generator=g).to(torch.bfloat16),
        "f64": torch.randn(2, 2, generator=g, dtype=torch.float64),
        "i64": torch.tensor([0, -1, 2**53 + 1, -(2**63), 2**63 - 1], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), -1, 0, 2**31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, 12345, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 17, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
        # non-contiguous views
        "transposed": torch.randn(3, 4, generator=g).t(),
        "permuted": torch.randn(2, 3, 4, generator=g).permute(2, 0, 1),
        "half_transposed": half.t(),
        "half_full": half,
        "expanded": torch.tensor([1.0, 2.0, 3.0]).expand(4, 3),
        # one storage, several views with offsets and strides
        "base": base,
        "view_a": base[2:8],
        "view_b": base.view(4, 6)[1:3, ::2],
        "view_c": base.view(4, 6)[:, 5],
        "view_d": base.view(2, 3, 4)[1].t(),
    }
    if with_uint16:
        d["u16"] = torch.tensor([0, 1, 40000, 65535], dtype=torch.int32).to(torch.uint16)
    return d


def module_state_dict():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(16, 2),
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        x = torch.randn(5, 3, 4, 4)
        loss = model(x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.state_dict(), opt.state_dict()


def save_pair(name, obj, state_dict, **kwargs):
    torch.save(obj, os.path.join(OUT, name + ".pth"), **kwargs)
    save_file(contiguous(state_dict), os.path.join(OUT, name + ".safetensors"))


ELEMENT_SIZES = {
    "DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
    "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
}


def storage_element_sizes(data_pkl):
    """Element size of each storage key named in a zip checkpoint's data.pkl, without running torch code."""
    sizes = {}

    class Reader(pickle.Unpickler):
        def find_class(self, module, name):
            if name.endswith("Storage"):
                return name
            return lambda *args, **kwargs: None

        def persistent_load(self, pid):
            storage_type, key = pid[1], pid[2]
            if storage_type == "UntypedStorage":
                raise SystemExit("bigendian fixture: untyped storages have no element size")
            sizes[key] = ELEMENT_SIZES[storage_type]
            return None

    Reader(io.BytesIO(data_pkl)).load()
    return sizes


def write_bigendian(source, target):
    """Re-pack a little-endian zip checkpoint as torch on a big-endian machine would write it."""
    with zipfile.ZipFile(source) as z:
        prefix = z.namelist()[0].split("/")[0] + "/"
        sizes = storage_element_sizes(z.read(prefix + "data.pkl"))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as out:
            for info in z.infolist():
                data = z.read(info.filename)
                rel = info.filename[len(prefix):]
                if rel == "byteorder":
                    data = b"big"
                elif rel.startswith("data/"):
                    size = sizes[rel[len("data/"):]]
                    data = b"".join(data[i:i + size][::-1] for i in range(0, len(data), size))
                out.writestr(info.filename, data)


def torch_zip(path, data_pkl):
    """A zip laid out like torch's, with a hand-written data.pkl."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/version", b"3\n")


def check_round_trips():
    """Every fixture that torch wrote (or that mimics torch) loads in torch and matches its expectation."""
    from safetensors.torch import load_file

    expected = {
        "basic": "basic", "basic_archive": "basic", "basic_p4": "basic", "basic_legacy": "bigendian",
        "basic_legacy_p5": "bigendian", "bigendian": "bigendian", "module": "module", "module_legacy": "module",
        "params": "params",
    }
    for name, reference in expected.items():
        # weights_only=False: torch's own restricted unpickler lacks FRAME (protocol 4/5); these files are ours.
        loaded = torch.load(os.path.join(OUT, name + ".pth"), weights_only=False)
        want = load_file(os.path.join(OUT, reference + ".safetensors"))
        assert set(loaded) == set(want), name
        for k, v in want.items():
            assert loaded[k].dtype == v.dtype and torch.equal(loaded[k], v), (name, k)
    assert torch.load(os.path.join(OUT, "wrapped.pth"))["state_dict"].keys() == load_file(
        os.path.join(OUT, "module.safetensors")).keys()


def main():
    warnings.filterwarnings("ignore")
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))

    basic = basic_dict()
    save_pair("basic", basic, basic)
    buffer = io.BytesIO()
    torch.save(basic, buffer)
    with open(os.path.join(OUT, "basic_archive.pth"), "wb") as f:
        f.write(buffer.getvalue())
    torch.save(basic, os.path.join(OUT, "basic_p4.pth"), pickle_protocol=4)
    # torch cannot load uint16 back from the legacy format (UntypedStorage has no dtype), so it is left out.
    no_u16 = basic_dict(with_uint16=False)
    torch.save(no_u16, os.path.join(OUT, "basic_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(no_u16, os.path.join(OUT, "basic_legacy_p5.pth"), _use_new_zipfile_serialization=False, pickle_protocol=5)

    little = os.path.join(OUT, "little_tmp.pth")
    torch.save(no_u16, little)
    write_bigendian(little, os.path.join(OUT, "bigendian.pth"))
    os.remove(little)
    save_file(contiguous(no_u16), os.path.join(OUT, "bigendian.safetensors"))

    sd, opt = module_state_dict()
    save_pair("module", sd, sd)
    torch.save(sd, os.path.join(OUT, "module_legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(
        {"state_dict": sd, "epoch": 3, "arch": "tiny", "best_acc": 0.75, "optimizer": opt},
        os.path.join(OUT, "wrapped.pth"),
    )
    torch.save({"model": sd, "epoch": 1}, os.path.join(OUT, "wrapped_model.pth"), _use_new_zipfile_serialization=False)

    g = torch.Generator().manual_seed(1)
    params = {
        "w": torch.nn.Parameter(torch.randn(2, 3, generator=g)),
        "b": torch.nn.Parameter(torch.zeros(2), requires_grad=False),
    }
    save_pair("params", params, {k: v.data for k, v in params.items()})

    # GLOBAL 'os system' + REDUCE: what a malicious .pth does; unpickling it with pickle would run the shell.
    evil = b"\x80\x02cos\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03."
    torch_zip(os.path.join(OUT, "malicious.pth"), evil)
    # Legacy header (magic, version, sys info) written by pickle, then STACK_GLOBAL builtins.eval + REDUCE.
    header = b"".join(
        pickle.dumps(v, protocol=2)
        for v in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True,
                                                 "type_sizes": {"short": 2, "int": 4, "long": 4}})
    )
    evil_eval = (
        b"\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x13__import__('os').getpid()\x94\x85\x94R\x94."
    )
    with open(os.path.join(OUT, "malicious_legacy.pth"), "wb") as f:
        f.write(header + evil_eval + pickle.dumps([], protocol=2))

    check_round_trips()
    for f in os.listdir(OUT):
        os.chmod(os.path.join(OUT, f), 0o644)  # safetensors writes 0600
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT}")
    assert total < 200_000, "fixtures must stay under 200 KB"


if __name__ == "__main__":
    sys.exit(main())
