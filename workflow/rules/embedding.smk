# The 2-D map of a run: t-SNE of a seeded subset plus the objects with the highest S. It reads
# the features and S only, so new labels never rerun it; figures colour it by S^ cheaply.


rule embedding:
    input:
        features=RUN.features,
        scores=RUN.scores,
    output:
        embedding=RUN.embedding,
    log:
        logs("embedding"),
    benchmark:
        benchmarks("embedding")
    conda:
        ENV
    threads: threads_by_objects()
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
