"""The ``astroanom`` command line: ``astroanom <command> ...``.

Subcommands are registered in :data:`COMMANDS`; each adds its arguments to a subparser and
returns the function that runs it. Today: ``label`` (the browser labeller).
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

log = logging.getLogger("astroanom.cli")
Runner = Callable[[argparse.Namespace], int]
DEFAULT_CONFIG = Path("config/config.yaml")


def _load_config(path: Path | None) -> dict[str, Any]:
    """The workflow config (for the labels section), or {} if there is none."""
    import yaml

    if path is None:
        path = DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None
    if path is None:
        return {}
    if not path.is_file():
        raise AstroanomError(f"config file {path} not found")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def dataset_name(dataset_dir: Path, fallback: str) -> str:
    """The dataset's name as the workflow knows it: the path below ``results/`` if there is one."""
    parts = dataset_dir.resolve().parts
    if "results" in parts:
        below = parts[len(parts) - parts[::-1].index("results") :]
        if below:
            return "/".join(below)
    return fallback


def _add_label(sub: argparse._SubParsersAction) -> Runner:
    p = sub.add_parser(
        "label",
        help="label objects 0-5 in the browser and retrain (the local labeller)",
        description=(
            "Serve the labeller for one dataset directory on this machine and print its URL. "
            "Labels go to the file the config names (labels.path, default "
            "labels/<dataset>/<user>.csv); a later `snakemake` run retrains on them when the "
            "dataset's oracle has mode: human."
        ),
    )
    p.add_argument(
        "dataset_dir", type=Path, help="a dataset directory, e.g. results/simulation/paper/seed1"
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument(
        "--user",
        default=None,
        help="whose label set to use (default: labels.user in the config, else 'default')",
    )
    p.add_argument(
        "--labels", type=Path, default=None, help="label file (default: labels.path in the config)"
    )
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"workflow config (default {DEFAULT_CONFIG} if present)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the random order, the regressor and the map"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="threads for retraining and the map (default: up to 4 of this machine's cores)",
    )
    return _run_label


def _run_label(args: argparse.Namespace) -> int:
    from astroanom.labeller import LabellerSettings, start
    from astroanom.store.dataset import DatasetInfo
    from astroanom.store.labels import DEFAULT_TEMPLATE, check_user, labels_path

    if not 0 <= args.port <= 65535:
        raise AstroanomError(f"--port must be 0..65535, got {args.port}")
    cfg = _load_config(args.config)
    lab_cfg = cfg.get("labels") or {}
    al_cfg = cfg.get("active_learning") or {}
    user = check_user(args.user or lab_cfg.get("user") or "default")
    info = DatasetInfo.read(args.dataset_dir)
    name = dataset_name(args.dataset_dir, info.name)
    path = args.labels or labels_path(name, user, lab_cfg.get("path", DEFAULT_TEMPLATE))
    settings = LabellerSettings(
        alpha=float(al_cfg.get("alpha", 1.0)),
        n_estimators=int(al_cfg.get("n_estimators", 100)),
        seed=args.seed,
        threads=max(1, args.threads),
    )
    running = start(
        args.dataset_dir,
        path,
        user,
        host=args.host,
        port=args.port,
        settings=settings,
        background=False,
    )
    print(f"astroanom labeller: {name} ({running.data.n} {info.kind}s), user {user}", flush=True)
    print(f"labels: {path} (log: {running.data.store.log_path})", flush=True)
    print(f"Open {running.url} in your browser. Press Ctrl-C to stop.", flush=True)
    try:
        running.server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        running.server.server_close()
    return 0


COMMANDS: dict[str, Callable[[argparse._SubParsersAction], Runner]] = {"label": _add_label}


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
