#!/usr/bin/env python3
"""Regenerate the hostile files in Tests/Fixtures/hostile/ for Tests/MedIOTests/HostileCheckpointTests.swift.

    python3 Tests/Fixtures/make_hostile_fixtures.py

Needs torch and numpy. Every file must be REJECTED by the Swift readers with an error naming the file and the
problem, without executing anything and without allocating what it declares. Nothing here is ever unpickled:
the script only writes bytes (torch.save of an object whose __reduce__ names os.system pickles the global, it
does not call it).

Files:
  reduce_system_zip.pth        torch.save (zip) of a dict holding an object whose __reduce__ is os.system
  reduce_system_legacy.pth     the same, _use_new_zipfile_serialization=False (legacy format)
  reduce_system.pkl            a raw pickle (protocol 2) of that object, no torch container at all
  reduce_system_p0.pkl         the same at protocol 0 (text opcodes: no PROTO, so not even a pickle by its start)
  huge_storage_zip.pth         a FloatStorage declared with 2^40 elements, its record 16 bytes
  huge_storage_legacy.pth      the same in the legacy format (2^40 in the pickle and in the storage section)
  huge_shape_zip.pth           a tensor of size (2^21, 2^21, 2^21) over a 4-element storage (element count overflows)
  huge_view_zip.pth            a tensor of size (2^14, 2^14, 2^12), stride (0, 0, 0), over one element: in bounds,
                               but 2^40 elements (4 TiB) to materialise
  offset_out_of_range_zip.pth  storage offset 1000 into a 4-element storage
  negative_offset_zip.pth      storage offset -1
  view_out_of_range_legacy.pth a legacy storage view (offset 100, size 4) of a 4-element storage
  nested_tuples_zip.pth        {'w': ((((...)))) } nested 100,000 deep (EMPTY_TUPLE then 100,000 TUPLE1)
  nested_lists_zip.pth         {'w': [[[...]]] } nested 100,000 deep through 100,000 MARKs and LISTs
  memo_self_dict_zip.pth       d = {}; d['state_dict'] = d  (memo self reference)
  memo_self_list_zip.pth       l = []; l.append(l); {'w': l}
  zip_dotdot.pth               a valid checkpoint whose members are ../data.pkl, ../data/0, ../byteorder
  zip_absolute.pth             the same under /tmp/archive/ (absolute member names)
  zip_extra_dotdot.pth         a valid archive/ checkpoint plus a member archive/../../../etc/passwd
  npy_huge_shape.npy           an .npy header declaring shape (2^40,) float32, no data
  npy_overflow_shape.npy       an .npy header declaring shape (2^40, 2^40, 2^40) float32 (byte count overflows)
  safetensors_huge_offsets.safetensors  one F32 tensor of shape [2^40] at data_offsets [0, 2^42], 16 data bytes
  safetensors_huge_header.safetensors   a header length of 2^60
"""
import collections
import os
import pickle
import struct
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hostile")


