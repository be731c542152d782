"""Snakemake adapter: rules figure{1,6,7,8,9}_simulation -> astroanom.pipeline.simulation.fig*_step."""

from astroanom.pipeline import simulation as steps
from astroanom.runtime import configure

configure(snakemake.log[0], snakemake.threads)
inp, out, par = snakemake.input, snakemake.output, snakemake.params
rule = snakemake.rule
if rule == "figure1_simulation":
    steps.fig1_step(inp.embedding, inp.active, out.png, out.pdf)
elif rule == "figure6_simulation":
    steps.fig6_step(inp.features, inp.objects, inp.active, inp.info, out.png, out.pdf, par.seed)
elif rule == "figure7_simulation":
    steps.fig7_step(inp.rounds, out.png, out.pdf, par.class_ids, par.top, par.oracle)
elif rule == "figure8_simulation":
    steps.fig8_step(inp.curves, out.png, out.pdf, par.class_ids, par.oracle, par.n_class)
elif rule == "figure9_simulation":
    steps.fig9_step(inp.curves, out.png, out.pdf, par.class_ids, par.oracle)
else:
    raise ValueError(f"figure_simulation.py does not know rule {rule!r}")
