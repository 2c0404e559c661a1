"""load_mnist on the shipped files, and on damaged copies made in a temporary folder."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import lenet_extras.mnist as lh

DATA = lh.MNIST_ROOT
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def state(folder: Path) -> dict[str, tuple[str, float]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(folder.iterdir())
    }


@pytest.fixture(scope="module", autouse=True)
def data_folder_is_never_touched():
    before = state(DATA)
    yield
    assert state(DATA) == before, "a test or load_mnist changed data/mnist"


def test_the_shipped_files_are_the_published_ones():
    """Checked here independently of load_mnist: decompress and hash each file."""
    for name, digest in lh.MNIST_SHA256.items():
        assert (
            hashlib.sha256(gzip.decompress((DATA / f"{name}.gz").read_bytes())).hexdigest()
            == digest
        )


@pytest.mark.parametrize("split, count", [("train", 60_000), ("test", 10_000)])
def test_load_mnist_shapes_types_and_ranges(split, count):
    images, labels = lh.load_mnist(split)
    assert images.shape == (count, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (count,) and labels.dtype == torch.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels.unique().tolist()) == set(range(10))


def test_load_mnist_matches_an_independent_read_of_the_idx_bytes():
    raw = gzip.decompress((DATA / "t10k-images-idx3-ubyte.gz").read_bytes())
    pixels = np.frombuffer(raw[16:], dtype=np.uint8).reshape(10_000, 28, 28)
    labels = np.frombuffer(
        gzip.decompress((DATA / "t10k-labels-idx1-ubyte.gz").read_bytes())[8:], np.uint8
    )
    images, loaded_labels = lh.load_mnist("test")
    assert torch.equal(images[:, 0] * 255, torch.from_numpy(pixels.astype(np.float32)))
    assert loaded_labels.tolist() == labels.tolist()
    assert loaded_labels[:10].tolist() == [
        7,
        2,
        1,
        0,
        4,
        1,
        4,
        9,
        5,
        9,
    ]  # the well-known first test digits


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'validation'"):
        lh.load_mnist("validation")


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    for name in TEST_FILES:
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def test_a_good_copy_loads(copy):
    images, labels = lh.load_mnist("test", root=copy)
    assert len(images) == len(labels) == 10_000


def test_missing_file_names_it_and_how_to_restore_it(copy):
    (copy / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=r"t10k-labels-idx1-ubyte\.gz is missing: restore it with `git checkout",
    ):
        lh.load_mnist("test", root=copy)


def test_truncated_file_names_it_and_the_checksum(copy):
    path = copy / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    expected = lh.MNIST_SHA256["t10k-images-idx3-ubyte"]
    with pytest.raises(
        ValueError, match=rf"t10k-images-idx3-ubyte\.gz is damaged.*SHA-256 {expected}"
    ):
        lh.load_mnist("test", root=copy)


def test_one_changed_byte_in_the_gzip_stream_is_caught(copy):
    path = copy / "t10k-images-idx3-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(
        ValueError, match=r"t10k-images-idx3-ubyte\.gz .*(damaged|altered).*SHA-256"
    ):
        lh.load_mnist("test", root=copy)


def test_one_changed_pixel_behind_a_valid_gzip_is_caught_by_the_checksum(copy):
    path = copy / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[16 + 28 * 14 + 14] ^= 0x01  # one pixel of the first digit
    path.write_bytes(gzip.compress(bytes(raw)))
    expected = lh.MNIST_SHA256["t10k-images-idx3-ubyte"]
    with pytest.raises(
        ValueError,
        match=rf"altered or truncated: SHA-256 .* is [0-9a-f]{{64}}, expected {expected}",
    ):
        lh.load_mnist("test", root=copy)


def test_header_is_checked_too(copy, monkeypatch):
    """A file with the wrong magic number is refused even if its checksum were the published one."""
    fake = (0x0801).to_bytes(4, "big") + (10_000).to_bytes(4, "big") + bytes(28 * 28 * 10_000 - 4)
    (copy / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(fake))
    monkeypatch.setitem(lh.MNIST_SHA256, "t10k-images-idx3-ubyte", hashlib.sha256(fake).hexdigest())
    with pytest.raises(
        ValueError,
        match=r"expected IDX magic 0x00000803 and dimensions \(10000, 28, 28\), got 0x00000801",
    ):
        lh.load_mnist("test", root=copy)


def test_load_mnist_writes_nothing(copy):
    before = state(copy)
    lh.load_mnist("test", root=copy)
    assert state(copy) == before
