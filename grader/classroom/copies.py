"""Pairs of submissions that look copied, for the instructor to read side by side: never a verdict.

copydetect fingerprints each submission after its tokens are normalized (every variable a `V`, every
function an `F`, every string an `S`, formatting gone), so renaming and reformatting hide nothing. What
every student was handed (the stub) and what most right answers converge on (the reference) are
boilerplate: only what two students share beyond them counts. A class under MIN_CLASS students gets no
list: among a handful of short answers, likeness means nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
from dataclasses import dataclass

MIN_CLASS = 5
NOISE = 25  # tokens: a shared run shorter than this is never seen (copydetect's noise threshold)
GUARANTEE = 30  # tokens: a shared run this long is always seen
SHARED_MOST = 0.75  # of each file's own tokens (beyond the boilerplate) for a pair to be listed
SHARED_LEAST = 120  # characters of normalized code beyond the boilerplate, so two tiny files never pair
SOURCE_MOST = 200_000  # characters of a submission fingerprinted; a longer one is compared on its start


@dataclass
class Pair:
    lesson: str
    first: str
    second: str
    similarity: tuple[float, float]  # the share of each one's own code found in the other
    shared: int  # normalized characters in common
    sources: tuple[str, str]


def _fingerprint(name: str, source: str, boilerplate=()):
    from copydetect import CodeFingerprint

    with _stable_hashes():
        return CodeFingerprint(f"{name}.py", NOISE, GUARANTEE - NOISE + 1, boilerplate=list(boilerplate),
                               fp=io.StringIO(source))


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                          "little", signed=True)


@contextlib.contextmanager
def _stable_hashes():
    """copydetect hashes its k-grams with Python's hash(), which differs in every process
    (PYTHONHASHSEED), so which fingerprints winnowing keeps, and how much two files share, changed
    from run to run: a pair near SHARED_LEAST was listed in one run and not the next. While this is
    open its k-grams get a hash that is the same everywhere."""
    from copydetect import utils

    had = "hash" in vars(utils)
    before = vars(utils).get("hash")
    utils.hash = _stable_hash
    try:
        yield
    finally:
        if had:
            utils.hash = before
        else:
            del utils.hash


def pairs(lesson: str, sources: dict[str, str], handed_out: list[str]) -> list[Pair]:
    """The pairs among `sources` ({student: the module graded}) sharing most of their own code beyond
    `handed_out` (the stub, the reference), most alike first. Empty under MIN_CLASS students."""
    if len(sources) < MIN_CLASS:
        return []
    from copydetect import compare_files

    boilerplate = set()
    for i, text in enumerate(handed_out):
        boilerplate |= set(_fingerprint(f"given{i}", text).hashes)
    prints = {s: _fingerprint("submission", text[:SOURCE_MOST], boilerplate) for s, text in sorted(sources.items())}
    hashes = {s: set(p.hashes) for s, p in prints.items()}
    found = []
    for a, b in itertools.combinations(sorted(prints), 2):
        common = len(hashes[a] & hashes[b])  # a set intersection first: most pairs end here, cheaply
        if not common or common < SHARED_MOST * min(len(hashes[a]), len(hashes[b])) / 2:
            continue
        shared, similarity, _ = compare_files(prints[a], prints[b])
        if min(similarity) >= SHARED_MOST and shared >= SHARED_LEAST:
            found.append(Pair(lesson, a, b, (float(similarity[0]), float(similarity[1])), int(shared),
                              (sources[a], sources[b])))
    return sorted(found, key=lambda p: (-min(p.similarity), p.first, p.second))
