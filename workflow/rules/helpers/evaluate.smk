# Helpers of rules/evaluate.smk (input functions, parameters, names).
import re


def human_runs_regex():
    """Wildcard constraint matching exactly the runs of datasets with a human oracle (their
    first-N metrics come from the evaluate_first_n job; a simulated run's are made in its
    active-learning job, rules/active.smk)."""
    paths = [
        r.path
        for name in config["datasets"]
        for r in acfg.runs(config, name)
        if not simulated(name)
    ]
    return "(?:" + "|".join(re.escape(p) for p in paths) + ")"
