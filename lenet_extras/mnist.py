"""MNIST from the files shipped in data/mnist/, checked against their recorded checksums (07)."""

from __future__ import annotations

import gzip
import hashlib
import math
import zlib
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor

MNIST_ROOT = Path(__file__).resolve().parent.parent / "data" / "mnist"

# The SHA-256 of each decompressed file, as recorded (see data/mnist/README.md).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_COUNTS = {"train": 60_000, "test": 10_000}
_MNIST_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", MNIST_COUNTS["train"]),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", MNIST_COUNTS["test"]),
}
_RESTORE = "restore it with `git checkout -- data/mnist` in the repository"


def load_mnist(
    split: Literal["train", "test"], root: str | Path = MNIST_ROOT
) -> tuple[Tensor, Tensor]:
    """Read MNIST from the gzip-compressed IDX files in ``root`` (introduced in 07).

    Returns float32 images of shape (N, 1, 28, 28) scaled to [0, 1] and int64 labels of
    shape (N,). Every file's decompressed bytes are checked against its recorded SHA-256,
    and its magic number and dimensions are checked. Nothing is written or downloaded.
    """
    if split not in _MNIST_SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not isinstance(root, str | Path):
        raise TypeError(f"root must be a folder, as a str or Path, got {type(root).__name__}")
    image_name, label_name, count = _MNIST_SPLITS[split]
    images = _read_idx(Path(root) / f"{image_name}.gz", magic=0x803, dims=(count, 28, 28))
    labels = _read_idx(Path(root) / f"{label_name}.gz", magic=0x801, dims=(count,))
    pixels = torch.from_numpy(images.astype(np.float32) / np.float32(255))
    return pixels.reshape(count, 1, 28, 28), torch.from_numpy(labels.astype(np.int64))


def _read_idx(path: Path, magic: int, dims: tuple[int, ...]) -> np.ndarray:
    name = path.name.removesuffix(".gz")
    expected = MNIST_SHA256[name]
    if not path.is_file():
        raise FileNotFoundError(
            f"MNIST file {path} is missing: {_RESTORE}, or pass root= a folder holding it"
        )
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"MNIST file {path} is damaged ({exc}); expected the decompressed data to have "
            f"SHA-256 {expected}: {_RESTORE}"
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected:
        raise ValueError(
            f"MNIST file {path} is altered or truncated: SHA-256 of the decompressed data is "
            f"{digest}, expected {expected}: {_RESTORE}"
        )
    header = 4 + 4 * len(dims)
    found_magic = int.from_bytes(raw[:4], "big")
    found_dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(len(dims)))
    if found_magic != magic or found_dims != dims or len(raw) != header + math.prod(dims):
        raise ValueError(
            f"MNIST file {path}: expected IDX magic {magic:#010x} and dimensions {dims}, "
            f"got {found_magic:#010x} and {found_dims} ({len(raw)} bytes)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
