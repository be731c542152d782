# Downloads for the Galaxy Zoo sources (config/galaxy_zoo.yaml): resumable, md5-checked,
# atomic, into the source's `resources` folder. Offline, place the files by hand where the
# error message says and re-run.


include: "helpers/download.smk"


rule download_gz2:
    output:
        "{res}/gz2/{name}",
    log:
        f"{LOGS}/download/{{res}}/gz2_{{name}}.log",
    benchmark:
        f"{BENCH}/download/{{res}}/gz2_{{name}}.tsv"
    wildcard_constraints:
        name="images_gz2.zip|gz2_filename_mapping.csv",
    retries: 1
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        downloads=1,
    params:
        url=lambda w: f"https://zenodo.org/records/3565489/files/{w.name}?download=1",
        md5=lambda w: gz2_md5(w.name),
        check="auto",
        limits=config["downloads"],
    script:
        "../scripts/download_file.py"


rule download_hart16:
    output:
        "{res}/gz2/gz2_hart16.csv.gz",
    log:
        f"{LOGS}/download/{{res}}/gz2_hart16.log",
    benchmark:
        f"{BENCH}/download/{{res}}/gz2_hart16.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        downloads=1,
    params:
        url=HART16_URL,
        md5=None,  # not published: size, a complete gzip stream, and a recorded sha256
        check="gzip",
        limits=config["downloads"],
    script:
        "../scripts/download_file.py"


rule extract_gz2_images:
    input:
        "{res}/gz2/images_gz2.zip",
    output:
        directory("{res}/gz2/images"),
    log:
        f"{LOGS}/download/{{res}}/extract_gz2.log",
    benchmark:
        f"{BENCH}/download/{{res}}/extract_gz2.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/download_extract.py"


rule download_kaggle:
    output:
        images=directory("{res}/kaggle/images_training_rev1"),
        solutions="{res}/kaggle/training_solutions_rev1.csv",
    log:
        f"{LOGS}/download/{{res}}/kaggle.log",
    benchmark:
        f"{BENCH}/download/{{res}}/kaggle.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        downloads=1,
    script:
        "../scripts/download_kaggle.py"
