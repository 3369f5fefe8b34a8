"""Tiny pure-Python safetensors writer/reader (format: u64 LE header length, JSON header, raw LE bytes).
Also usable as a drop-in `safetensors` / `safetensors.torch` stub (save_file, load_file, load, save)."""
import json
import struct
from collections import OrderedDict

import torch

_DT = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
       torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
       torch.bool: "BOOL"}
_TD = {v: k for k, v in _DT.items()}


def save(tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):  # the reference implementation also sorts (by dtype then name); any order is valid
        t = tensors[name].detach().to("cpu").contiguous()
        # raw little-endian bytes (x86/ARM hosts are little-endian)
        b = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _DT[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)  # pad header to 8-byte alignment with spaces (as the reference writer does)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def save_file(tensors, filename, metadata=None):
    with open(filename, "wb") as f:
        f.write(save(tensors, metadata))


def load(data):
    data = bytes(data)
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        s, e = info["data_offsets"]
        dt = _TD[info["dtype"]]
        buf = bytearray(data[base + s:base + e])
        if len(buf):
            t = torch.frombuffer(buf, dtype=torch.uint8).view(dt).reshape(info["shape"]).clone()
        else:
            t = torch.empty(info["shape"], dtype=dt)
        out[name] = t
    return out


def load_file(filename, device="cpu"):
    with open(filename, "rb") as f:
        d = load(f.read())
    return OrderedDict((k, v.to(device)) for k, v in d.items())


def read_header(filename):
    with open(filename, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n).decode("utf-8"))
