# Helpers of rules/detect.smk: which runs keep the fitted detector for their bundle.
import re


def first_run_paths():
    """Run paths (below results/) of every dataset's first run: the runs with a bundle."""
    return [runs_of(name)[0] for name in config["datasets"]]


def first_runs_regex():
    """Wildcard constraint matching exactly the first runs."""
    return "(?:" + "|".join(re.escape(p) for p in first_run_paths()) + ")"


def other_runs_regex():
    """Wildcard constraint matching every run but the first ones (the other seeds)."""
    first = "|".join(re.escape(p) for p in first_run_paths())
    return rf"(?!(?:{first})/)[A-Za-z0-9][A-Za-z0-9_.-]*(/seed\d+)?"
