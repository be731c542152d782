"""Exact k-NN (astroanom.detect.knn): neighbour sets equal an exact float64 search, ties by index.

Every test runs twice: with the numba kernels (skipped without numba) and with the numpy path."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.neighbors import NearestNeighbors

from astroanom.detect import knn
from astroanom.detect.knn import kneighbors
from astroanom.sources.simulation import simulate

CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
PAPER = yaml.safe_load(CONFIG.read_text())["simulation_presets"]["table1-class3-reassigned"][
    "classes"
]


@pytest.fixture(params=["numba", "numpy"], autouse=True)
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the compiled kernels and on the numpy path."""
    knn._load_kernels()
    if request.param == "numba" and knn._nb is None:
        pytest.skip("numba is not installed")
    if request.param == "numpy":
        monkeypatch.setattr(knn, "_nb", None)
    return request.param


def both_paths(fn: Callable[[], tuple]) -> tuple[tuple, tuple]:
    """fn() on the compiled kernels and on the numpy path: (compiled result, numpy result)."""
    compiled = fn()
    saved, knn._nb = knn._nb, None
    try:
        return compiled, fn()
    finally:
        knn._nb = saved


@pytest.fixture(scope="module")
def sim() -> np.ndarray:
    counts = {0: 1250, 1: 1220, 2: 10, 3: 10, 4: 10}
    return simulate(PAPER, counts, seed=1).features  # (2500, 100) float32


def brute_reference(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact float64 distances from differences; self excluded; sorted by (distance, index)."""
    X = np.asarray(X, dtype=np.float64)
    d = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(d, np.inf)
    idx = np.lexsort((np.broadcast_to(np.arange(len(X)), d.shape), d), axis=1)[:, :k]
    return np.take_along_axis(d, idx, axis=1), idx


def same_sets(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((np.sort(a, axis=1) == np.sort(b, axis=1)).all())


@pytest.mark.parametrize(("block_rows", "n_jobs"), [(1024, 2), (256, 1)])
def test_simulated_sets_equal_sklearn_float64(sim: np.ndarray, block_rows: int, n_jobs: int):
    k = 100
    dist, idx = kneighbors(sim, k, block_rows=block_rows, n_jobs=n_jobs)
    ref_d, ref_i = NearestNeighbors(n_neighbors=k).fit(sim.astype(np.float64)).kneighbors()
    assert dist.shape == idx.shape == (len(sim), k)
    assert dist.dtype == np.float64 and idx.dtype == np.int64
    assert same_sets(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-12, atol=1e-12)
    assert (np.diff(dist, axis=1) >= 0).all()
    assert not (idx == np.arange(len(sim))[:, None]).any()


def test_result_does_not_depend_on_seed_or_threads(sim: np.ndarray):
    X = sim[:1500]
    d0, i0 = kneighbors(X, 30, block_rows=512, seed=0, n_jobs=1)
    d1, i1 = kneighbors(X, 30, block_rows=300, seed=7, n_jobs=2)
    np.testing.assert_array_equal(i0, i1)
    np.testing.assert_array_equal(d0, d1)


def test_duplicates_and_exact_ties_break_by_index():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 4, size=(300, 3)).astype(np.float32)  # lattice: many exact ties
    X = np.concatenate([base, base[:200], base[:100]])  # and exact duplicates
    k = 12
    dist, idx = kneighbors(X, k, block_rows=128, n_jobs=2)
    ref_d, ref_i = brute_reference(X, k)
    np.testing.assert_array_equal(idx, ref_i)  # identical order: ties by index
    np.testing.assert_allclose(dist, ref_d, rtol=0, atol=1e-12)
    assert (dist[:200, 0] == 0.0).all()  # a duplicate is at distance exactly 0 ...
    assert not (idx == np.arange(len(X))[:, None]).any()  # ... but never the point itself


@pytest.fixture
def fallback_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Spy on the float64 fallback: the number of rows it was asked for, per call."""
    calls: list[int] = []
    original = knn._exact_rows

    def spy(*args):  # noqa: ANN002, ANN202
        calls.append(len(args[2]))
        return original(*args)

    monkeypatch.setattr(knn, "_exact_rows", spy)
    return calls


def test_near_ties_below_float32_resolution():
    # Every point has a twin 1e-6 away, so the neighbours of a point come in twin pairs whose
    # squared distances differ by ~1e-5, the float32 resolution of the tile here. With k = 6
    # the k-th and (k+1)-th neighbours are such a pair: float64 re-ranking must split them.
    rng = np.random.default_rng(5)
    base = rng.normal(size=(300, 8))
    X = np.concatenate([base, base + 1e-6 * rng.normal(size=base.shape)])
    k = 6
    dist, idx = kneighbors(X, k, block_rows=128, n_jobs=2)
    ref_d, ref_i = brute_reference(X, k)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-12, atol=1e-15)
    assert (idx[:300, 0] == np.arange(300, 600)).all()  # each point's twin comes first


