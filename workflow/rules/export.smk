# The anomaly catalogue of a dataset: what its users labelled relevant plus the top N by S^, as
# CSV, FITS table, VOTable (units, UCDs) and a self-contained HTML page to share (also
# `astroanom export <dataset>`); with export.crossmatch, known objects are marked.


include: "helpers/export.smk"


rule export:
    input:
        objects=RUN.objects,
        scores=RUN.scores,
        active=RUN.active,
        info=RUN.dataset_json,
        labels=export_labels,
        catalogue=export_catalogue,
    output:
        csv=report(
            RUN.export_csv,
            caption="../report/export.rst",
            category="Anomaly catalogues",
            labels={"dataset": "{run}", "table": "anomalies (CSV)"},
        ),
        fits=RUN.export_fits,
        votable=RUN.export_votable,
        # the page (each object's cutout or plot embedded, ~0.3-1.2 MB) is not embedded in the
        # report too: it would be base64 twice and a quarter of the report; the caption says where it is
        html=RUN.export_html,
    log:
        logs("export"),
    benchmark:
        benchmarks("export")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        out_dir=lambda w: rd(w).export_dir,
        threshold=lambda w: ds(w)["export"]["threshold"],
        top_n=lambda w: ds(w)["export"]["top_n"],
        crossmatch=lambda w: ds(w)["export"]["crossmatch"],
        stretch=lambda w: ds(w)["export"]["stretch"],
        title=lambda w: f"Anomalies of {w.run}",
    script:
        "../scripts/export.py"
