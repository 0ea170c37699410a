"""Small data sets the lessons train on, shipped with the kit so that no test touches the network.

``digits``: scikit-learn's bundled handwritten digits (1797 images of 8x8 pixels, values 0..16),
stored as ``lessons/data/digits.npz`` with a fixed train/test split, because importing scikit-learn
costs more than the whole lesson. ``python -m grader.learner.datasets`` rebuilds the file from scikit-learn.

``blobs_ring``: 750 points in the plane, three classes of 250: two Gaussian blobs side by side
(classes 0 and 1) inside a noisy ring (class 2), no straight line apart. Drawn with NumPy's generator
from a fixed seed and stored as ``lessons/data/blobs_ring.npz`` (``python -m grader.learner.datasets
blobs_ring`` draws it again, bit for bit).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from grader import KIT_ROOT

DIGITS_FILE = KIT_ROOT / "lessons" / "data" / "digits.npz"
TEST_FRACTION = 0.2
SPLIT_SEED = 0


@lru_cache(maxsize=None)
def digits() -> dict[str, np.ndarray]:
    """``x_train, y_train, x_test, y_test``: images as float32 in [0, 1] of shape (n, 8, 8), labels int32."""
    with np.load(DIGITS_FILE, allow_pickle=False) as data:
        images = data["images"].astype(np.float32) / 16.0
        labels = data["labels"].astype(np.int32)
        test = data["test_mask"]
    return {"x_train": images[~test], "y_train": labels[~test], "x_test": images[test], "y_test": labels[test]}


def build_digits_file() -> None:
    """Write digits.npz from scikit-learn's copy: a stratified split, the same for every run."""
    from sklearn.datasets import load_digits

    raw = load_digits()
    images = raw.images.astype(np.uint8)
    labels = raw.target.astype(np.uint8)
    rng = np.random.default_rng(SPLIT_SEED)
    test_mask = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        where = np.flatnonzero(labels == digit)
        chosen = rng.choice(where, size=round(TEST_FRACTION * len(where)), replace=False)
        test_mask[chosen] = True
    DIGITS_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(DIGITS_FILE, images=images, labels=labels, test_mask=test_mask)


BLOBS_RING_FILE = KIT_ROOT / "lessons" / "data" / "blobs_ring.npz"
BLOBS_RING_SEED = 8
BLOBS_PER_CLASS = 250
BLOBS_TEST_FRACTION = 0.4
BLOB_CENTERS = ((-1.2, 0.0), (1.2, 0.0))
BLOB_STD = 0.35
RING_RADIUS, RING_STD = 3.0, 0.25


@lru_cache(maxsize=None)
def blobs_ring() -> dict[str, np.ndarray]:
    """``x_train, y_train, x_test, y_test``: points as float32 of shape (n, 2), labels int32 in 0..2."""
    with np.load(BLOBS_RING_FILE, allow_pickle=False) as data:
        x = data["x"].astype(np.float32)
        y = data["y"].astype(np.int32)
        test = data["test_mask"]
    return {"x_train": x[~test], "y_train": y[~test], "x_test": x[test], "y_test": y[test]}


def draw_blobs_ring() -> dict[str, np.ndarray]:
    """The data set drawn from its seed: the same arrays on every machine (NumPy's PCG64 generator)."""
    rng = np.random.default_rng(BLOBS_RING_SEED)
    n = BLOBS_PER_CLASS
    blobs = [rng.normal(center, BLOB_STD, size=(n, 2)) for center in BLOB_CENTERS]
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)
    radius = rng.normal(RING_RADIUS, RING_STD, size=n)
    ring = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    x = np.concatenate(blobs + [ring]).astype(np.float32)
    y = np.repeat(np.arange(3), n).astype(np.uint8)
    test_mask = np.zeros(len(y), dtype=bool)
    for label in range(3):
        where = np.flatnonzero(y == label)
        test_mask[rng.choice(where, size=round(BLOBS_TEST_FRACTION * n), replace=False)] = True
    return {"x": x, "y": y, "test_mask": test_mask}


def build_blobs_ring_file() -> None:
    BLOBS_RING_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(BLOBS_RING_FILE, **draw_blobs_ring())


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["blobs_ring"]:
        build_blobs_ring_file()
        d = blobs_ring()
        print(f"wrote {BLOBS_RING_FILE}: {len(d['y_train'])} train, {len(d['y_test'])} test points")
    else:
        build_digits_file()
        d = digits()
        print(f"wrote {DIGITS_FILE}: {len(d['y_train'])} train, {len(d['y_test'])} test images")