def test_far_apart_tight_clusters_need_float64_fallback(fallback_rows: list[int]):
    # Clusters at +-1000 with spread 1e-3: float32 d2 errors (~1e-1) exceed the gaps, so every
    # row takes the float64 path; the answer must still be exact.
    rng = np.random.default_rng(11)
    centres = np.array([[1000.0] * 4, [-1000.0] * 4])
    X = centres[rng.integers(0, 2, 500)] + 1e-3 * rng.normal(size=(500, 4))
    dist, idx = kneighbors(X, 5, block_rows=128, n_jobs=2)
    ref_d, ref_i = brute_reference(X, 5)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-9)
    assert sum(fallback_rows) == len(X)


@pytest.mark.parametrize("n", [2, 5, 120])
def test_small_inputs_and_k_equal_n_minus_1(n: int):
    X = np.random.default_rng(n).normal(size=(n, 3))
    dist, idx = kneighbors(X, n - 1)
    ref_d, ref_i = brute_reference(X, n - 1)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-12)


@pytest.mark.parametrize("k", [0, -1, 10, 11])
def test_k_out_of_range(k: int):
    with pytest.raises(ValueError, match="k must be between 1 and n - 1 = 9"):
        kneighbors(np.zeros((10, 2)), k)


def lattice_with_duplicates() -> np.ndarray:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 4, size=(300, 3)).astype(np.float32)  # many exact ties
    return np.concatenate([base, base[:200], base[:100]])  # and exact duplicates


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_compiled_and_numpy_paths_agree(sim: np.ndarray, path: str, n_jobs: int):
    if path == "numpy":
        pytest.skip("compares the two paths once")
    X = sim[:1500]
    (d_nb, i_nb), (d_np, i_np) = both_paths(lambda: kneighbors(X, 30, 256, n_jobs=n_jobs))
    np.testing.assert_array_equal(i_nb, i_np)  # same neighbours, same order
    np.testing.assert_allclose(d_nb, d_np, rtol=1e-14)  # sums of squares in another order
    L = lattice_with_duplicates()
    (d_nb, i_nb), (d_np, i_np) = both_paths(lambda: kneighbors(L, 12, 128, n_jobs=n_jobs))
    np.testing.assert_array_equal(i_nb, i_np)
    np.testing.assert_array_equal(d_nb, d_np)  # integer coordinates: every sum is exact


def test_compiled_rerank_with_padding_and_duplicates(path: str):
    if path == "numpy":
        pytest.skip("compares the two paths once")
    rng = np.random.default_rng(8)
    X = rng.normal(size=(60, 7)).astype(np.float32)
    X[30:40] = X[:10]  # duplicates: equal distances, ties by index
    query = rng.integers(0, 60, 25)
    cand = rng.permutation(np.tile(np.arange(60), (25, 1)).T).T[:, :20].copy()
    pad = rng.random(cand.shape) < 0.2
    (d_nb, i_nb), (d_np, i_np) = both_paths(lambda: knn._exact_rerank(X, query, cand, pad))
    np.testing.assert_array_equal(i_nb[~np.isinf(d_nb)], i_np[~np.isinf(d_np)])
    np.testing.assert_allclose(d_nb, d_np, rtol=1e-14)
    ref = np.sqrt(((X[cand].astype(np.float64) - X[query, None].astype(np.float64)) ** 2).sum(-1))
    ref[pad] = np.inf
    np.testing.assert_allclose(np.sort(ref, axis=1), d_nb, rtol=1e-14)