class Evil:
    """What a malicious checkpoint holds: unpickling calls os.system('echo pwned')."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def as_os_system(data):
    # os.system is posix.system on Linux and pickle names it by its defining module; spell it the way the
    # exploit write-ups (and the issue) do. Protocol 0-3 GLOBAL is newline-terminated text: no length to fix.
    assert b"cposix\nsystem\n" in data
    return data.replace(b"cposix\nsystem\n", b"cos\nsystem\n")


class StorageRef:
    """A storage the pickle refers to by persistent id, as torch.save writes it."""

    def __init__(self, key, numel, view=None):
        self.key, self.numel, self.view = key, numel, view


class Tensor:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


def pickle_with_storages(obj, legacy=False):
    """pickle.dumps(obj, protocol=2) with StorageRef as torch's persistent ids (zip: 5 fields, legacy: 6)."""
    import io

    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, StorageRef):
                if legacy:
                    return ("storage", torch.FloatStorage, o.key, "cpu", o.numel, o.view)
                return ("storage", torch.FloatStorage, o.key, "cpu", o.numel)
            return None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def torch_zip(name, data_pkl, records=None, prefix="archive/", extra=(), compress=False):
    """A zip laid out like torch's: PREFIX/data.pkl, PREFIX/byteorder, PREFIX/data/KEY."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(os.path.join(OUT, name), "w", method) as z:
        z.writestr(prefix + "data.pkl", data_pkl)
        z.writestr(prefix + "byteorder", b"little")
        for key, data in (records or {}).items():
            z.writestr(prefix + "data/" + key, data)
        for member, data in extra:
            z.writestr(member, data)
    with zipfile.ZipFile(os.path.join(OUT, name)) as z:  # zipfile kept the names as given
        names = z.namelist()
        assert names[0] == prefix + "data.pkl", names


def legacy_file(name, obj, storages):
    """The legacy format: magic, protocol version, sys info, the object, the key list, then each storage as an
    8-byte little-endian element count and its bytes. `storages` is [(key, declared count, data)]."""
    header = b"".join(
        pickle.dumps(v, protocol=2)
        for v in (0x1950A86A20F9469CFC6C, 1001,
                  {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}})
    )
    body = pickle_with_storages(obj, legacy=True) + pickle.dumps([k for k, _, _ in storages], protocol=2)
    for _, count, data in storages:
        body += struct.pack("<q", count) + data
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(header + body)


FOUR_FLOATS = struct.pack("<4f", 1, 2, 3, 4)


def main():
    os.makedirs(OUT, exist_ok=True)

    # Code execution through __reduce__, in all three containers.
    zip_path = os.path.join(OUT, "reduce_system_zip.pth")
    torch.save({"weight": torch.zeros(2), "payload": Evil()}, zip_path)
    with zipfile.ZipFile(zip_path) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as z:
        for member, data in members:
            z.writestr(member, as_os_system(data) if member.endswith("/data.pkl") else data)
    legacy_path = os.path.join(OUT, "reduce_system_legacy.pth")
    torch.save({"weight": torch.zeros(2), "payload": Evil()}, legacy_path, _use_new_zipfile_serialization=False)
    with open(legacy_path, "rb") as f:
        data = f.read()
    with open(legacy_path, "wb") as f:
        f.write(as_os_system(data))
    with open(os.path.join(OUT, "reduce_system.pkl"), "wb") as f:
        f.write(as_os_system(pickle.dumps(Evil(), protocol=2)))
    with open(os.path.join(OUT, "reduce_system_p0.pkl"), "wb") as f:
        f.write(as_os_system(pickle.dumps(Evil(), protocol=0)))

    # Huge declared sizes.
    s = StorageRef("0", 2**40)
    torch_zip("huge_storage_zip.pth", pickle_with_storages({"w": Tensor(s, 0, [4], [1])}), {"0": FOUR_FLOATS})
    legacy_file("huge_storage_legacy.pth", {"w": Tensor(StorageRef("0", 2**40), 0, [4], [1])}, [("0", 2**40, FOUR_FLOATS)])
    s = StorageRef("0", 4)
    torch_zip("huge_shape_zip.pth", pickle_with_storages({"w": Tensor(s, 0, [2**21] * 3, [1, 1, 1])}), {"0": FOUR_FLOATS})
    torch_zip("huge_view_zip.pth", pickle_with_storages({"w": Tensor(s, 0, [2**14, 2**14, 2**12], [0, 0, 0])}),
              {"0": FOUR_FLOATS})

    # Storage offsets out of range.
    torch_zip("offset_out_of_range_zip.pth", pickle_with_storages({"w": Tensor(s, 1000, [4], [1])}), {"0": FOUR_FLOATS})
    torch_zip("negative_offset_zip.pth", pickle_with_storages({"w": Tensor(s, -1, [4], [1])}), {"0": FOUR_FLOATS})
    legacy_file("view_out_of_range_legacy.pth", {"w": Tensor(StorageRef("0", 4, view=("0v", 100, 4)), 0, [4], [1])},
                [("0", 4, FOUR_FLOATS)])

    # Deep and recursive containers. pickle.dumps would hit Python's recursion limit: the opcodes by hand.
    depth = 100_000
    head = b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01"  # PROTO 2, EMPTY_DICT, BINPUT 0, BINUNICODE 'w', BINPUT 1
    tail = b"s."  # SETITEM, STOP
    torch_zip("nested_tuples_zip.pth", head + b")" + b"\x85" * depth + tail, compress=True)
    torch_zip("nested_lists_zip.pth", head + b"(" * depth + b"l" * depth + tail, compress=True)
    d = {}
    d["state_dict"] = d
    torch_zip("memo_self_dict_zip.pth", pickle.dumps(d, protocol=2))
    l = []
    l.append(l)
    torch_zip("memo_self_list_zip.pth", pickle.dumps({"w": l}, protocol=2))

    # Member names that climb out of the archive, or are absolute.
    valid = pickle_with_storages({"w": Tensor(StorageRef("0", 4), 0, [4], [1])})
    torch_zip("zip_dotdot.pth", valid, {"0": FOUR_FLOATS}, prefix="../")
    torch_zip("zip_absolute.pth", valid, {"0": FOUR_FLOATS}, prefix="/tmp/archive/")
    torch_zip("zip_extra_dotdot.pth", valid, {"0": FOUR_FLOATS}, extra=[("archive/../../../etc/passwd", b"root:x:0:0\n")])

    # The tensor formats' own huge declarations.
    def npy(name, shape):
        text = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join(f"{d}, " for d in shape)
        header = text.encode() + b" " * (64 - (10 + len(text) + 1) % 64) + b"\n"
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
    npy("npy_huge_shape.npy", [2**40])
    npy("npy_overflow_shape.npy", [2**40] * 3)
    header = b'{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}}'
    with open(os.path.join(OUT, "safetensors_huge_offsets.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + FOUR_FLOATS)
    with open(os.path.join(OUT, "safetensors_huge_header.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", 2**60) + b'{"w":{}}')

    # numpy agrees the npy headers declare what they say (it reads the header without the data).
    with open(os.path.join(OUT, "npy_huge_shape.npy"), "rb") as f:
        np.lib.format.read_magic(f)
        assert np.lib.format.read_array_header_1_0(f)[0] == (2**40,)


if __name__ == "__main__":
    main()
