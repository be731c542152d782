"""The labeller's "Send to TOPCAT/Aladin" (SAMP): ``POST /api/samp`` broadcasts the top of an
order, or chosen ids, as a VOTable (``table.load.votable``) and points the viewers at one
object with RA/Dec (``coord.pointAt.sky``), through :mod:`astroanom.vo.samp`.

Body: ``{"top": N, "by": "score"|"retrained"|"random", "unlabelled_first": bool}`` or
``{"ids": [...]}`` (at most :data:`MAX_SEND` objects), and optionally ``"point": id``.
Answers ``{"sent": [{mtype, recipients, detail}], "rows": n}``; 503 when no hub runs, 409
when no client there takes tables, 400 for a bad body.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from flask import Flask, Response, jsonify

from astroanom.labeller.guards import fail, json_body
from astroanom.labeller.session import ORDERS, LabellerData, UnknownIdError

MAX_SEND = 100_000


def selection_table(state: LabellerData, rows: np.ndarray) -> pd.DataFrame:
    """id, ra/dec (when the dataset has them), S, U, d, S_hat, rank (by S^, or by S before a
    retrain) and this user's label of ``rows`` (k,), in that order."""
    rows = np.asarray(rows, dtype=np.int64)
    ranking = state.ranking
    nan = np.full(rows.size, np.nan)
    U, d, S_hat = (nan, nan, state.S[rows]) if ranking is None else ranking.values(rows)
    order = state.order_rows("retrained")
    position = np.empty(state.n, dtype=np.int64)
    position[order] = np.arange(1, state.n + 1)
    out = pd.DataFrame({"id": state.ids[rows].astype(str)})
    for col in ("ra", "dec"):
        if col in state.objects.columns:
            out[col] = pd.to_numeric(state.objects[col].iloc[rows], errors="coerce").to_numpy()
    labels = state.store.current()
    out["S"] = state.S[rows]
    out["U"], out["d"], out["S_hat"] = U, d, S_hat
    out["rank"] = position[rows]
    out["label"] = pd.array([labels.get(i) for i in out["id"]], dtype="Int64")
    return out


def _samp_dir(state: LabellerData) -> Path:
    """Where sent tables are written: the run's ``export/samp/``, else a temporary folder."""
    for d in (state.dir / "export" / "samp", Path(tempfile.gettempdir()) / "astroanom-samp"):
        try:
            d.mkdir(parents=True, exist_ok=True)
            return d
        except OSError:
            continue
    raise OSError("no writable folder for the SAMP table")


def _rows_of(state: LabellerData, body: dict[str, Any]) -> tuple[np.ndarray, str]:
    if "ids" in body:
        ids = body["ids"]
        if not isinstance(ids, list) or not ids or len(ids) > MAX_SEND:
            raise ValueError(f'"ids" must be a list of 1..{MAX_SEND} ids')
        rows = np.array(list(dict.fromkeys(state.row(i) for i in ids)), dtype=np.int64)
        return rows, f"{rows.size} selected"
    top, by = body.get("top", 50), body.get("by", "score")
    if not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= MAX_SEND:
        raise ValueError(f'"top" must be an integer 1..{MAX_SEND}')
    if by not in ORDERS:
        raise ValueError(f'"by" must be one of {", ".join(ORDERS)}')
    first = body.get("unlabelled_first") is True
    return state.order_rows(by, first)[:top].astype(np.int64), f"top {top} by {by}"


def samp_routes(app: Flask, state: LabellerData) -> None:
    """``POST /api/samp`` (see the module docstring)."""

    @app.post("/api/samp")
    def samp_send() -> Response:
        from astroanom.vo.samp import NoHubError, SampError, Sent, point_at, send_table

        body = json_body()
        try:
            rows, what = _rows_of(state, body)
            point = None if body.get("point") is None else state.row(body["point"])
        except UnknownIdError as err:
            return fail(404, str(err))
        except ValueError as err:
            return fail(400, str(err))
        table = selection_table(state, rows)
        name = f"astroanom {state.info.name}: {what}"
        try:
            sent = [send_table(table, _samp_dir(state), name, {"dataset": state.info.name})]
            position = _position(state, point)
            if position is not None:
                try:
                    sent.append(point_at(*position))
                except NoHubError:
                    raise
                except SampError as err:  # nobody takes positions: the table went all the same
                    sent.append(Sent("coord.pointAt.sky", (), f"not sent: {err}"))
        except NoHubError as err:
            return fail(503, str(err))
        except SampError as err:
            return fail(409, str(err))
        except OSError as err:
            return fail(500, f"cannot write the table: {err}")
        out = [
            {"mtype": s.mtype, "recipients": list(s.recipients), "detail": s.detail} for s in sent
        ]
        return jsonify(sent=out, rows=int(rows.size))


def _position(state: LabellerData, row: int | None) -> tuple[float, float] | None:
    """(RA, Dec) in degrees of ``row`` when it has a finite one."""
    if row is None or not {"ra", "dec"} <= set(state.objects.columns):
        return None
    ra, dec = (pd.to_numeric(state.objects[c].iloc[row], errors="coerce") for c in ("ra", "dec"))
    return (float(ra), float(dec)) if np.isfinite(ra) and np.isfinite(dec) else None