def test_compiled_store_keeps_the_smallest_on_overflow(path: str):
    if path == "numpy":
        pytest.skip("a numba kernel")
    # one point, a buffer of 4, keep 2 on overflow: every dropped value must be >= the cap
    cap = np.array([10.0], dtype=np.float32)
    vals = np.full((1, 4), np.inf, dtype=np.float32)
    nbr = np.zeros((1, 4), dtype=np.int32)
    fill = np.zeros(1, dtype=np.int64)
    v = np.array([5, 3, 9, 7, 4, 8, 2, 6, 1], dtype=np.float32)
    hr = np.zeros(v.size, dtype=np.int32)
    hc = np.arange(v.size, dtype=np.int32)
    hs = np.ones(v.size, dtype=np.uint8)  # flag 1: a row-side hit
    knn._nb.store(v.size, hr, hc, v, hs, False, 0, 100, cap, vals, nbr, fill, 2)
    kept = vals[0, : fill[0]]
    assert sorted(kept.tolist())[:2] == [1.0, 2.0]  # the two smallest survive
    assert (kept <= cap[0]).all()  # the cap is lowered to the largest value kept
    dropped = set(v.tolist()) - set(kept.tolist())
    assert min(dropped) >= cap[0]  # the invariant the exactness check relies on
    np.testing.assert_array_equal(
        np.sort(nbr[0, : fill[0]]) - 100, np.sort(np.flatnonzero(v <= cap[0]))
    )


