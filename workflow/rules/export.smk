# The anomaly catalogue of a dataset: what its users labelled relevant plus the top N by S^, as
# CSV, FITS table and a self-contained HTML page to share (also `astroanom export <dataset>`).


include: "helpers/export.smk"


rule export:
    input:
        objects=run_file("objects.parquet"),
        scores=run_file("scores.parquet"),
        active=run_file("active.parquet"),
        info=run_file("dataset.json"),
        labels=export_labels,
    output:
        csv=report(
            f"{RESULTS}/{{run}}/export/anomalies.csv",
            caption="../report/export.rst",
            category="Anomaly catalogues",
            labels={"dataset": "{run}", "table": "anomalies (CSV)"},
        ),
        fits=f"{RESULTS}/{{run}}/export/anomalies.fits",
        html=report(
            f"{RESULTS}/{{run}}/export/anomalies.html",
            caption="../report/export.rst",
            category="Anomaly catalogues",
            labels={"dataset": "{run}", "table": "anomalies (page)"},
        ),
    log:
        f"{LOGS}/{{run}}/export.log",
    benchmark:
        f"{BENCH}/{{run}}/export.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
    params:
        out_dir=lambda w: f"{RESULTS}/{w.run}/export",
        threshold=lambda w: ds(w)["export"]["threshold"],
        top_n=lambda w: ds(w)["export"]["top_n"],
        title=lambda w: f"Anomalies of {w.run}",
    script:
        "../scripts/export.py"
