# Helpers of rules/active.smk (input functions, parameters, names).
import re


def human_labels(wildcards):
    """Input of active_retrain in human mode: every selected user's label file of the run
    (labels/<run>/<user>.csv; labels.users, labels.exclude_users). Before the first label
    there is none and S^ = S; a new user's file, or a changed one, reruns only what depends
    on the labels."""
    if ds(wildcards)["oracle"]["mode"] == "human":
        return retrain_label_files(wildcards.run)
    return []


def retrain_labels_params(wildcards):
    """The labels settings a human-oracle retrain depends on (changing one reruns it; a
    simulated oracle depends on none, nor does anyone on labels.user)."""
    if ds(wildcards)["oracle"]["mode"] != "human":
        return {}
    keys = ("combine", "users", "exclude_users", "dispute_spread")
    return {k: config["labels"][k] for k in keys}


def truth_input(wildcards):
    return [rd(wildcards).truth] if "truth" in ds(wildcards) else []


def known_input(wildcards):
    """The dataset's known-examples CSV (`known.path`) when it gives one: a change reruns the
    retrain and the loop (inline `known.ids` are a parameter, so a change reruns them too).
    """
    from astroanom.sources.paths import data_path

    path = (ds(wildcards).get("known") or {}).get("path")
    return [str(data_path(path))] if path else []


def class_truth(name):
    """Whether dataset `name` has class truth (per-class tables: the active_simulated_classes job;
    the same test as `incremental` of helpers/all.smk for a simulated oracle)."""
    kind = acfg.dataset(config, name).get("truth", {}).get("kind")
    return kind in ("class", "category")


def oracle_runs_regex(mode, classes=None):
    """Wildcard constraint matching exactly the runs of datasets whose oracle is `mode`
    ("human" or "simulated"); with classes=True / False, only those with / without class
    truth."""
    paths = [
        r.path
        for name in config["datasets"]
        for r in acfg.runs(config, name)
        if acfg.dataset(config, name)["oracle"]["mode"] == mode
        and (classes is None or class_truth(name) == classes)
    ]
    return "(?:" + "|".join(re.escape(p) for p in paths) + ")"


def step_benchmarks(*steps):
    """Outputs: the benchmark file each step of a several-step job writes itself
    (RunDir.step_benchmark, timing.timed_step), keyed bench_<step>."""
    return {f"bench_{s}": RUN.step_benchmark(s) for s in steps}


def simulated_outputs(classes):
    """Outputs of the rules active_simulated and (classes=True) active_simulated_classes:
    the retrain's (as active_retrain's), the loop's rounds, the first-N metrics (as
    evaluate_first_n's), each step's own benchmark; with classes, the class tables."""
    out = {
        "active": RUN.active,
        "labels_used": RUN.labels_used,
        "state": RUN.bundle_relevance,
        "rounds": RUN.rounds,
        "curves": RUN.recall_curves,
        "first_n": report(
            RUN.first_n,
            caption="../report/gal_first_n.rst",
            category="Evaluation",
            subcategory="{run}",
            labels={"dataset": "{run}", "table": "anomalies in first N"},
        ),
    }
    steps = ["active_retrain", "active_incremental", "evaluate_first_n"]
    if classes:
        out |= {
            "class_metrics": RUN.class_metrics,
            "class_rounds": RUN.class_rounds,
            "class_curves": RUN.class_curves,
        }
        steps.append("evaluate_classes")
    return out | step_benchmarks(*steps)


def simulated_params(classes):
    """Params of the rules active_simulated and (classes=True) active_simulated_classes:
    those of the retrain, the loop and the first-N metrics; with classes the per-class
    tables' too."""
    out = {
        "oracle": lambda w: ds(w)["oracle"],
        "strategy": lambda w: ds(w)["strategy"],
        "shared": config["active_learning"],
        "truth_spec": lambda w: ds(w)["truth"],
        "labels": retrain_labels_params,
        "dataset": lambda w: w.run,
        "known": lambda w: ds(w)["known"],
        "seed": run_seed,
        # intermediate rounds keep their top 1000 (>= Fig. 7's top N): rounds.parquet ~2 n
        # floats
        "keep_top": lambda w: max(1000, int(ds(w)["metrics"]["fig7_n"])),
        "detector": lambda w: ds(w)["detector"]["name"],
        "max_n": lambda w: ds(w)["figures"]["recall_max_n"],
        "first_n": lambda w: ds(w)["figures"]["first_n"],
    }
    if classes:
        out |= {
            "class_ids": lambda w: ds(w)["truth"]["anomaly_classes"],
            "ns": lambda w: ds(w)["metrics"]["rws_table_n"],
            "top": lambda w: ds(w)["metrics"]["fig7_n"],
            "curve_max_n": lambda w: ds(w)["metrics"]["curve_max_n"],
        }
    return out
