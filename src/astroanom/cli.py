"""The ``astroanom`` command line: ``astroanom <command> ...``.

Subcommands are registered in :data:`COMMANDS`; each adds its arguments to a subparser and
returns the function that runs it: ``check``, ``label`` (the browser labeller), ``export``
and ``score`` (new objects with a run's bundle).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from astroanom import __version__
from astroanom.errors import AstroanomError
from astroanom.pipeline.summary import DEFAULT_CONFIG

log = logging.getLogger("astroanom.cli")
Runner = Callable[[argparse.Namespace], int]


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--configfile",
        type=Path,
        nargs="+",
        default=None,
        metavar="FILE",
        help=(
            "the workflow config file(s), merged in order as `snakemake --configfile` does "
            f"(default: {DEFAULT_CONFIG}, as the workflow's default profile)"
        ),
    )


def load_config(files: Sequence[Path] | None) -> dict[str, Any]:
    """The validated workflow config, exactly as the Snakefile sees it (defaults filled in)."""
    from astroanom import config as acfg

    return acfg.load(files or [DEFAULT_CONFIG])


def _add_label(sub: argparse._SubParsersAction) -> Runner:
    p = sub.add_parser(
        "label",
        help="label a dataset's objects 0-5 in the browser and retrain (the local labeller)",
        description=(
            "Serve the labeller for one dataset of the workflow config on this machine and "
            "print its URL. Labels go to labels/<dataset>/<user>.csv (labels.path); the next "
            "`snakemake` run retrains on them when the dataset's oracle has mode: human "
            "(the default)."
        ),
    )
    p.add_argument(
        "dataset", help="a dataset name of the config (or name/seedN for one seed's run)"
    )
    _add_config(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument(
        "--user", default=None, help="whose label set to use (default: labels.user of the config)"
    )
    p.add_argument(
        "--show-truth",
        action="store_true",
        help="show the dataset's truth columns beside each object (hidden by default, so they "
        "cannot bias your labels)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="threads for retraining and the map (default: up to 4 of this machine's cores)",
    )
    p.add_argument(
        "--exact-first",
        type=int,
        default=1000,
        help="objects at the top of the new order a retrain ranks for certain before it answers; "
        "the rest of the order is ranked in the background (default 1000)",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        help="browse the objects and your labels without labelling (for a labels folder that "
        "is not writable)",
    )
    return _run_label


def resolve_run(cfg: dict[str, Any], dataset: str) -> Any:
    """The run of ``dataset`` (a name: its first run; or ``name/seedN``)."""
    from astroanom import config as acfg

    if "/" in dataset:
        return acfg.parse_run(cfg, dataset)
    return acfg.runs(cfg, dataset)[0]


def _run_label(args: argparse.Namespace) -> int:
    from astroanom import config as acfg
    from astroanom.active.known import read_known
    from astroanom.labeller import LabellerSettings, start
    from astroanom.pipeline.summary import configfile_option
    from astroanom.store.dataset import DatasetInfo
    from astroanom.store.rundir import check_user, run_dir

    if not 0 <= args.port <= 65535:
        raise AstroanomError(f"--port must be 0..65535, got {args.port}")
    if args.exact_first < 1:
        raise AstroanomError(f"--exact-first must be at least 1, got {args.exact_first}")
    cfg = load_config(args.configfile)
    run = resolve_run(cfg, args.dataset)
    entry = acfg.dataset(cfg, run.name)
    rd = run_dir(cfg, run.path)
    again = f"`snakemake --cores all{configfile_option(args.configfile)}`"
    if not Path(rd.dataset_json).is_file():
        raise AstroanomError(f"{rd.dir} has no results yet: run {again} first")
    user = check_user(args.user or cfg["labels"]["user"])
    path = rd.label_file(user)
    settings = LabellerSettings(
        alpha=float(cfg["active_learning"]["alpha"]),
        n_estimators=int(cfg["active_learning"]["n_estimators"]),
        seed=run.seed,
        strategy=dict(entry["strategy"]),
        threads=max(1, args.threads),
        show_truth=args.show_truth,
        embedding_max=int(entry["embedding"]["n_objects"]),
        exact_first=args.exact_first,
        read_only=args.read_only,
        known=read_known(entry.get("known")),
    )
    info = DatasetInfo.read(rd.dir)
    running = start(
        rd.dir, path, user, host=args.host, port=args.port, settings=settings, background=False
    )
    print(
        f"astroanom labeller: {run.path} ({running.data.n:,} {info.objects_word}), user {user}",
        flush=True,
    )
    print(f"labels: {path} (log: {running.data.store.log_path})", flush=True)
    if args.read_only:
        print("read-only: browsing without labelling (labels are not written)", flush=True)
    if entry["oracle"]["mode"] != "human":
        print(
            f"note: datasets.{run.name}.oracle.mode is {entry['oracle']['mode']!r}, so the "
            "workflow will not retrain on these labels; set it to human to use them",
            flush=True,
        )
    print(f"Open {running.url} in your browser. Press Ctrl-C to stop.", flush=True)
    try:
        running.server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
        if entry["oracle"]["mode"] == "human":
            print(f"retrain on your labels: run {again}", flush=True)
    finally:
        running.server.server_close()
    return 0


def _add_export(sub: argparse._SubParsersAction) -> Runner:
    p = sub.add_parser(
        "export",
        help="write a dataset's anomaly catalogue (CSV, FITS table, VOTable, HTML page)",
        description=(
            "Collect the objects your users labelled relevant (label >= threshold) and the top "
            "objects by the retrained score S^ of one dataset, with S, S^, rank, label, user, "
            "time and RA/Dec where known, into anomalies.csv, anomalies.fits, anomalies.vot "
            "(VOTable with units and UCDs) and anomalies.html (cutouts or plots embedded; no "
            "outside requests). With a catalogue (--crossmatch or export.crossmatch), objects "
            "within the radius of one of its entries are marked known, with its name."
        ),
    )
    p.add_argument("dataset", help="a dataset name of the config (or name/seedN)")
    _add_config(p)
    p.add_argument(
        "--threshold",
        type=int,
        default=None,
        help="lowest relevant label 0..5 (default: export.threshold)",
    )
    p.add_argument(
        "--top",
        type=int,
        default=None,
        help="how many of the top by S^ to add (default: export.top_n)",
    )
    p.add_argument(
        "--user", nargs="+", default=None, help="only these users' labels (default: every user's)"
    )
    p.add_argument(
        "--out", type=Path, default=None, help="output folder (default: results/<dataset>/export)"
    )
    p.add_argument(
        "--retrain",
        action="store_true",
        help="when the labels are newer than the ranking (a user labelled since the last "
        "retrain), retrain on every user's labels first (as the workflow's active_retrain "
        "does; the next snakemake redraws the figures)",
    )
    p.add_argument("--threads", type=int, default=1, help="threads for --retrain (default 1)")
    p.add_argument(
        "--stretch",
        choices=("asinh", "linear", "sqrt", "log", "zscale"),
        default=None,
        help="image thumbnails' stretch (default: export.stretch)",
    )
    _add_crossmatch(p)
    return _run_export


def _add_crossmatch(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--crossmatch",
        type=Path,
        default=None,
        metavar="CATALOGUE",
        help="a CSV, FITS or VOTable catalogue (RA/Dec in degrees, a name per row) to mark known "
        "objects in (default: export.crossmatch.path of the dataset, if set)",
    )
    p.add_argument(
        "--radius",
        type=float,
        default=None,
        metavar="ARCSEC",
        help="cross-match radius in arcsec (default: export.crossmatch.radius_arcsec, else 2)",
    )
    p.add_argument(
        "--catalogue-columns",
        nargs=3,
        default=None,
        metavar=("RA", "DEC", "NAME"),
        help="the catalogue's RA, Dec and name columns (default: export.crossmatch's, else "
        "ra dec name)",
    )


def crossmatch_settings(args: argparse.Namespace, entry: dict[str, Any]) -> dict[str, Any] | None:
    """The cross-match of a command: the dataset's ``export.crossmatch`` with the options given
    on the command line on top (None: no catalogue)."""
    xm = dict(entry["export"].get("crossmatch") or {})
    if args.crossmatch is not None:
        xm["path"] = str(args.crossmatch)
    if not xm.get("path"):
        if args.radius is not None or args.catalogue_columns:
            raise AstroanomError("--radius and --catalogue-columns need a --crossmatch catalogue")
        return None
    if args.radius is not None:
        xm["radius_arcsec"] = args.radius
    if args.catalogue_columns:
        xm["ra"], xm["dec"], xm["name"] = args.catalogue_columns
    return xm


def _run_export(args: argparse.Namespace) -> int:
    from astroanom import config as acfg
    from astroanom.export import export_anomalies
    from astroanom.pipeline.export import thumbnail_display
    from astroanom.store.rundir import run_dir

    cfg = load_config(args.configfile)
    run = resolve_run(cfg, args.dataset)
    entry = acfg.dataset(cfg, run.name)
    rd = run_dir(cfg, run.path)
    if args.user:
        files = [rd.label_file(u) for u in args.user]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise AstroanomError(f"no label file {', '.join(missing)}: that user has not labelled")
    else:
        files = rd.label_files()
    threshold = entry["export"]["threshold"] if args.threshold is None else args.threshold
    top = entry["export"]["top_n"] if args.top is None else args.top
    out = args.out or Path(rd.export_dir)
    if entry["oracle"]["mode"] == "human":
        _check_ranking_fresh(cfg, run, entry, rd, args)
    res = export_anomalies(
        rd.dir,
        files,
        out,
        threshold=threshold,
        top_n=top,
        title=f"Anomalies of {run.path}",
        crossmatch=crossmatch_settings(args, entry),
        display=thumbnail_display(args.stretch or entry["export"]["stretch"]),
    )
    print(f"{res.n_objects} objects ({res.n_rows} rows) from {len(files)} label file(s):")
    if res.n_known is not None:
        print(f"  {res.n_known} of them known in the cross-match catalogue")
    for path in (res.csv, res.fits, res.votable, res.html):
        print(f"  {path}")
    return 0


def _check_ranking_fresh(
    cfg: dict[str, Any], run: Any, entry: dict[str, Any], rd: Any, args: argparse.Namespace
) -> None:
    """Say on stderr when the users' labels are newer than the ranking S^ (what the last
    retrain read, ``labels_used.json``, against the label files now); with ``--retrain``
    retrain first (:func:`astroanom.pipeline.active.retrain_step`)."""
    from astroanom.pipeline.summary import configfile_option
    from astroanom.store.users import read_record, select_label_files, stale_reasons

    lab = cfg["labels"]
    files = select_label_files(rd.label_files(), lab["users"], lab["exclude_users"])
    reasons = stale_reasons(read_record(rd.labels_used), files)
    if not reasons:
        return
    shown = "\n".join(f"  {r}" for r in reasons)
    if not args.retrain:
        print(
            f"astroanom export: warning: the ranking S^ in {rd.active} is older than the "
            f"labels:\n{shown}\nS^ and the top by S^ below do not hold these labels yet: "
            f"rerun with --retrain, or run `snakemake --cores all"
            f"{configfile_option(args.configfile)}` first",
            file=sys.stderr,
            flush=True,
        )
        return
    from astroanom.pipeline.active import retrain_step
    from astroanom.runtime import limit_threads

    if not Path(rd.features).is_file() or not Path(rd.scores).is_file():
        raise AstroanomError(f"{rd.dir} has no features or scores yet: run snakemake first")
    print(f"astroanom export: labels newer than the ranking:\n{shown}\nretraining ...", flush=True)
    retrain_step(
        features=rd.features,
        scores=rd.scores,
        active=rd.active,
        oracle=entry["oracle"],
        strategy=entry["strategy"],
        shared=cfg["active_learning"],
        seed=run.seed,
        threads=limit_threads(args.threads),
        label_files=files,
        dataset=run.path,
        labels_cfg=lab,
        labels_used=rd.labels_used,
        known=entry.get("known"),
    )
    record = read_record(rd.labels_used) or {}
    who = ", ".join(f"{u['user']} ({u['n_labels']})" for u in record.get("users", []))
    print(
        f"retrained on the labels of {who or 'nobody'}, combined by {record.get('combine')}; "
        f"{record.get('n_disputed', 0)} disputed object(s) ({rd.labels_used})",
        flush=True,
    )


def _add_send(sub: argparse._SubParsersAction) -> Runner:
    p = sub.add_parser(
        "send",
        help="send a dataset's top objects (or chosen ids) to TOPCAT or Aladin over SAMP",
        description=(
            "Write the top N objects by S^ (or the objects given by --ids) of one dataset as a "
            "VOTable (id, RA/Dec, S, U, d, S^, rank; known/known_name with export.crossmatch) "
            "and broadcast it (table.load.votable) through the running SAMP hub; one object "
            "with RA/Dec is also pointed at (coord.pointAt.sky). Start TOPCAT or Aladin first "
            "(or astropy's `samp_hub --no-web-profile`)."
        ),
    )
    p.add_argument("dataset", help="a dataset name of the config (or name/seedN)")
    _add_config(p)
    pick = p.add_mutually_exclusive_group()
    pick.add_argument(
        "--top", type=int, default=None, help="how many of the top by S^ (default: export.top_n)"
    )
    pick.add_argument("--ids", nargs="+", default=None, help="these objects, in this order")
    p.add_argument(
        "--hub",
        type=Path,
        default=None,
        metavar="LOCKFILE",
        help="the hub's lockfile (default: $SAMP_HUB, else ~/.samp, as every SAMP tool)",
    )
    p.add_argument(
        "--no-point", action="store_true", help="do not point the viewers at a single object"
    )
    return _run_send


def _run_send(args: argparse.Namespace) -> int:
    from astroanom import config as acfg
    from astroanom.export import score_table
    from astroanom.store.rundir import run_dir
    from astroanom.vo.crossmatch import crossmatch_rows
    from astroanom.vo.samp import select_rows, send_rows

    cfg = load_config(args.configfile)
    run = resolve_run(cfg, args.dataset)
    entry = acfg.dataset(cfg, run.name)
    rd = run_dir(cfg, run.path)
    top = entry["export"]["top_n"] if args.top is None and not args.ids else args.top
    rows = select_rows(score_table(rd.dir), top=top, ids=args.ids)
    xm = entry["export"].get("crossmatch")
    if xm and {"ra", "dec"} <= set(rows.columns):
        rows = crossmatch_rows(rows, xm, source=f"datasets.{run.name}.export.crossmatch")
    name = f"astroanom {run.path}: " + (f"top {top}" if args.ids is None else f"{len(rows)} ids")
    sent = send_rows(
        rows,
        Path(rd.export_dir) / "samp",
        name,
        meta={"dataset": run.path},
        lockfile=args.hub,
        point=not args.no_point,
    )
    for s in sent:
        to = ", ".join(s.recipients) if s.recipients else "nobody"
        print(f"{s.mtype}: {s.detail} -> {to}")
    return 0


def _add_check(sub: argparse._SubParsersAction) -> Runner:
    p = sub.add_parser(
        "check",
        help="validate config files as the workflow does and list the datasets they define",
        description=(
            "Read the config files in order (as `snakemake --configfile a b`), name the file, "
            "line and column of a YAML syntax error (Snakemake's own message does not), check "
            "every key against config/schema.yaml, and list each dataset's runs, results and "
            "label files."
        ),
    )
    _add_config(p)
    return _run_check


def _run_check(args: argparse.Namespace) -> int:
    from astroanom import config as acfg
    from astroanom.store.rundir import run_dirs

    cfg = load_config(args.configfile)
    files = ", ".join(map(str, args.configfile or [DEFAULT_CONFIG]))
    missing = missing_inputs(cfg)
    if missing:
        raise AstroanomError(
            f"{files}: {len(missing)} input path(s) do not exist (relative paths are read from "
            f"{Path.cwd()}, where snakemake runs):\n" + "\n".join(f"  {m}" for m in missing)
        )
    bad_known = known_problems(cfg)
    if bad_known:
        raise AstroanomError(f"{files}: known examples:\n" + "\n".join(f"  {m}" for m in bad_known))
    print(f"{files}: valid; {len(cfg['datasets'])} dataset(s)")
    for line in missing_packages(cfg):
        print(f"  warning: {line}")
    for name, entry in cfg["datasets"].items():
        truth = "truth" if "truth" in entry else "no truth"
        print(
            f"  {name}: source {entry['source']['kind']}, features {entry['features']['kind']}, "
            f"detector {entry['detector']['name']}, {truth}, oracle {entry['oracle']['mode']}"
        )
        runs = zip(acfg.runs(cfg, name), run_dirs(cfg, name), strict=True)
        for i, (run, rd) in enumerate(runs):
            state = rd.state(first=i == 0, truth="truth" in entry)
            users = [p.name.removesuffix(".csv") for p in rd.label_files()]
            lab = rd.label_file(cfg["labels"]["user"]).parent
            who = f"users {', '.join(users)}" if users else "none yet"
            print(f"    {rd.root}/ ({state}, seed {run.seed}); labels: {lab}/ ({who})")
    return 0


def missing_inputs(cfg: dict[str, Any]) -> list[str]:
    """``datasets.<name>.<key>: <path> does not exist`` for every input file or folder of the
    config that is not there: a source's ``path``, a mosaic's ``images`` and ``catalogue``, a
    truth ``table``, a features table's ``path`` (``embeddings``) and a ``psf`` image
    (``morphology``), also as ``combine`` parts. (Downloads the workflow makes, e.g. Galaxy Zoo's, are not inputs.)"""
    from astroanom.sources.paths import data_path

    out = []
    for name, entry in cfg["datasets"].items():
        src = entry["source"]
        paths: list[tuple[str, Any]] = [("source.path", src.get("path"))]
        paths.append(("source.catalogue", src.get("catalogue")))
        images = src.get("images")
        for band, files in images.items() if isinstance(images, dict) else ():
            for j, f in enumerate([files] if isinstance(files, str) else files):
                key = f"source.images.{band}" + ("" if isinstance(files, str) else f"[{j}]")
                paths.append((key, f))
        paths.append(("truth.table", (entry.get("truth") or {}).get("table")))
        paths.append(
            (
                "export.crossmatch.path",
                ((entry.get("export") or {}).get("crossmatch") or {}).get("path"),
            )
        )
        feats = entry.get("features") or {}
        paths.append(("features.path", feats.get("path")))  # e.g. embeddings' table
        paths.append(("known.path", (entry.get("known") or {}).get("path")))
        paths.append(("features.psf", feats.get("psf")))  # morphology's PSF image
        for k, part in enumerate(feats.get("extractors") or []):
            if isinstance(part, dict):
                paths.append((f"features.extractors[{k}].path", part.get("path")))
                paths.append((f"features.extractors[{k}].psf", part.get("psf")))
        for key, value in paths:
            if not isinstance(value, str):
                continue
            try:
                exists = data_path(value).exists()
            except AstroanomError as err:
                out.append(f"datasets.{name}.{key}: {err}")
                continue
            if not exists:
                out.append(f"datasets.{name}.{key}: {value} does not exist")
    return out


def known_problems(cfg: dict[str, Any]) -> list[str]:
    """``datasets.<name>.known: <why>`` for every dataset whose known examples cannot be read,
    or (once a run has its feature table) name ids that are not objects of the run."""
    import pandas as pd

    from astroanom.active.known import known_rows, read_known
    from astroanom.store.rundir import run_dirs

    out = []
    for name, entry in cfg["datasets"].items():
        try:
            known = read_known(entry.get("known"))
            if not known:
                continue
            for rd in run_dirs(cfg, name):
                if Path(rd.features).is_file():
                    ids = pd.read_parquet(rd.features, columns=["id"])["id"].to_numpy()
                    known_rows(known, ids)
        except AstroanomError as err:
            out.append(f"datasets.{name}.known: {err}")
    return out


def missing_packages(cfg: dict[str, Any]) -> list[str]:
    """``<where>: <kind> <name> needs the optional package ...; pip install ...`` for every
    built-in plug-in of the config whose optional package is not installed here (a strategy
    marked ``optional`` is skipped by the workflow, so it is not listed)."""
    from astroanom import plugins
    from astroanom.config import _plugin_entries

    out = []
    for where, kind, _, entry in _plugin_entries(cfg):
        name = str(entry["name" if kind in ("detector", "strategy") else "kind"])
        pkg = plugins.OPTIONAL.get((kind, name))
        if pkg and not entry.get("optional") and not plugins.installed(kind, name):
            out.append(
                f"{where}: {kind} {name!r} needs the optional package {pkg!r}, not installed "
                f"here: {plugins.install_hint(pkg)}"
            )
    return out


def _add_score(sub: argparse._SubParsersAction) -> Runner:
    p = sub.add_parser(
        "score",
        help="rank new objects (tonight's cutouts, a new table) with a run's saved model",
        description=(
            "Read a new batch of objects with the dataset's source (its path replaced by the "
            "batch), compute their features as the run did, and score them with the run's "
            "bundle (results/<dataset>/bundle.zip: scaling, detector, relevance model) without "
            "refitting. Writes results/<dataset>/scored/<batch>/ (ranked.csv by S^ with S, U, "
            "d; export/; scores and features) in one rename. Refuses a batch whose features "
            "differ from the bundle's (docs/scoring.md)."
        ),
    )
    p.add_argument("dataset", help="a dataset name of the config (or name/seedN)")
    p.add_argument("objects", type=Path, help="the new objects: what the dataset's source reads")
    _add_config(p)
    p.add_argument(
        "--name", default=None, help="the batch's name (default: the batch file/folder name)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: results/<dataset>/scored/<name>)",
    )
    p.add_argument(
        "--top", type=int, default=None, help="objects in the export (default: export.top_n)"
    )
    p.add_argument("--threads", type=int, default=1, help="threads for scoring (default 1)")
    p.add_argument(
        "--chunk",
        type=int,
        default=100_000,
        help="objects per feature chunk (progress; default 100000)",
    )
    return _run_score


def _run_score(args: argparse.Namespace) -> int:
    from astroanom.pipeline.bundle import score_batch

    if args.threads < 1 or args.chunk < 1:
        raise AstroanomError("--threads and --chunk must be at least 1")
    cfg = load_config(args.configfile)
    run = resolve_run(cfg, args.dataset)
    out = score_batch(
        cfg,
        run.path,
        args.objects,
        name=args.name,
        out=args.out,
        threads=args.threads,
        chunk_rows=args.chunk,
        top_n=args.top,
    )
    print(f"scored {args.objects} with the bundle of {run.path}:")
    for f in ("ranked.csv", "export/anomalies.csv", "export/anomalies.html"):
        print(f"  {out / f}")
    return 0


COMMANDS: dict[str, Callable[[argparse._SubParsersAction], Runner]] = {
    "check": _add_check,
    "label": _add_label,
    "export": _add_export,
    "send": _add_send,
    "score": _add_score,
}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Runner]]:
    """The top-level parser and the runner of each subcommand."""
    parser = argparse.ArgumentParser(
        prog="astroanom", description="astroanom: personalised active anomaly detection"
    )
    parser.add_argument("--version", action="version", version=f"astroanom {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    runners = {name: add(sub) for name, add in COMMANDS.items()}
    return parser, runners


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``astroanom`` console script."""
    parser, runners = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        return runners[args.command](args)
    except (AstroanomError, FileNotFoundError) as err:
        print(f"astroanom {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
