# Shared helpers: paths, seeds, per-dataset settings, and the list of default targets.
import os

RESULTS = "results"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
SEEDS = [int(s) for s in config["seeds"]]


# Dataset directories are paths below results/ such as "simulation/paper/seed1".
wildcard_constraints:
    preset="[A-Za-z0-9_.-]+",
    seed=r"\d+",


# Rule files append what `rule all` should build to this list (see Snakefile).
TARGETS = []


def all_targets():
    return TARGETS


def sim_cfg():
    return config["simulation"]


def sim_presets():
    return list(sim_cfg()["presets"]) if sim_cfg().get("enabled", True) else []


def sim_dir(preset, seed):
    return f"{RESULTS}/simulation/{preset}/seed{seed}"


def dataset_settings(dataset):
    """Detector and oracle settings for a dataset directory below results/."""
    if dataset.startswith("simulation/"):
        return {
            "detector": sim_cfg()["detector"],
            "oracle": sim_cfg()["oracle"],
            "seed": int(dataset.rsplit("seed", 1)[1]),
        }
    if dataset.startswith("galaxies/"):
        g = config.get("galaxies", {})
        return {
            "detector": g.get("detector", {"name": "iforest", "n_estimators": 100}),
            "oracle": g.get(
                "oracle",
                {"fraction_column": "odd_fraction", "batch": 10, "budget": 200},
            ),
            "seed": SEEDS[0],
        }
    raise ValueError(f"no settings for dataset {dataset!r}")


def al_cfg():
    return config.get("active_learning", {})


# --- simulation helpers (used by rules/figures.smk) ---


def sim_seed_files(name):
    return lambda w: [f"{sim_dir(w.preset, s)}/{name}" for s in SEEDS]


def sim_figure(name, caption):
    """PNG (in the report) and PDF outputs of a simulation figure."""
    return {
        "png": report(
            f"{RESULTS}/simulation/{{preset}}/figures/{name}.png",
            caption=f"../report/{caption}.rst",
            category="Simulation",
            subcategory="{preset}",
            labels={"preset": "{preset}", "figure": name},
        ),
        "pdf": f"{RESULTS}/simulation/{{preset}}/figures/{name}.pdf",
    }


def sim_bench_files(name):
    return lambda w: [
        f"{BENCH}/simulation/{w.preset}/seed{s}/{name}.tsv" for s in SEEDS
    ]


def simulation_targets():
    out = []
    for p in sim_presets():
        base = f"{RESULTS}/simulation/{p}"
        out += [f"{base}/metrics.csv", f"{base}/rounds.csv", f"{base}/timing.md"]
        for f in [
            "fig1_tsne_heatmap",
            "fig6_examples",
            "fig7_incremental",
            "fig8_rws",
            "fig9_recall",
        ]:
            out += [f"{base}/figures/{f}.png", f"{base}/figures/{f}.pdf"]
    if out:
        out.append(f"{RESULTS}/simulation/reproduction.md")
    return out


# --- helpers for rules/galaxies.smk ---


def gal_cfg():
    return config.get("galaxies", {})


def gal_enabled():
    return gal_cfg().get("enabled", False)


def gal_source():
    return gal_cfg().get("source", "synthetic")


def gal_dir(source=None):
    return f"{RESULTS}/galaxies/{source or gal_source()}"


def manifest_inputs(w):
    if w.source == "synthetic":
        return {"catalogue": f"{RESULTS}/galaxies/synthetic/catalogue.parquet"}
    if w.source == "galaxy_zoo":
        return {
            "images": f"{GZ_RES}/gz2/images",
            "mapping": f"{GZ_RES}/gz2/gz2_filename_mapping.csv",
            "labels": f"{GZ_RES}/gz2/gz2_hart16.csv.gz",
        }
    if w.source == "kaggle":
        return {
            "images": f"{GZ_RES}/kaggle/images_training_rev1",
            "solutions": f"{GZ_RES}/kaggle/training_solutions_rev1.csv",
        }
    return {}


# --- helpers for rules/download.smk ---


def gz2_md5(name):
    from astroanom.sources.galaxy_zoo import GZ2_FILES

    return GZ2_FILES.get(name)


# --- helpers for rules/features.smk ---


