# Downloads for the Galaxy Zoo reproduction (config/galaxy_zoo.yaml): resumable, md5-checked,
# atomic. Offline, place the files by hand where the error message says and re-run.


rule download_gz2:
    output:
        f"{GZ_RES}/gz2/{{name}}",
    log:
        f"{LOGS}/download/gz2_{{name}}.log",
    benchmark:
        f"{BENCH}/download/gz2_{{name}}.tsv"
    wildcard_constraints:
        name="images_gz2.zip|gz2_filename_mapping.csv",
    retries: 1
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=500,
        downloads=1,
    params:
        url=lambda w: f"https://zenodo.org/records/3565489/files/{w.name}?download=1",
        md5=lambda w: gz2_md5(w.name),
    script:
        "../scripts/download.py"


rule download_hart16:
    output:
        f"{GZ_RES}/gz2/gz2_hart16.csv.gz",
    log:
        f"{LOGS}/download/gz2_hart16.log",
    benchmark:
        f"{BENCH}/download/gz2_hart16.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=500,
        downloads=1,
    params:
        url="https://gz2hart.s3.amazonaws.com/gz2_hart16.csv.gz",
        md5=None,  # not published: the sha256 of what was fetched is recorded beside the file
    script:
        "../scripts/download.py"


rule extract_gz2_images:
    input:
        f"{GZ_RES}/gz2/images_gz2.zip",
    output:
        directory(f"{GZ_RES}/gz2/images"),
    log:
        f"{LOGS}/download/extract_gz2.log",
    benchmark:
        f"{BENCH}/download/extract_gz2.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/galaxies_extract.py"


rule download_kaggle:
    output:
        images=directory(f"{GZ_RES}/kaggle/images_training_rev1"),
        solutions=f"{GZ_RES}/kaggle/training_solutions_rev1.csv",
    log:
        f"{LOGS}/download/kaggle.log",
    benchmark:
        f"{BENCH}/download/kaggle.tsv"
    conda:
        "../envs/astroanom.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        downloads=1,
    script:
        "../scripts/galaxies_kaggle.py"
