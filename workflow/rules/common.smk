# Shared accessors and path helpers. Everything the workflow does, it does to a dataset *run*:
# results/<name>/ (or results/<name>/seed<N>/ for each seed of a dataset with replicate: true).
import os

from astroanom import config as acfg
from astroanom.store.labels import labels_path

RESULTS = "results"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
ENV = "../envs/astroanom.yaml"


wildcard_constraints:
    run=r"[A-Za-z0-9][A-Za-z0-9_.-]*(/seed\d+)?",
    dataset=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    shard=r"\d+",


def runs_of(name):
    """Run paths (below results/) of one dataset."""
    return [r.path for r in acfg.runs(config, name)]


def first_run(name):
    return runs_of(name)[0]


def run_of(wildcards):
    """The acfg.Run of a {run} wildcard."""
    return acfg.parse_run(config, wildcards.run)


def ds(wildcards):
    """The validated config entry of the dataset of a {run} or {dataset} wildcard."""
    name = (
        wildcards.dataset if "dataset" in wildcards.keys() else run_of(wildcards).name
    )
    return acfg.dataset(config, name)


def run_seed(wildcards):
    return run_of(wildcards).seed


def has_truth(name):
    return "truth" in acfg.dataset(config, name)


def simulated(name):
    return acfg.dataset(config, name)["oracle"]["mode"] == "simulated"


def datasets_of(experiment):
    return [n for n, d in config["datasets"].items() if d["experiment"] == experiment]


def labels_file(run):
    """The configured user's label file of a run (labels/<run>/<user>.csv)."""
    lab = config["labels"]
    return str(labels_path(run, lab["user"], lab["path"]))


def run_file(name):
    """Input function: results/<run>/<name> of the {run} wildcard."""
    return lambda w: f"{RESULTS}/{w.run}/{name}"


def figure(path, caption, category, subcategory="{run}", **labels):
    """PNG (shown in the report) and PDF outputs of a figure below results/."""
    return {
        "png": report(
            f"{RESULTS}/{path}.png",
            caption=f"../report/{caption}.rst",
            category=category,
            subcategory=subcategory,
            labels={"figure": path.rsplit("/", 1)[-1], **labels},
        ),
        "pdf": f"{RESULTS}/{path}.pdf",
    }
