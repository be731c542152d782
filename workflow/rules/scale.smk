# Feature scaling before detection: StandardScaler (zero mean, unit variance per feature).


rule galaxies_scale:
    input:
        features=f"{RESULTS}/galaxies/{{source}}/features_raw.parquet",
    output:
        features=f"{RESULTS}/galaxies/{{source}}/features.parquet",
        params=f"{RESULTS}/galaxies/{{source}}/scaler.json",
    log:
        f"{LOGS}/galaxies/{{source}}/scale.log",
    benchmark:
        f"{BENCH}/galaxies/{{source}}/scale.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/galaxies_scale.py"
