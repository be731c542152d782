"""Send tables and positions to TOPCAT, Aladin or any SAMP client (``astropy.samp``).

SAMP (the IVOA's Simple Application Messaging Protocol) passes messages between the tools on
one desktop through a *hub* (TOPCAT and Aladin each start one; so does astropy's
``samp_hub --no-web-profile``).
:func:`send_table` writes the rows as a VOTable file and broadcasts ``table.load.votable``
with its ``file://`` URL; :func:`point_at` broadcasts ``coord.pointAt.sky`` (RA/Dec in
degrees). Both connect as a short-lived, non-callable client (no server of ours is started),
find the hub from ``$SAMP_HUB`` or ``~/.samp`` unless given a lockfile, and never use the
network beyond the hub's address (``astropy.samp.conf.use_internet`` is off while they run).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from astroanom.errors import AstroanomError
from astroanom.store.io import atomic_path
from astroanom.vo.votable import votable_bytes

PathLike = str | os.PathLike[str]
TABLE_MTYPE = "table.load.votable"
POINT_MTYPE = "coord.pointAt.sky"
NO_HUB = (
    "no SAMP hub is running: start TOPCAT or Aladin (each starts one), or astropy's "
    "`samp_hub --no-web-profile`, then send again"
)
CLIENT_NAME = "astroanom"


class SampError(AstroanomError):
    """A SAMP send that did not reach any client."""


class NoHubError(SampError):
    """No running SAMP hub was found."""


@dataclass(frozen=True)
class Sent:
    """One broadcast: its message type, the names of the clients it reached, what it sent."""

    mtype: str
    recipients: tuple[str, ...]
    detail: str


def astropy_samp() -> Any:
    """``astropy.samp``, imported without its deprecation warning (astropy 8 points to
    ``pyvo.samp``, the same client; this module moves there when pyvo becomes a dependency)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*astropy.samp was deprecated.*")
        import astropy.samp

    return astropy.samp


@contextmanager
def connected(lockfile: PathLike | None = None, name: str = CLIENT_NAME) -> Iterator[Any]:
    """A registered ``SAMPIntegratedClient`` (not callable) for the block; raises
    :class:`NoHubError` when no hub is running (or ``lockfile`` names none)."""
    samp = astropy_samp()
    from astropy.samp.lockfile_helpers import check_running_hub

    SAMPHubError, SAMPIntegratedClient, conf = (
        samp.SAMPHubError,
        samp.SAMPIntegratedClient,
        samp.conf,
    )

    with conf.set_temp("use_internet", False), conf.set_temp("n_retries", 2):
        params = None
        if lockfile is not None:
            running, params = check_running_hub(str(lockfile))
            if not running:
                raise NoHubError(f"{NO_HUB} (no hub answers at lockfile {lockfile})")
        client = SAMPIntegratedClient(
            name=name, description="astroanom: personalised anomaly detection", callable=False
        )
        try:
            client.connect(hub_params=params, pool_size=1)
        except (SAMPHubError, OSError) as err:
            raise NoHubError(f"{NO_HUB} ({err})") from None
        try:
            yield client
        finally:
            client.disconnect()


def _notify(client: Any, mtype: str, params: Mapping[str, str], detail: str) -> Sent:
    ids = client.notify_all({"samp.mtype": mtype, "samp.params": dict(params)}) or []
    names = []
    for cid in ids:
        try:
            names.append(str(client.get_metadata(cid).get("samp.name", cid)))
        except Exception:  # a client that left meanwhile
            names.append(str(cid))
    if not names:
        raise SampError(
            f"the SAMP hub has no client that accepts {mtype}: start TOPCAT or Aladin, "
            "then send again"
        )
    return Sent(mtype, tuple(names), detail)


def write_table_file(
    rows: pd.DataFrame, directory: PathLike, name: str, meta: Mapping[str, Any] | None = None
) -> Path:
    """The VOTable of ``rows`` in ``directory``, named after ``name`` and its content (a later
    send never overwrites a file a client may still be reading)."""
    data = votable_bytes(rows, meta)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "table"
    path = Path(directory) / f"{safe}-{hashlib.sha1(data).hexdigest()[:10]}.vot"
    if not path.is_file():
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return path


def send_table(
    rows: pd.DataFrame,
    directory: PathLike,
    name: str,
    meta: Mapping[str, Any] | None = None,
    lockfile: PathLike | None = None,
) -> Sent:
    """Broadcast ``rows`` as a VOTable (``table.load.votable``, table name ``name``); the file
    is written in ``directory`` first. Raises :class:`NoHubError` or :class:`SampError`."""
    path = write_table_file(rows, directory, name, meta)
    with connected(lockfile) as client:
        return _notify(
            client,
            TABLE_MTYPE,
            {"url": path.resolve().as_uri(), "table-id": path.stem, "name": name},
            f"{len(rows)} rows ({path})",
        )


def point_at(ra: float, dec: float, lockfile: PathLike | None = None) -> Sent:
    """Broadcast ``coord.pointAt.sky`` at ``ra``, ``dec`` (degrees, ICRS)."""
    ra, dec = float(ra), float(dec)
    if not (0.0 <= ra <= 360.0 and -90.0 <= dec <= 90.0):
        raise SampError(f"cannot point at RA {ra:g}, Dec {dec:g}: not a position in degrees")
    with connected(lockfile) as client:
        return _notify(
            client, POINT_MTYPE, {"ra": repr(ra), "dec": repr(dec)}, f"RA {ra:.6f} Dec {dec:+.6f}"
        )


def select_rows(
    table: pd.DataFrame, top: int | None = None, ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """The rows of ``table`` (with ``id`` and ``rank``) to send: those of ``ids`` in that order
    (an unknown id is an error naming it), else the ``top`` by rank (best first)."""
    if ids is not None:
        index = {oid: k for k, oid in enumerate(table["id"].astype(str))}
        unknown = [i for i in ids if str(i) not in index]
        if unknown:
            shown = ", ".join(map(repr, unknown[:5]))
            raise SampError(f"unknown id(s) {shown}: not objects of this dataset")
        return table.iloc[[index[str(i)] for i in dict.fromkeys(ids)]].reset_index(drop=True)
    n = len(table) if top is None else int(top)
    if n < 1:
        raise SampError(f"send at least one object, got top {top}")
    return table.sort_values("rank", kind="stable").head(n).reset_index(drop=True)


def send_rows(
    rows: pd.DataFrame,
    directory: PathLike,
    name: str,
    meta: Mapping[str, Any] | None = None,
    lockfile: PathLike | None = None,
    point: bool = True,
) -> list[Sent]:
    """Send ``rows`` as a table and, when they hold one object with a finite RA/Dec and
    ``point``, point the clients at it (a client that does not listen for positions is fine)."""
    sent = [send_table(rows, directory, name, meta, lockfile)]
    if point and len(rows) and {"ra", "dec"} <= set(rows.columns) and rows["id"].nunique() == 1:
        ra, dec = rows["ra"].iloc[0], rows["dec"].iloc[0]
        if pd.notna(ra) and pd.notna(dec):
            try:
                sent.append(point_at(ra, dec, lockfile))
            except SampError as err:
                if isinstance(err, NoHubError):
                    raise
                sent.append(Sent(POINT_MTYPE, (), f"not sent: {err}"))
    return sent