def test_compiled_selection_and_sort_match_numpy(path: str):
    if path == "numpy":
        pytest.skip("numba kernels")
    rng = np.random.default_rng(4)
    for n in [1, 2, 5, 16, 17, 40, 116, 300]:
        v = rng.integers(0, 6, n).astype(np.float32)  # many equal values
        for k in {0, n // 2, n - 1}:
            assert knn._nb._kth_smallest(v.copy(), n, k) == np.partition(v, k)[k]
        d = rng.integers(0, 4, n).astype(np.float64)
        d[rng.random(n) < 0.1] = np.inf  # padding
        cand = rng.permutation(10 * n)[:n].astype(np.int64)
        o = np.empty(n, dtype=np.int64)
        knn._nb._argsort_by_distance(d, cand, o)
        np.testing.assert_array_equal(o, np.lexsort((cand, d)))


def separated_clusters() -> np.ndarray:
    """24 tight clusters of 100 points far apart in 6-D, plus 40 scattered points (2440, 6)."""
    rng = np.random.default_rng(5)
    centres = 40.0 * rng.normal(size=(24, 6))
    X = np.repeat(centres, 100, axis=0) + rng.normal(size=(2400, 6))
    return np.concatenate([X, rng.uniform(-100, 100, size=(40, 6))]).astype(np.float32)


def test_skipped_tiles_hold_no_candidate():
    # The bound behind skipping a tile, checked by brute force: every pair of a skipped tile
    # (I, J) is farther apart (squared) than the largest threshold tau of I and of J.
    X = separated_clusters()
    s = knn._Search(X, 10, 128, 0, 1)
    nb = -(-len(X) // 128)
    assert sorted(s.order.tolist()) == list(range(len(X)))  # a permutation
    assert len(s.tiles) < nb * (nb + 1) // 4  # most tiles are skipped on this data
    assert all((i, i) in s.tiles for i in range(nb))  # never a diagonal tile
    Xo = X[s.order].astype(np.float64)
    d2 = ((Xo[:, None, :] - Xo[None, :, :]) ** 2).sum(axis=2)
    kept = set(s.tiles)
    for i in range(nb):
        for j in range(i + 1, nb):
            if (i, j) not in kept:
                bi, bj = slice(i * 128, (i + 1) * 128), slice(j * 128, (j + 1) * 128)
                assert d2[bi, bj].min() > max(s.tau[bi].max(), s.tau[bj].max())
    if s.loader is not None:
        s.loader.join()


def test_grouped_thresholds_bound_the_rank_from_above_and_stay_in_the_cluster(monkeypatch):
    # tau from group minima is never below the plain rank-r selection over the same float32
    # values, and on points stored cluster by cluster (as a sorted catalogue is) it stays
    # inside each point's own cluster: the groups are drawn at random, not as stored.
    X = separated_clusters()
    s = knn._Search(X, 10, 128, 0, 1)
    assert s.tiled and min(len(X), knn._SAMPLE) // (knn._GROUPS * (s.rank + 1)) >= 4  # grouped
    tau = np.empty(len(X))
    tau[s.order] = s.tau
    sample = np.random.default_rng(0).choice(len(X), min(len(X), knn._SAMPLE), replace=False)
    A = np.empty((len(X), X.shape[1] + 2), dtype=np.float32)
    A[:, : X.shape[1]] = X - s.mean
    A[:, -2], A[:, -1] = s.sq, 1.0
    monkeypatch.setattr(knn, "_GROUPS", 10**9)  # no groups: the plain selection
    plain = s._thresholds(A, sample)
    assert (tau >= plain).all()
    centres = X[:2400].reshape(24, 100, 6).mean(axis=1).astype(np.float64)
    gaps = ((centres[:, None] - centres[None]) ** 2).sum(-1) + np.diag(np.full(24, np.inf))
    assert tau[:2400].max() < 0.25 * gaps.min()  # well inside the nearest other cluster
    if s.loader is not None:
        s.loader.join()


@pytest.mark.parametrize(("k", "block_rows", "n_jobs"), [(10, 128, 2), (30, 200, 1)])
def test_separated_clusters_with_skipped_tiles_are_exact(k: int, block_rows: int, n_jobs: int):
    X = separated_clusters()
    dist, idx = kneighbors(X, k, block_rows=block_rows, n_jobs=n_jobs)
    ref_d, ref_i = brute_reference(X, k)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_warm_up_loads_the_signatures_a_search_uses(path: str, dtype: type):
    # The background warm-up only hides numba's start-up if it calls each kernel with the
    # types and layouts of the search's own calls: a search afterwards adds no signature.
    if path == "numpy":
        pytest.skip("numba kernels")
    knn._warm_kernels(np.dtype(dtype))
    names = ("exact_rerank", "tile_hits", "store", "finish")
    before = {f: set(getattr(knn._nb, f).signatures) for f in names}
    X = separated_clusters().astype(dtype)
    kneighbors(X, 10, block_rows=128, n_jobs=2)
    assert {f: set(getattr(knn._nb, f).signatures) for f in names} == before


CHILD = """
import sys, numpy as np
from astroanom.detect.knn import kneighbors
rng = np.random.default_rng(3)
X = rng.normal(size=(3000, 100)).astype(np.float32)
X[:1500] *= 0.3
np.save(sys.argv[1], kneighbors(X, 20, block_rows=256, n_jobs=2)[0])
"""


def test_freshly_compiled_and_cached_kernels_give_the_same_bits(path: str, tmp_path: Path):
    # The first process compiles the kernels into an empty cache, the second loads them: the
    # distances must agree to the bit (with a fast-math sum, 8 % of them differed by an ulp).
    if path == "numpy":
        pytest.skip("numba kernels")
    src = Path(knn.__file__).resolve().parents[2]
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(src))
    for name in ("fresh", "cached"):
        out = tmp_path / f"{name}.npy"
        subprocess.run([sys.executable, "-c", CHILD, str(out)], env=env, check=True)
    assert any((tmp_path / "cache").rglob("*.nbc"))  # the second process had a cache to load
    np.testing.assert_array_equal(np.load(tmp_path / "fresh.npy"), np.load(tmp_path / "cached.npy"))


def test_a_far_outlier_does_not_send_every_point_to_the_slow_path(monkeypatch):
    # The rounding bound of the exactness check is each point's own: one object 300 units out
    # (a bad magnitude in a real catalogue) used to set it for all, and then every point failed
    # the check and was searched again row by row.
    rng = np.random.default_rng(11)
    X = (0.05 * rng.normal(size=(2500, 6))).astype(np.float32)
    X[17] = 300.0
    redone: list[int] = []
    full_rows = knn._Search._full_rows

    def counted(self: knn._Search, pos: np.ndarray) -> np.ndarray:
        redone.append(pos.size)
        return full_rows(self, pos)

    monkeypatch.setattr(knn._Search, "_full_rows", counted)
    dist, idx = kneighbors(X, 20, block_rows=256, n_jobs=1)
    ref_d, ref_i = brute_reference(X, 20)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-12)
    assert sum(redone) < 0.05 * len(X)


