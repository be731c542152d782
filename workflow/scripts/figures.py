"""Snakemake adapter: rule figures (and figures_truth) -> astroanom.pipeline.figures: the
ranked table (ranked_step), the overview figures (top_step, scores_step, map_step) and, with
truth, Fig. 5 (fig5_step), in one process."""

from astroanom.pipeline.figures import fig5_step, map_step, ranked_step, scores_step, top_step
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
i, o, p = snakemake.input, snakemake.output, snakemake.params
ranked_step(objects=i.objects, active=i.active, out=o.ranked)
top_step(
    features=i.features,
    objects=i.objects,
    active=i.active,
    info=i.info,
    png=o.top_png,
    pdf=o.top_pdf,
    n=p.n,
)
scores_step(active=i.active, detector=p.detector, png=o.scores_png, pdf=o.scores_pdf)
map_step(
    embedding=i.embedding,
    active=i.active,
    png=o.map_png,
    pdf=o.map_pdf,
    detector=p.detector,
    dataset=p.dataset,
)
if o.get("fig5_recall_rws_png"):  # figures_truth
    fig5_step(
        curves=i.curves,
        truth=i.truth,
        png=o.fig5_recall_rws_png,
        pdf=o.fig5_recall_rws_pdf,
        truth_spec=p.truth_spec,
        detector=p.detector,
        n_labels=p.n_labels,
        seed=p.seed,
    )
