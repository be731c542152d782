"""Does a learned 1-D encoder help on curves? A measurement, not a feature (issue 19).

The question: would the learned image extractor's approach (a small convolutional autoencoder
trained on the dataset itself, its bottleneck as features) find more of the wanted objects than
the features astroanom already uses for 1-D data? Measured on the paper's five-class simulation
(100-point curves, wanted class 4 = sums of sines; anomalies 2, 3, 4), with the paper's detector
(LOF, k = 100) on three representations of the same curves:

- ``values``: the 100 y-values, unscaled (the paper's, and the default run's);
- ``pca``: their first ``dim`` principal components (a linear encoder of the same size);
- ``autoencoder``: a 1-D CNN autoencoder (three stride-2 convolutions, a linear bottleneck of
  ``dim``; Gaussian noise and small circular shifts as augmentations), trained ``epochs``
  epochs on all curves.

Prints, per representation and training seed, the wanted and anomalous objects among the first
100 and 150 by S, the training time and the embedding time per curve, with the load average.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_learned_1d.py --scale 0.2 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from torch import nn

from astroanom.detect.detectors import anomaly_scores, make_detector
from astroanom.sources.simulation import simulate

CLASSES = {
    0: {"form": "sine", "params": {"omega": [5, 2]}},
    1: {"form": "quadratic", "params": {"a": [0.5, 0.2], "b": [0.5, 0.2], "c": [0.0, 0.2]}},
    2: {"form": "step", "params": {"h": [1.0, 0.3], "x0": [0.5, 0.2]}},
    3: {"form": "gaussian", "params": {"A": [1.0, 0.5], "mu": [0.5, 0.2], "w": [0.1, 0.05]}},
    4: {"form": "sum_of_sines", "params": {"omega": [30, 20]}},
}


class AutoEncoder1D(nn.Module):
    """(N, 1, L) -> (N, dim) -> (N, 1, L), L a multiple of 8."""

    def __init__(self, length: int, dim: int, width: int = 16) -> None:
        super().__init__()
        chans = [1, width, 2 * width, 2 * width]
        enc: list[nn.Module] = []
        for a, b in zip(chans[:-1], chans[1:], strict=True):
            enc += [nn.Conv1d(a, b, 5, 2, 2), nn.BatchNorm1d(b), nn.ReLU()]
        self.enc = nn.Sequential(*enc)
        self.side = length // 8
        self.to_z = nn.Linear(chans[-1] * self.side, dim)
        self.from_z = nn.Linear(dim, chans[-1] * self.side)
        dec: list[nn.Module] = []
        rev = chans[::-1]
        for i, (a, b) in enumerate(zip(rev[:-1], rev[1:], strict=True)):
            dec.append(nn.ConvTranspose1d(a, b, 4, 2, 1))
            if i < len(rev) - 2:
                dec += [nn.BatchNorm1d(b), nn.ReLU()]
        self.dec = nn.Sequential(*dec)
        self.width = chans[-1]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_z(self.enc(x).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.from_z(self.embed(x)).view(-1, self.width, self.side)
        return self.dec(h)


def train_autoencoder(
    y: np.ndarray, dim: int, epochs: int, seed: int, batch: int = 256
) -> tuple[np.ndarray, float, float]:
    """Train on curves ``y`` (n, L); return (embedding (n, dim), train s, embed ms/curve)."""
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(seed)
    n, length = y.shape
    pad = (-length) % 8
    x = np.pad(y, ((0, 0), (0, pad)), mode="edge").astype(np.float32)
    mu, sd = float(x.mean()), float(x.std()) or 1.0
    x = (x - mu) / sd
    model = AutoEncoder1D(x.shape[1], dim)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    t0 = time.perf_counter()
    model.train()
    for _ in range(epochs):
        perm = rng.permutation(n)
        for start in range(0, n, batch):
            rows = perm[start : start + batch]
            clean = x[rows]
            shift = rng.integers(-2, 3, size=rows.size)
            target = np.stack([np.roll(c, s) for c, s in zip(clean, shift, strict=True)])
            noisy = target + rng.normal(0, 0.1, size=target.shape).astype(np.float32)
            out = model(torch.from_numpy(noisy)[:, None])
            loss = nn.functional.mse_loss(out[:, 0], torch.from_numpy(target))
            opt.zero_grad()
            loss.backward()
            opt.step()
    train_s = time.perf_counter() - t0
    model.eval()
    t1 = time.perf_counter()
    with torch.no_grad():
        z = np.concatenate(
            [
                model.embed(torch.from_numpy(x[s : s + 4096])[:, None]).numpy()
                for s in range(0, n, 4096)
            ]
        )
    return z.astype(np.float64), train_s, 1e3 * (time.perf_counter() - t1) / n


def pca(y: np.ndarray, dim: int) -> np.ndarray:
    """First ``dim`` principal components (n, dim) of ``y`` (n, L)."""
    c = y - y.mean(axis=0)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    return c @ vt[:dim].T


def found(S: np.ndarray, mask: np.ndarray, k: int) -> int:
    """Objects of ``mask`` among the first ``k`` by S (stable ties)."""
    return int(mask[np.argsort(-S, kind="stable")[:k]].sum())


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--scale", type=float, default=0.2, help="fraction of classes 0 and 1 (25000, 24500)"
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    counts = {0: int(25000 * a.scale), 1: int(24500 * a.scale), 2: 150, 3: 150, 4: 150}
    print(f"load {os.getloadavg()[0]:.1f}; counts {counts}; dim {a.dim}; epochs {a.epochs}")
    print("rep          seed  wanted@100 wanted@150 anom@100 anom@150  train_s  embed_ms")
    for seed in a.seeds:
        sim = simulate(CLASSES, counts, seed=seed)
        y = sim.features.astype(np.float64)
        wanted, anom = sim.classes == 4, np.isin(sim.classes, [2, 3, 4])
        z, ts, es = train_autoencoder(y, a.dim, a.epochs, seed)
        reps = {
            "values": (y, 0.0, 0.0),
            "pca": (pca(y, a.dim), 0.0, 0.0),
            "autoencoder": (z, ts, es),
        }
        for name, (X, tr, em) in reps.items():
            det = make_detector("lof", seed=seed, n_jobs=a.threads, n_neighbors=100)
            _, S = anomaly_scores(det, X)
            print(
                f"{name:12s} {seed:4d} {found(S, wanted, 100):10d} {found(S, wanted, 150):10d}"
                f" {found(S, anom, 100):8d} {found(S, anom, 150):8d} {tr:8.1f} {em:9.3f}"
            )
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
