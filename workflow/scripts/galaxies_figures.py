"""Snakemake adapter: galaxy figure rules -> astroanom.plots.galaxies (Figs. 4, 5, t-SNE)."""

import pandas as pd

from astroanom.plots import galaxies as gp
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
figure = snakemake.params.figure
if figure == "fig4":
    gp.fig4_grids(
        pd.read_parquet(snakemake.input.objects),
        pd.read_parquet(snakemake.input.active),
        snakemake.output.png,
        snakemake.output.pdf,
        n=snakemake.params.n,
        seed=snakemake.params.seed,
    )
elif figure == "fig5":
    objects = pd.read_parquet(snakemake.input.objects, columns=["is_anomaly"])
    gp.fig5_recall_rws(
        pd.read_parquet(snakemake.input.curves),
        snakemake.output.png,
        snakemake.output.pdf,
        n_anomalies=int(objects["is_anomaly"].sum()),
    )
elif figure == "tsne":
    emb = pd.read_parquet(snakemake.input.embedding)
    act = pd.read_parquet(snakemake.input.active, columns=["id", "S", "score", "label"])
    gp.tsne_map(emb.merge(act, on="id", how="left"), snakemake.output.png, snakemake.output.pdf)
else:
    raise ValueError(f"unknown galaxy figure {figure!r}")
