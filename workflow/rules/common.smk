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
                "oracle", {"fraction_column": "odd_fraction", "batch": 10, "budget": 200}
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
    return lambda w: [f"{BENCH}/simulation/{w.preset}/seed{s}/{name}.tsv" for s in SEEDS]


def simulation_targets():
    out = []
    for p in sim_presets():
        base = f"{RESULTS}/simulation/{p}"
        out += [f"{base}/metrics.csv", f"{base}/rounds.csv", f"{base}/timing.md"]
        for f in ["fig1_tsne_heatmap", "fig6_examples", "fig7_incremental", "fig8_rws", "fig9_recall"]:
            out += [f"{base}/figures/{f}.png", f"{base}/figures/{f}.pdf"]
    if out:
        out.append(f"{RESULTS}/simulation/reproduction.md")
    return out
