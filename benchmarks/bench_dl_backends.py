"""Training and embedding speed of the learned extractor's autoencoder in PyTorch and in JAX
(Flax linen + optax) on this machine's cores (issue 19: which deep-learning dependency).

The network is the one astroanom trains (``features.kind: learned``, ``method: autoencoder``):
four stride-2 3x3 convolutions (16, 32, 64, 64 channels; BatchNorm, ReLU), a linear map to 32,
and the mirrored decoder (linear, three 4x4 stride-2 transposed convolutions with BatchNorm and
ReLU, a last one to the bands). The PyTorch side imports astroanom's own
:mod:`astroanom.features.encoder` (``Encoder``, ``Decoder``, ``make_repeatable``), so its number
is the real one; the JAX side is the same layers written with ``flax.linen`` (NHWC, the layout
XLA prefers on CPUs). Both: random (N, 3, 64, 64) float32 data, batch 256 (N // 256 full
batches an epoch), Adam lr 0.002 cosine-annealed to 0, mean squared reconstruction error, no
augmentation (it is numpy and the same for both). A warm-up step (JAX: its JIT compile) is timed
apart from the epochs. Embedding: the encoder alone, eval mode, batches of 512.

Each backend runs in its own fresh process (its import time and peak RSS are its own), pinned
to ``--threads`` cores (``os.sched_setaffinity``; torch also ``set_num_threads``; XLA's CPU
client sizes its pool from the affinity mask; ``--xla-flags`` are passed as ``XLA_FLAGS``, and
XLA stops on an unknown ``--xla_...`` flag but silently ignores words without the dashes, such
as TensorFlow's ``intra_op_parallelism_threads=2``). "cpu/wall" is the process's CPU seconds over wall
seconds in the epochs: how many cores it really kept busy. The machine's load average is
printed before and after each backend, as the machine is shared.

It needs one venv with both libraries (PyTorch's CPU wheel, not the CUDA one)::

    .venv/bin/pip install -e '.[dev]' torch==2.13.0 jax optax flax
    PYTHONPATH=src .venv/bin/python benchmarks/bench_dl_backends.py [--n 5000] [--epochs 3]
        [--threads 2] [--backends torch,jax] [--xla-flags '...'] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from measure import peak_rss_mib

SIZE, BANDS, WIDTH, DIM = 64, 3, 16, 32
BATCH, LR, EMBED_BATCH = 256, 0.002, 512


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def data(n: int, seed: int) -> np.ndarray:
    """(n, 3, 64, 64) float32 standard-normal cutouts."""
    return np.random.default_rng(seed).standard_normal((n, BANDS, SIZE, SIZE), dtype=np.float32)


def epochs_loop(step, state, x_all: np.ndarray, epochs: int, seed: int, to_batch):
    """Run ``epochs`` passes of full batches through ``step(state, batch) -> (state, loss)``;
    (state, objects/s per epoch, cpu/wall over all epochs, last loss)."""
    rng = np.random.default_rng([seed, 1])
    n_steps = len(x_all) // BATCH
    rates, loss = [], float("nan")
    t_all, c_all = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        order = rng.permutation(len(x_all))
        t0 = time.perf_counter()
        for k in range(n_steps):
            state, loss = step(state, to_batch(x_all[order[k * BATCH : (k + 1) * BATCH]]))
        loss = float(loss)  # waits for the last step (JAX dispatches asynchronously)
        rates.append(n_steps * BATCH / (time.perf_counter() - t0))
    cpu = (time.process_time() - c_all) / (time.perf_counter() - t_all)
    return state, rates, cpu, loss


def run_torch(x_all: np.ndarray, epochs: int, threads: int, seed: int) -> dict:
    t0 = time.perf_counter()
    import torch
    import torch.nn.functional as F

    from astroanom.features import encoder as E

    t_import = time.perf_counter() - t0
    dev = torch.device("cpu")
    E.make_repeatable(seed, threads, dev)  # as astroanom's training does
    arch = E.Architecture("autoencoder", BANDS, SIZE, WIDTH, DIM)
    enc, dec = E.Encoder(arch), E.Decoder(arch)
    params = [*enc.parameters(), *dec.parameters()]
    opt = torch.optim.Adam(params, lr=LR)
    n_steps = len(x_all) // BATCH
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=(epochs + 1) * n_steps)
    enc.train()
    dec.train()

    def step(state, x):
        loss = F.mse_loss(dec(enc(x)), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return state, loss.detach()

    to_batch = torch.from_numpy
    t0 = time.perf_counter()
    step(None, to_batch(x_all[:BATCH]))
    warm = time.perf_counter() - t0
    _, rates, cpu, loss = epochs_loop(step, None, x_all, epochs, seed, to_batch)

    enc.eval()
    xe = x_all[: len(x_all) // EMBED_BATCH * EMBED_BATCH]
    with torch.inference_mode():
        t0 = time.perf_counter()
        enc(to_batch(xe[:EMBED_BATCH]))
        embed_warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        for k in range(0, len(xe), EMBED_BATCH):
            enc(to_batch(xe[k : k + EMBED_BATCH])).numpy()
        embed_s = time.perf_counter() - t0
    return {
        "library": f"torch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "import_s": t_import,
        "warmup_s": warm,
        "rates": rates,
        "cpu_per_wall": cpu,
        "loss": loss,
        "embed_warmup_s": embed_warm,
        "embed_ms_per_object": 1e3 * embed_s / len(xe),
    }


def run_jax(x_all: np.ndarray, epochs: int, threads: int, seed: int) -> dict:
    t0 = time.perf_counter()
    import flax
    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    import optax

    t_import = time.perf_counter() - t0

    def bn(train: bool) -> nn.BatchNorm:
        # torch's BatchNorm2d: running stats momentum 0.1 (flax counts the other way), eps 1e-5
        return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5)

    class Encoder(nn.Module):
        @nn.compact
        def __call__(self, x, train: bool):
            for c in (WIDTH, 2 * WIDTH, 4 * WIDTH, 4 * WIDTH):
                x = nn.Conv(c, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)), use_bias=False)(x)
                x = nn.relu(bn(train)(x))
            return nn.Dense(DIM)(x.reshape(len(x), -1))

    class Decoder(nn.Module):
        @nn.compact
        def __call__(self, z, train: bool):
            side = SIZE // 16
            h = nn.relu(nn.Dense(4 * WIDTH * side * side)(z)).reshape(len(z), side, side, -1)
            for c in (4 * WIDTH, 2 * WIDTH, WIDTH):
                h = nn.ConvTranspose(c, (4, 4), strides=(2, 2), padding="SAME", use_bias=False)(h)
                h = nn.relu(bn(train)(h))
            return nn.ConvTranspose(BANDS, (4, 4), strides=(2, 2), padding="SAME")(h)

    class AutoEncoder(nn.Module):
        def setup(self):
            self.enc, self.dec = Encoder(), Decoder()

        def __call__(self, x, train: bool = True):
            return self.dec(self.enc(x, train), train)

        def encode(self, x):
            return self.enc(x, False)

    model = AutoEncoder()
    n_steps = len(x_all) // BATCH
    tx = optax.adam(optax.cosine_decay_schedule(LR, (epochs + 1) * n_steps))
    variables = model.init(jax.random.key(seed), jnp.zeros((1, SIZE, SIZE, BANDS)))
    params, stats = variables["params"], variables["batch_stats"]
    state = (params, stats, tx.init(params))

    def loss_fn(params, stats, x):
        out, upd = model.apply(
            {"params": params, "batch_stats": stats}, x, train=True, mutable=["batch_stats"]
        )
        return jnp.mean((out - x) ** 2), upd["batch_stats"]

    @jax.jit
    def step(state, x):
        params, stats, opt_state = state
        (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, stats, x)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), stats, opt_state), loss

    x_nhwc = np.ascontiguousarray(x_all.transpose(0, 2, 3, 1))  # once, before timing

    t0 = time.perf_counter()
    compiled = step.lower(state, jnp.asarray(x_nhwc[:BATCH])).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    state, loss = compiled(state, jnp.asarray(x_nhwc[:BATCH]))
    loss.block_until_ready()
    warm = time.perf_counter() - t0
    state, rates, cpu, loss = epochs_loop(compiled, state, x_nhwc, epochs, seed, jnp.asarray)

    enc_fn = jax.jit(lambda v, x: model.apply(v, x, method=AutoEncoder.encode))
    v = {"params": state[0], "batch_stats": state[1]}
    xe = x_nhwc[: len(x_nhwc) // EMBED_BATCH * EMBED_BATCH]
    t0 = time.perf_counter()
    np.asarray(enc_fn(v, jnp.asarray(xe[:EMBED_BATCH])))
    embed_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(0, len(xe), EMBED_BATCH):
        np.asarray(enc_fn(v, jnp.asarray(xe[k : k + EMBED_BATCH])))
    embed_s = time.perf_counter() - t0
    return {
        "library": f"jax {jax.__version__} flax {flax.__version__} optax {optax.__version__}",
        "threads": len(os.sched_getaffinity(0)),
        "import_s": t_import,
        "compile_s": compile_s,
        "warmup_s": warm,
        "rates": rates,
        "cpu_per_wall": cpu,
        "loss": loss,
        "embed_warmup_s": embed_warm,
        "embed_ms_per_object": 1e3 * embed_s / len(xe),
    }


def child(backend: str, n: int, epochs: int, threads: int, seed: int) -> dict:
    """One backend in this (fresh) process, pinned to the first ``threads`` allowed cores."""
    cores = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cores)
    before = load()
    x_all = data(n, seed)
    run = run_torch if backend == "torch" else run_jax
    out = run(x_all, epochs, threads, seed)
    return {"backend": backend, **out, "peak_rss_mib": peak_rss_mib(), "load": [before, load()]}


def report(r: dict) -> None:
    rates = ", ".join(f"{x:.0f}" for x in r["rates"])
    comp = f", of which compile {r['compile_s']:.2f} s" if "compile_s" in r else ""
    print(
        f"{r['backend']:>5} ({r['library']}, {r['threads']} threads): import {r['import_s']:.2f} s; "
        f"warm-up step {r['warmup_s'] + r.get('compile_s', 0):.2f} s{comp}; "
        f"train objects/s per epoch {rates} (cpu/wall {r['cpu_per_wall']:.2f}, "
        f"loss {r['loss']:.3f}); embed {r['embed_ms_per_object']:.3f} ms/object "
        f"(first batch {r['embed_warmup_s']:.2f} s); peak RSS {r['peak_rss_mib']:.0f} MiB; "
        f"load before/after {r['load'][0]} -> {r['load'][1]}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backends", default="torch,jax")
    ap.add_argument("--xla-flags", default="", help="XLA_FLAGS for the JAX process")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.n, a.epochs, a.threads, a.seed)))
        return
    print(f"load average (1/5/15 min) at start: {load()}; {os.cpu_count()} cores")
    results = []
    for backend in a.backends.split(","):
        env = dict(os.environ)
        if backend == "jax":
            env.setdefault("JAX_PLATFORMS", "cpu")
            env["XLA_FLAGS"] = a.xla_flags
        args = [str(v) for v in ("--n", a.n, "--epochs", a.epochs, "--threads", a.threads)]
        cmd = [sys.executable, __file__, "--child", backend, *args, "--seed", str(a.seed)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{backend} failed:\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        report(results[-1])
    print(f"load average at end: {load()}")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
