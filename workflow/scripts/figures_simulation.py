"""Snakemake adapter: rule figures_simulation -> astroanom.pipeline.figures: the simulation
experiment's Figs. 1, 6, 8 and 9 (fig1_step, fig6_step, fig8_step, fig9_step), in one process."""

from astroanom.pipeline.figures import fig1_step, fig6_step, fig8_step, fig9_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
i, o, p = snakemake.input, snakemake.output, snakemake.params
fig1_step(
    embedding=i.embedding,
    active=i.active,
    png=o.fig1_tsne_heatmap_png,
    pdf=o.fig1_tsne_heatmap_pdf,
    seed=p.seed,
)
fig6_step(
    features=i.features,
    truth=i.truth,
    active=i.active,
    info=i.info,
    png=o.fig6_examples_png,
    pdf=o.fig6_examples_pdf,
    seed=p.seed,
)
fig8_step(
    curves=i.curves,
    png=o.fig8_rws_png,
    pdf=o.fig8_rws_pdf,
    class_ids=p.class_ids,
    oracle=p.oracle,
    n_class=p.n_class,
)
fig9_step(
    curves=i.curves,
    png=o.fig9_recall_png,
    pdf=o.fig9_recall_pdf,
    class_ids=p.class_ids,
    oracle=p.oracle,
)
