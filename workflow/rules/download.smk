# Downloads for the Galaxy Zoo sources (config/galaxy_zoo.yaml): resumable, md5-checked,
# atomic, into the source's `resources` folder. Offline, place the files by hand where the
# error message says and re-run.


include: "helpers/download.smk"


rule download_gz2:
    output:
        "{res}/gz2/{name}",
    log:
        logs("gz2_{name}", "download/{res}"),
    benchmark:
        benchmarks("gz2_{name}", "download/{res}")
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
        url=lambda w: zenodo_url(w.name),
        md5=lambda w: GZ2_FILES.get(w.name),
        check="auto",
        limits=config["downloads"],
    script:
        "../scripts/download_file.py"


rule download_hart16:
    output:
        "{res}/gz2/gz2_hart16.csv.gz",
    log:
        logs("gz2_hart16", "download/{res}"),
    benchmark:
        benchmarks("gz2_hart16", "download/{res}")
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
        logs("extract_gz2", "download/{res}"),
    benchmark:
        benchmarks("extract_gz2", "download/{res}")
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
        logs("kaggle", "download/{res}"),
    benchmark:
        benchmarks("kaggle", "download/{res}")
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        downloads=1,
    script:
        "../scripts/download_kaggle.py"
