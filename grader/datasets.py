"""Small data sets the lessons train on, shipped with the kit so that no test touches the network.

``digits``: scikit-learn's bundled handwritten digits (1797 images of 8x8 pixels, values 0..16),
stored as ``lessons/data/digits.npz`` with a fixed train/test split, because importing scikit-learn
costs more than the whole lesson. ``python -m grader.datasets`` rebuilds the file from scikit-learn.
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


if __name__ == "__main__":
    build_digits_file()
    d = digits()
    print(f"wrote {DIGITS_FILE}: {len(d['y_train'])} train, {len(d['y_test'])} test images")
