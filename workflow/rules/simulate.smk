# Experiment 1 data: the five-class simulation (paper section 6, Table 1).


rule simulate:
    output:
        features=f"{RESULTS}/simulation/{{preset}}/seed{{seed}}/features.parquet",
        objects=f"{RESULTS}/simulation/{{preset}}/seed{{seed}}/objects.parquet",
        info=f"{RESULTS}/simulation/{{preset}}/seed{{seed}}/dataset.json",
    log:
        f"{LOGS}/simulation/{{preset}}/seed{{seed}}/simulate.log",
    benchmark:
        f"{BENCH}/simulation/{{preset}}/seed{{seed}}/simulate.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        classes=lambda w: sim_cfg()["preset_definitions"][w.preset],
        counts=lambda w: sim_cfg()["counts"],
        n_x=lambda w: sim_cfg()["n_x"],
        noise_sd=lambda w: sim_cfg()["noise_sd"],
    script:
        "../scripts/simulate.py"