def gal_shard_list(source):
    """Shard files of a source; the count comes from the manifest checkpoint."""
    import pandas as pd

    manifest = checkpoints.galaxies_manifest.get(source=source).output.manifest
    n = len(pd.read_parquet(manifest, columns=["id"]))
    size = int(gal_cfg().get("shard_size", 1000))
    return [
        f"{RESULTS}/galaxies/{source}/shards/shard{k:05d}.parquet"
        for k in range(max(1, -(-n // size)))
    ]


def gal_shard_files(w):
    return gal_shard_list(w.source)


# --- helpers for rules/figures.smk ---


def gal_figure(name, caption):
    """PNG (in the report) and PDF outputs of a galaxy figure."""
    return {
        "png": report(
            f"{RESULTS}/galaxies/{{source}}/figures/{name}.png",
            caption=f"../report/{caption}.rst",
            category="Galaxies",
            subcategory="{source}",
            labels={"source": "{source}", "figure": name},
        ),
        "pdf": f"{RESULTS}/galaxies/{{source}}/figures/{name}.pdf",
    }


def gal_timing_bench(w):
    shards = gal_shard_list(w.source)
    b = f"{BENCH}/galaxies/{w.source}"
    return {
        "feature extraction": [
            s.replace(f"{RESULTS}/galaxies/", f"{BENCH}/galaxies/").replace(
                ".parquet", ".tsv"
            )
            for s in shards
        ],
        "anomaly detection": [f"{b}/detect.tsv"],
        "active learning": [f"{b}/active_learning.tsv"],
        "visualisation (t-SNE)": [f"{b}/embedding.tsv"],
    }


def galaxy_targets():
    if not gal_enabled():
        return []
    d = gal_dir()
    return [
        f"{d}/figures/fig4_grids.png",
        f"{d}/figures/fig5_recall_rws.png",
        f"{d}/figures/tsne.png",
        f"{d}/anomalies_first_n.csv",
        f"{d}/timing.csv",
        f"{d}/summary.json",
    ]


# --- helpers for rules/benchmark.smk ---


def bench_cfg():
    return config.get("benchmark", {})


def bench_seeds():
    return [int(s) for s in bench_cfg().get("seeds", SEEDS[:3])]


def bench_datasets():
    return {
        k: v
        for k, v in bench_cfg().get("datasets", {}).items()
        if v.get("enabled", True)
    }


def bench_detectors():
    return dict(bench_cfg().get("detectors", {}))


def bench_strategies():
    """Configured strategies; an optional one whose package is missing is skipped, loudly."""
    out = {}
    for label, entry in bench_cfg().get("strategies", {}).items():
        name = entry.get("name", label)
        if entry.get("optional", False) and not strategy_installed(name):
            logging.getLogger("astroanom.pipeline.benchmark").warning(
                "benchmark: skipping strategy %r: optional package %r is not installed "
                "(pip install 'astroanom[%s]')",
                label,
                OPTIONAL[name],
                OPTIONAL[name],
            )
            continue
        out[label] = entry
    return out


def bench_dataset_dir(bset, seed):
    """results/<dir> of a benchmark dataset for a seed ({seed} in `dir` is filled in)."""
    sub = bench_datasets()[bset]["dir"].format(seed=seed)
    return f"{RESULTS}/{sub}"


def bench_cells():
    return [
        (b, d, s, seed)
        for b in bench_datasets()
        for d in bench_detectors()
        for s in bench_strategies()
        for seed in bench_seeds()
    ]


# --- human labels (labeller) ---
# Human labels from the browser labeller (`astroanom label results/<dataset>`) flow back into
# the DAG: a dataset whose oracle has `mode: human` retrains on the label file named by the
# `labels` config section instead of simulated labels. Only that file is an extra input of
# `active_learning`, so editing it reruns active learning and what depends on it, nothing else.


def labels_cfg():
    return config.get("labels", {})


def human_mode(dataset):
    """Whether the dataset's oracle is a human (labels from the labeller's file)."""
    return dataset_settings(dataset)["oracle"].get("mode", "simulated") == "human"


def labels_file(dataset):
    """The label file of the configured user for a dataset below results/."""
    template = labels_cfg().get("path", "labels/{dataset}/{user}.csv")
    return template.format(dataset=dataset, user=labels_cfg().get("user", "default"))


def human_labels(wildcards):
    """Input function of active_learning: the label file in human mode once it exists.

    Before the first label there is no file; active learning then keeps S (and says so in its
    log). Creating or changing the file reruns it.
    """
    if human_mode(wildcards.dataset):
        path = labels_file(wildcards.dataset)
        if os.path.exists(path):
            return [path]
    return []


def human_labels_param(wildcards):
    """The label file the active_learning step reads in human mode (None otherwise)."""
    return labels_file(wildcards.dataset) if human_mode(wildcards.dataset) else None
