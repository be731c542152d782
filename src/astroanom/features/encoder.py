"""Small convolutional image encoders trained self-supervised on a dataset's own cutouts
(PyTorch; the optional extra ``astroanom[learned]``). Imported only by
:mod:`astroanom.features.learned` when it trains or embeds.

Two objectives on (N, C, S, S) float32 cutouts (S a multiple of 16):

- ``simclr`` (Chen et al. 2020): two augmented views of each cutout; the NT-Xent loss pulls a
  cutout's two projections together and pushes the other 2(B - 1) of the batch away;
- ``autoencoder``: the augmented, noisy view is encoded and decoded back to the noiseless view
  (mean squared error); the bottleneck is the embedding.

Augmentations keep what astronomers call the same object the same: any of the 8 flips and 90
degree rotations, a shift of up to ``max_shift`` pixels (reflected borders) and Gaussian noise of
a random level up to ``noise``. No colour jitter: the colour is information. All of them, and the
data order, come from one ``numpy.random.Generator(seed)``; weights from ``torch.manual_seed``;
with deterministic algorithms and a fixed thread count the model is the same bytes every time.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from astroanom.errors import ConfigError
from astroanom.progress import Progress

log = logging.getLogger("astroanom.features.encoder")

#: Version of the saved model's layout (:func:`save`); bumped when it changes.
FORMAT = 1
METHODS = ("simclr", "autoencoder")


@dataclass(frozen=True)
class Architecture:
    """What fixes the network's shape: input bands and side (pixels), first-layer width, and
    the embedding length ``dim``; ``method`` decides which extra parts (head, decoder) exist."""

    method: str
    n_bands: int
    size: int
    width: int
    dim: int


@dataclass(frozen=True)
class Training:
    """How it is trained: passes over the data, batch, Adam's learning rate (cosine-annealed to
    0), NT-Xent's temperature, augmentation shift (pixels) and noise (normalised units)."""

    epochs: int
    batch_size: int
    learning_rate: float
    temperature: float
    max_shift: int
    noise: float


class Encoder(nn.Module):
    """Four stride-2 3x3 convolutions (BatchNorm, ReLU; ``width``, 2, 4, 4 x ``width``
    channels) on (B, n_bands, S, S), flattened (the S/16 x S/16 map keeps where things are)
    and mapped linearly to (B, dim)."""

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        w = arch.width
        chans = [arch.n_bands, w, 2 * w, 4 * w, 4 * w]
        layers: list[nn.Module] = []
        for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1, bias=False), nn.BatchNorm2d(c_out)]
            layers.append(nn.ReLU(inplace=True))
        self.conv = nn.Sequential(*layers)
        side = arch.size // 16
        self.fc = nn.Linear(4 * w * side * side, arch.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).flatten(1))


class Decoder(nn.Module):
    """The encoder mirrored: (B, dim) -> (B, n_bands, S, S) through four stride-2 transposed
    convolutions."""

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        w, self.side = arch.width, arch.size // 16
        self.fc = nn.Linear(arch.dim, 4 * w * self.side * self.side)
        chans = [4 * w, 4 * w, 2 * w, w]
        layers: list[nn.Module] = []
        for c_in, c_out in zip(chans[:-1], chans[1:], strict=True):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]
            layers += [nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        layers.append(nn.ConvTranspose2d(w, arch.n_bands, 4, 2, 1))
        self.deconv = nn.Sequential(*layers)
        self.width = w

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(len(z), 4 * self.width, self.side, self.side)
        return self.deconv(F.relu(h))


def head(dim: int) -> nn.Module:
    """SimCLR's projection head (dim -> 2 dim -> dim); the embedding is taken before it."""
    return nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(inplace=True), nn.Linear(2 * dim, dim))


