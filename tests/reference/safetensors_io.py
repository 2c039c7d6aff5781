"""Minimal safetensors writer/reader for float32 tensors (no safetensors package needed).

Format: 8-byte little-endian u64 header length, a JSON header
{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}} padded with spaces to a
multiple of 8 bytes, then the raw little-endian tensor bytes; offsets count from the first data
byte. Only F32 is written: naswot reads float32 parameters, and BatchNorm's int64
num_batches_tracked is not needed by anything it computes, so it is left out.
"""
from __future__ import annotations

import json
import struct

import numpy as np


def write_safetensors(path: str, tensors: dict[str, np.ndarray]) -> None:
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        raw = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path: str) -> dict[str, np.ndarray]:
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected F32")
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(body[b:e], dtype="<f4").reshape(info["shape"]).copy()
    return out


def state_dict_to_numpy(module) -> dict[str, np.ndarray]:
    """Float tensors of a torch state_dict (weights, biases, BN running stats) as float32 arrays."""
    out = {}
    for name, t in module.state_dict().items():
        if t.is_floating_point():
            out[name] = t.detach().cpu().numpy().astype(np.float32)
    return out