def test_compiled_tolerance_is_the_numpy_one(path: str):
    # The exactness check's bound has two copies (numpy path, kernel): they must agree, and
    # it must grow with the point's norm, threshold and cut, never with other points' values.
    if path == "numpy":
        pytest.skip("a numba kernel")
    rng = np.random.default_rng(12)
    sq, tau, cut = rng.exponential(size=(3, 200)) * 10.0 ** rng.uniform(-3, 3, size=(3, 200))
    eps = 110 * 2.0**-24
    ours = knn._tolerance(eps, sq, tau, cut)
    compiled = np.array([knn._nb.tolerance(eps, *v) for v in zip(sq, tau, cut, strict=True)])
    np.testing.assert_allclose(compiled, ours, rtol=1e-15)
    # by hand: sq 4, tau 1, cut 9 -> 1.01 eps (2*4 + 2*(2+3)^2 + 2*(1+3)^2) = 1.01 eps * 90
    one = knn._tolerance(eps, np.array([4.0]), np.array([1.0]), np.array([9.0]))
    assert one[0] == pytest.approx(1.01 * eps * 90.0, rel=1e-15)
    assert knn._tolerance(eps, np.array([4.0]), np.array([1.0]), np.array([np.inf]))[0] == 0.0


def hard_case(kind: str, rng: np.random.Generator) -> np.ndarray:
    """(n, m) float32 data of a kind that stresses the thresholds and the exactness check."""
    if kind == "tiny scale":
        return (1e-3 * rng.normal(size=(1500, 8))).astype(np.float32)
    if kind == "far outliers":
        X = rng.normal(size=(1500, 5))
        X[rng.integers(0, 1500, 5)] *= 1e3
        return X.astype(np.float32)
    if kind == "near duplicates":
        X = np.repeat(rng.normal(size=(375, 20)), 4, axis=0)
        return (X + 1e-6 * rng.normal(size=X.shape)).astype(np.float32)
    if kind == "offset lattice":  # many exact ties, far from the origin
        return (rng.integers(0, 4, size=(1500, 3)) + 100.0).astype(np.float32)
    X = rng.normal(size=(1200, 24))  # one wide axis and a large offset
    X[:, 0] *= 1e4
    return (X + 1e3).astype(np.float32)


@pytest.mark.parametrize(
    "kind", ["tiny scale", "far outliers", "near duplicates", "offset lattice", "wide offset"]
)
def test_hard_data_gives_the_brute_force_neighbours_in_order(kind: str):
    X = hard_case(kind, np.random.default_rng(len(kind)))
    dist, idx = kneighbors(X, 20, block_rows=128, n_jobs=2)
    ref_d, ref_i = brute_reference(X, 20)
    np.testing.assert_array_equal(idx, ref_i)  # ties by index, as the brute force
    np.testing.assert_allclose(dist, ref_d, rtol=1e-12)
