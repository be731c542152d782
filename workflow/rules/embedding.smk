# The 2-D map of a run: t-SNE of a seeded subset plus the objects with the highest S. It reads
# the features and S only, so new labels never rerun it; figures colour it by S^ cheaply.


rule embedding:
    input:
        features=run_file("features.parquet"),
        scores=run_file("scores.parquet"),
    output:
        embedding=f"{RESULTS}/{{run}}/embedding.parquet",
    log:
        f"{LOGS}/{{run}}/embedding.log",
    benchmark:
        f"{BENCH}/{{run}}/embedding.tsv"
    conda:
        ENV
    threads: 2
    resources:
        mem_mb=3000,
    params:
        n_objects=lambda w: ds(w)["embedding"]["n_objects"],
        perplexity=lambda w: ds(w)["embedding"]["perplexity"],
        include_top=lambda w: ds(w)["embedding"]["include_top"],
        method=lambda w: ds(w)["embedding"]["method"],
        embed_params=lambda w: ds(w)["embedding"]["params"],
        seed=run_seed,
    script:
        "../scripts/embedding.py"
