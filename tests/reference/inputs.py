"""Input batches for the cross-check and the benchmark, as float32 NCHW arrays.

Real images when the shared data is present (activations then look like the reference's: natural
images normalised per channel as in §2 of reference-semantics.md), seeded N(0, 1) noise otherwise.
* 32x32: CIFAR-10 test images (cifar10_test_eembc200.bin, 3,073-byte records: 1 label byte,
  then 1,024 R, 1,024 G, 1,024 B bytes), /255, CIFAR-10 mean/std.
* 16x16: the same images 2x2-average-pooled, /255, ImageNet16-120 mean/std (a stand-in for
  ImageNet16-120, which is not in the shared data; only the shape and statistics matter here).
naswot reads these through --data npy:FILE "as given", so both sides see identical floats.
"""
from __future__ import annotations

import os

import numpy as np

SHARED_DATA = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data"))
CIFAR10_BIN = os.path.join(SHARED_DATA, "cifar10", "cifar10_test_eembc200.bin")
RECORD_BYTES = 3073
CIFAR10_MEAN = np.array([125.3, 123.0, 113.9], dtype=np.float32) / 255
CIFAR10_STD = np.array([63.0, 62.1, 66.7], dtype=np.float32) / 255
IMAGENET16_MEAN = np.array([122.68, 116.66, 104.01], dtype=np.float32) / 255
IMAGENET16_STD = np.array([63.22, 61.26, 65.09], dtype=np.float32) / 255
NOISE_SEED = 20210218  # used only when the CIFAR file is absent


def _cifar_pixels(count: int) -> np.ndarray | None:
    """(count, 3, 32, 32) float32 in [0, 1], or None when the file is absent or too short."""
    if not os.path.exists(CIFAR10_BIN):
        return None
    raw = np.fromfile(CIFAR10_BIN, dtype=np.uint8)
    if raw.size % RECORD_BYTES or raw.size // RECORD_BYTES < count:
        return None
    records = raw.reshape(-1, RECORD_BYTES)[:count, 1:]
    return records.reshape(count, 3, 32, 32).astype(np.float32) / 255


def make_batch(batch: int, image_size: int) -> tuple[np.ndarray, str]:
    """(float32 NCHW batch, description of its source)."""
    pixels = _cifar_pixels(batch)
    if pixels is None:
        rng = np.random.default_rng(NOISE_SEED + image_size)
        x = rng.standard_normal((batch, 3, image_size, image_size), dtype=np.float32)
        return x, f"N(0,1) noise, seed {NOISE_SEED + image_size}"
    if image_size == 32:
        mean, std, src = CIFAR10_MEAN, CIFAR10_STD, "CIFAR-10 test images, CIFAR-10 normalisation"
    elif image_size == 16:
        pixels = pixels.reshape(batch, 3, 16, 2, 16, 2).mean(axis=(3, 5), dtype=np.float32)
        mean, std = IMAGENET16_MEAN, IMAGENET16_STD
        src = "CIFAR-10 test images 2x2-pooled, ImageNet16 normalisation"
    else:
        raise ValueError(f"image size {image_size}: expected 32 or 16")
    x = (pixels - mean[None, :, None, None]) / std[None, :, None, None]
    return np.ascontiguousarray(x, dtype=np.float32), src


def write_npy(path: str, x: np.ndarray) -> None:
    np.save(path, np.ascontiguousarray(x, dtype="<f4"), allow_pickle=False)