def nt_xent(p1: torch.Tensor, p2: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent of B pairs of projections (B, d): cross-entropy of each view's cosine
    similarities / ``temperature`` to the 2B - 1 others, its pair the target."""
    z = F.normalize(torch.cat([p1, p2]), dim=1)
    sim = z @ z.T / temperature
    n = len(p1)
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), -1e9)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(sim, target)


def geometric(batch: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Each (C, S, S) cutout of ``batch`` (B, C, S, S) shifted by up to ``max_shift`` pixels in
    x and y (reflected borders), rotated by a multiple of 90 degrees and flipped with p = 0.5."""
    b, _, s, _ = batch.shape
    m = int(max_shift)
    offsets = rng.integers(0, 2 * m + 1, size=(b, 2))
    turns = rng.integers(0, 4, size=b)
    flips = rng.random(b) < 0.5
    if m:
        padded = np.pad(batch, ((0, 0), (0, 0), (m, m), (m, m)), mode="reflect")
        windows = np.lib.stride_tricks.sliding_window_view(padded, (s, s), axis=(2, 3))
        shifted = windows[np.arange(b), :, offsets[:, 0], offsets[:, 1]]  # (b, C, s, s)
    else:
        shifted = batch
    out = np.empty_like(batch)
    for turn in range(4):
        for flip in (False, True):
            idx = np.flatnonzero((turns == turn) & (flips == flip))
            if idx.size:
                view = np.rot90(shifted[idx], turn, axes=(2, 3))
                out[idx] = view[:, :, :, ::-1] if flip else view
    return out


#: Noise fields drawn once per training (each view adds one, scaled, chosen at random):
#: drawing fresh Gaussian noise for every view costs as much as a training step on a CPU.
NOISE_FIELDS = 512


def add_noise(
    batch: torch.Tensor, rng: np.random.Generator, fields: torch.Tensor, noise: float
) -> torch.Tensor:
    """``batch`` (B, ...) plus one of the unit-Gaussian ``fields`` (K, ...) per cutout, chosen
    by ``rng``, scaled by an sd uniform in [0, ``noise``)."""
    if noise <= 0:
        return batch
    pick = torch.from_numpy(rng.integers(0, len(fields), size=len(batch)))
    sd = torch.from_numpy((noise * rng.random(len(batch))).astype(np.float32))
    shape = (len(batch),) + (1,) * (batch.dim() - 1)
    return batch + (sd.view(shape) * fields[pick]).to(batch.device)


def pick_device(device: str) -> torch.device:
    """``auto``: CUDA if present, else Apple's MPS, else the CPU; or the one named (an error
    naming what is present if it is not)."""
    have_cuda = torch.cuda.is_available()
    have_mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if device == "auto":
        return torch.device("cuda" if have_cuda else "mps" if have_mps else "cpu")
    if (device == "cuda" and not have_cuda) or (device == "mps" and not have_mps):
        present = ", ".join(d for d, ok in (("cuda", have_cuda), ("mps", have_mps)) if ok)
        raise ConfigError(
            f"features.device {device!r} is not available here (present: cpu"
            f"{', ' + present if present else ''}); use device: auto or cpu"
        )
    return torch.device(device)


def make_repeatable(seed: int, n_threads: int, device: torch.device) -> None:
    """Seed torch, fix its thread count and ask for deterministic algorithms."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
    torch.manual_seed(int(seed))
    torch.set_num_threads(max(1, int(n_threads)))
    torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")


def _eta(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def train(
    data: np.ndarray,
    arch: Architecture,
    training: Training,
    seed: int,
    n_threads: int,
    device: str,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train an encoder on ``data`` (N, n_bands, S, S) float32.

    Returns (the saveable model: format, architecture and the encoder's weights; what happened:
    device, loss per epoch, seconds, objects/s). ``progress`` gets one line per epoch (loss,
    objects/s, ETA); default: the log, at most 20 lines (:class:`astroanom.progress.Progress`).
    """
    if arch.method not in METHODS:
        raise ConfigError(f"features.method {arch.method!r}: one of {', '.join(METHODS)}")
    say = progress or log.info
    dev = pick_device(device)
    make_repeatable(seed, n_threads, dev)
    rng = np.random.default_rng([int(seed), 0x1EA])
    gen = torch.Generator().manual_seed(int(seed))
    fields = torch.randn((NOISE_FIELDS, *data.shape[1:]), generator=gen, dtype=torch.float32)
    enc = Encoder(arch).to(dev)
    extra = head(arch.dim) if arch.method == "simclr" else Decoder(arch)
    extra = extra.to(dev)
    params = [*enc.parameters(), *extra.parameters()]
    opt = torch.optim.Adam(params, lr=training.learning_rate)
    n = len(data)
    batch = min(training.batch_size, n)
    steps_per_epoch = max(1, n // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=training.epochs * steps_per_epoch)
    say(
        f"training {arch.method} encoder on {n} cutouts of {arch.n_bands} x {arch.size} x "
        f"{arch.size} on {dev.type} ({torch.get_num_threads()} threads): {training.epochs} "
        f"epochs of {steps_per_epoch} batches of {batch}"
    )
    losses: list[float] = []
    t0 = time.perf_counter()
    enc.train()
    extra.train()
    bar = Progress(f"training {arch.method} encoder", training.epochs, "epochs", logger=log)
    for epoch in range(training.epochs):
        order = rng.permutation(n)
        total, t_epoch = 0.0, time.perf_counter()
        for k in range(steps_per_epoch):
            x = data[order[k * batch : (k + 1) * batch]]
            if arch.method == "simclr":
                v1, v2 = (geometric(x, rng, training.max_shift) for _ in range(2))
                views = torch.from_numpy(np.concatenate([v1, v2])).to(dev)
                p = extra(enc(add_noise(views, rng, fields, training.noise)))
                loss = nt_xent(p[: len(x)], p[len(x) :], training.temperature)
            else:
                clean = torch.from_numpy(geometric(x, rng, training.max_shift)).to(dev)
                noisy = add_noise(clean, rng, fields, training.noise)
                loss = F.mse_loss(extra(enc(noisy)), clean)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
            if not math.isfinite(total):
                raise FloatingPointError(
                    f"the training loss is not finite at epoch {epoch + 1}; lower learning_rate"
                )
        losses.append(total / steps_per_epoch)
        dt = time.perf_counter() - t_epoch
        rate = steps_per_epoch * batch / max(dt, 1e-9)
        left = (time.perf_counter() - t0) / (epoch + 1) * (training.epochs - epoch - 1)
        line = (
            f"epoch {epoch + 1}/{training.epochs}: loss {losses[-1]:.4f}, {rate:.0f} objects/s, "
            f"ETA {_eta(left)}"
        )
        if progress is not None:
            progress(line)
        else:
            bar.advance(message=line)
    if progress is None:
        bar.done()
    seconds = time.perf_counter() - t0
    model = {
        "format": FORMAT,
        "architecture": asdict(arch),
        "encoder": {k: v.detach().cpu() for k, v in enc.state_dict().items()},
    }
    info = {
        "device": dev.type,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "loss": losses,
        "seconds": seconds,
        "objects_per_second": training.epochs * steps_per_epoch * batch / max(seconds, 1e-9),
        "training": asdict(training),
    }
    return model, info


def save(model: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``model`` (from :func:`train`) atomically with ``torch.save``."""
    from astroanom.store.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save(model, tmp)


def load(path: str | os.PathLike[str]) -> tuple[Architecture, Encoder]:
    """The architecture and the encoder (eval mode, CPU) saved at ``path``; errors name the
    file and what is wrong with it."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"trained model {str(p)!r} does not exist; train it or fix model:")
    try:
        model = torch.load(p, map_location="cpu", weights_only=True)
        arch = Architecture(**model["architecture"])
        if model.get("format") != FORMAT:
            raise ValueError(f"format {model.get('format')!r}, expected {FORMAT}")
        enc = Encoder(arch)
        enc.load_state_dict(model["encoder"])
    except (OSError, RuntimeError, KeyError, TypeError, ValueError, EOFError) as exc:
        raise ConfigError(
            f"{str(p)!r} is not a model this version of astroanom trained ({exc}); retrain it "
            "(delete the file) or give another model:"
        ) from exc
    return arch, enc.eval()


def embed(
    enc: Encoder, data: np.ndarray, n_threads: int, device: str, batch_size: int
) -> np.ndarray:
    """(N, dim) float64 embeddings of ``data`` (N, n_bands, S, S) float32, in batches."""
    dev = pick_device(device)
    torch.set_num_threads(max(1, int(n_threads)))
    enc = enc.to(dev).eval()
    out = []
    with torch.inference_mode():
        for k in range(0, len(data), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(data[k : k + batch_size])).to(dev)
            out.append(enc(x).cpu().numpy().astype(np.float64))
    dim = enc.fc.out_features
    return np.concatenate(out) if out else np.empty((0, dim))
