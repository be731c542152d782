// astroanom labeller: plain JavaScript, no build step. Talks to the JSON API in app.py.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const TOKEN = meta("csrf-token");
  const STORE_KEY = `astroanom:${meta("dataset")}:${meta("user")}`;
  const IS_CURVE = meta("draws-in-page") === "1";
  const READ_ONLY = meta("read-only") === "1";
  const CAN_FOLD = meta("can-fold") === "1";
  const FIXED_ORDERS = ["score", "retrained", "random"];
  const GRID_PAGE = 24;
  const HISTORY_MAX = 500;

  const state = {
    ids: null,          // every id, in row order (fetched once)
    order: [],          // ids in display order
    exact: 0,           // how many at the top of the order are ranked for certain
    retrained: null,    // the last retrain's answer, while its order is not complete
    orderGen: 0,        // bumped by every order request; late answers are dropped
    pos: 0,             // index into order
    by: "score",        // score | retrained | random | feature:<name> | meta:<name>
    dir: "desc",        // desc: highest first
    unlabelledFirst: true,
    labelled: 0,
    total: 0,
    labels: new Map(),  // id -> label, as the server has them
    history: [],        // label changes for undo: {id, before, after}
    cache: new Map(),   // id -> object JSON
    pending: Promise.resolve(),  // label POSTs, in order
    tab: "anomalies",
    map: null,          // {id, x, y, S, score, label, bx, by, px, py, rank}
    mapSel: -1,
    mapView: {k: 1, tx: 0, ty: 0},  // screen = base * k + t
    mapPicked: new Set(),           // indices of a box / lasso selection
    mapMode: "pan",
    grid: {ids: null, title: "", start: 0, focus: 0},  // ids null: the current order
    zoom: {k: 1, tx: 0, ty: 0},     // the object's image
    fold: true,
    axis: null,         // curves: {x, x_label, y_label}
    sortColumns: {feature: [], meta: []},
  };

  // ---- helpers ------------------------------------------------------------------------------
  const fmt = (v, digits = 3) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
  const isLabel = (v) => v !== null && v !== undefined;
  // images: the display choices of this page (stretch, bands), kept while it is open
  const display = {stretch: "", mode: "auto"};
  const plotUrl = (id) => {
    let url = `/api/plot?id=${encodeURIComponent(id)}`;
    if (display.stretch) url += `&stretch=${display.stretch}`;
    if (display.mode !== "auto") url += `&mode=${display.mode}`;
    if (CAN_FOLD && !state.fold) url += "&fold=off";
    return url;
  };

  function status(text, isError = false) {
    const el = $("status");
    el.textContent = text;
    el.classList.toggle("error", isError);
    const grid = $("grid-status");
    if (grid) { grid.textContent = text; grid.classList.toggle("error", isError); }
  }

  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": TOKEN},
      body: JSON.stringify(body),
    };
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = {error: resp.statusText}; }
    if (!resp.ok) throw new Error(data && data.error ? data.error : `HTTP ${resp.status}`);
    return data;
  }

  function save() {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify({
        by: state.by, dir: state.dir, unlabelledFirst: state.unlabelledFirst,
        id: state.order[state.pos], tab: state.tab, fold: state.fold,
      }));
    } catch (e) { /* private mode: resume is best effort */ }
  }

  function restore() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY) || "{}"); } catch (e) { return {}; }
  }

  function updateProgress() {
    $("progress-labelled").textContent = `${state.labelled} / ${state.total} labelled`;
    $("progress-position").textContent =
      `position ${state.order.length ? state.pos + 1 : "–"} / ${state.order.length}`;
    $("progress-bar").style.width = `${state.total ? (100 * state.labelled) / state.total : 0}%`;
  }

  // ---- curve plot (drawn here, so moving on needs no image) -----------------------------------
  function niceTicks(lo, hi, count = 6) {
    const span = hi - lo || 1;
    const raw = span / count, mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
    return ticks;
  }

  // The curve on a canvas; ``small``: a thumbnail (no axes text).
  function drawCurve(obj, cv = $("curve"), small = false) {
    const ctx = cv.getContext("2d");
    const W = cv.width, H = cv.height;
    const [L, R, T, B] = small ? [6, 6, 6, 6] : [80, 20, 44, 64];
    const xs = state.axis ? state.axis.x : obj.curve.map((_, i) => i);
    const ys = obj.curve.map((v) => (v === null ? NaN : v));
    const fin = ys.filter(Number.isFinite);
    let y0 = Math.min(...fin), y1 = Math.max(...fin);
    const padY = (y1 - y0 || 1) * 0.06;
    y0 -= padY; y1 += padY;
    const x0 = Math.min(...xs), x1 = Math.max(...xs);
    const px = (x) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
    const py = (y) => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    ctx.font = "15px system-ui, sans-serif"; ctx.fillStyle = "#333"; ctx.strokeStyle = "#e3e6ec"; ctx.lineWidth = 1;
    if (!small) {
      ctx.textAlign = "center"; ctx.textBaseline = "top";
      for (const t of niceTicks(x0, x1)) {
        ctx.beginPath(); ctx.moveTo(px(t), T); ctx.lineTo(px(t), H - B); ctx.stroke();
        ctx.fillText(String(t), px(t), H - B + 8);
      }
      ctx.textAlign = "right"; ctx.textBaseline = "middle";
      for (const t of niceTicks(y0, y1)) {
        ctx.beginPath(); ctx.moveTo(L, py(t)); ctx.lineTo(W - R, py(t)); ctx.stroke();
        ctx.fillText(String(t), L - 8, py(t));
      }
      ctx.strokeStyle = "#333"; ctx.strokeRect(L, T, W - L - R, H - T - B);
    }
    ctx.strokeStyle = "#1f4e8c"; ctx.lineWidth = small ? 1.5 : 2; ctx.beginPath();
    let pen = false;
    ys.forEach((y, i) => {
      if (!Number.isFinite(y)) { pen = false; return; }
      if (pen) ctx.lineTo(px(xs[i]), py(y)); else ctx.moveTo(px(xs[i]), py(y));
      pen = true;
    });
    ctx.stroke();
    if (small) return;
    ctx.fillStyle = "#1d2330"; ctx.textAlign = "center"; ctx.textBaseline = "alphabetic";
    ctx.font = "17px system-ui, sans-serif";
    ctx.fillText(`object ${obj.id}`, W / 2, 28);
    ctx.font = "15px system-ui, sans-serif";
    ctx.fillText(state.axis ? state.axis.x_label : "feature", L + (W - L - R) / 2, H - 16);
    ctx.save(); ctx.translate(20, T + (H - T - B) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(state.axis ? state.axis.y_label : "value", 0, 0); ctx.restore();
  }

  // A small picture of an object: the PNG, or for curves a canvas drawn from its values.
  function thumbnail(id) {
    if (!IS_CURVE) {
      const img = document.createElement("img");
      img.src = plotUrl(id);
      img.alt = `object ${id}`;
      img.loading = "lazy";
      return img;
    }
    const cv = document.createElement("canvas");
    cv.width = 240; cv.height = 135;
    cv.setAttribute("role", "img");
    cv.setAttribute("aria-label", `object ${id}`);
    getObject(id).then((obj) => { if (obj.curve) drawCurve(obj, cv, true); }).catch(() => {});
    return cv;
  }

  // ---- objects ------------------------------------------------------------------------------
  async function getObject(id) {
    if (!state.cache.has(id)) {
      state.cache.set(id, api(`/api/object?id=${encodeURIComponent(id)}`).catch((err) => {
        state.cache.delete(id);
        throw err;
      }));
    }
    return state.cache.get(id);
  }

  function prefetch(pos) {
    const id = state.order[pos];
    if (id === undefined) return;
    getObject(id).catch(() => {});
    if (!IS_CURVE) {
      const img = new Image();
      img.src = plotUrl(id);
    }
  }

  function fillTable(table, rows) {
    table.replaceChildren(...rows.map(([k, v]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const td = document.createElement("td");
      th.textContent = k;
      td.textContent = typeof v === "number" && !Number.isInteger(v) ? v.toPrecision(5) : String(v);
      tr.append(th, td);
      return tr;
    }));
  }

  // follow-up links at the object's RA/Dec (plain links: the page itself requests nothing)
  function showLinks(links) {
    const box = $("links");
    if (!box) return;
    box.replaceChildren();
    box.hidden = !links;
    if (!links) return;
    const names = {simbad: "Simbad", vizier: "VizieR", aladin: "Aladin Lite", legacy: "Legacy Survey viewer"};
    for (const [key, url] of Object.entries(links)) {
      const a = document.createElement("a");
      a.href = url;
      a.textContent = names[key] || key;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      box.append(a, " ");
    }
  }

  function showLabel(label) {
    $("obj-label").textContent = isLabel(label) ? String(label) : "not labelled";
    document.querySelectorAll(".label-btn").forEach((b) => {
      b.classList.toggle("chosen", isLabel(label) && Number(b.dataset.label) === label);
    });
  }

  async function show() {
    updateProgress();
    save();
    const id = state.order[state.pos];
    if (id === undefined) return;
    if (!IS_CURVE) {
      $("plot").src = plotUrl(id);
      $("plot").alt = `object ${id}`;
    }
    $("obj-id").textContent = id;
    let obj;
    try {
      obj = await getObject(id);
    } catch (err) {
      status(err.message, true);
      return;
    }
    if (state.order[state.pos] !== id) return;  // the user moved on meanwhile
    if (IS_CURVE && obj.curve) drawCurve(obj);
    $("obj-S").textContent = fmt(obj.S);
    $("obj-U").textContent = obj.U === null ? "retrain first" : fmt(obj.U, 2);
    $("obj-score").textContent = obj.score === null ? "retrain first" : fmt(obj.score);
    $("obj-d").textContent = fmt(obj.d, 2);
    $("caption").textContent = `object ${obj.id} · row ${obj.row}`;
    showLabel(state.labels.has(id) ? state.labels.get(id) : obj.label);
    fillTable($("metadata"), Object.entries(obj.metadata));
    showLinks(obj.links);
    $("n-features").textContent = obj.n_features;
    fillTable($("features"), obj.features);
    prefetch(state.pos + 1);
    prefetch(state.pos + 2);
  }

  function go(delta) {
    const next = Math.min(Math.max(state.pos + delta, 0), state.order.length - 1);
    if (next === state.pos) {
      status(delta > 0 ? "this is the last object" : "this is the first object");
      return;
    }
    state.pos = next;
    status("");
    show();
  }

  function goPosition(n) {
    if (!Number.isInteger(n) || n < 1 || n > state.order.length) {
      status(`position must be a whole number from 1 to ${state.order.length}`, true);
      return false;
    }
    state.pos = n - 1;
    setTab("anomalies");
    status(`position ${n}`);
    show();
    return true;
  }

  function openId(id, tab = "anomalies") {
    const pos = state.order.indexOf(String(id));
    if (pos < 0) {
      status(`id ${id} is not in this dataset`, true);
      return false;
    }
    state.pos = pos;
    setTab(tab);
    show();
    return true;
  }

  function firstUnlabelled() {
    const k = state.order.findIndex((id) => !state.labels.has(id));
    return k >= 0 ? k : 0;
  }

  // ---- labelling ----------------------------------------------------------------------------
  // Every view shows the label the server answered with.
  function labelShown(id, value) {
    if (isLabel(value)) state.labels.set(id, value); else state.labels.delete(id);
    const cached = state.cache.get(id);
    if (cached) cached.then((obj) => { obj.label = value; }).catch(() => {});
    if (state.order[state.pos] === id) showLabel(value);
    if (state.map) mapSetLabel(id, value);
    gridSetLabel(id, value);
    updateProgress();
  }

  function remember(id, before, after) {
    state.history.push({id, before, after});
    if (state.history.length > HISTORY_MAX) state.history.shift();
  }

  // POST one change (a label 0..5, or null: remove it); returns the label it replaced.
  async function send(id, value) {
    if (value === null) {
      const res = await api("/api/unlabel", {id});
      state.labelled = res.labelled;
      labelShown(id, null);
      return res.previous;
    }
    const res = await api("/api/label", {id, label: value});
    state.labelled = res.labelled;
    labelShown(id, res.label);
    return res.previous;
  }

  function label(value, advance = true, id = state.order[state.pos]) {
    if (id === undefined) return undefined;
    if (READ_ONLY) { status("read-only: labels cannot be given here", true); return undefined; }
    state.pending = state.pending.then(async () => {
      try {
        const before = await send(id, value);
        remember(id, before, value);
        status(`labelled ${id} as ${value}`);
      } catch (err) {
        status(`label not saved: ${err.message}`, true);
        state.cache.delete(id);
      }
    });
    if (advance && state.tab === "anomalies") go(1);
    return state.pending;
  }

  function unlabel(id) {
    if (id === undefined) return undefined;
    if (READ_ONLY) { status("read-only: labels cannot be removed here", true); return undefined; }
    state.pending = state.pending.then(async () => {
      try {
        const before = await send(id, null);
        if (isLabel(before)) {
          remember(id, before, null);
          status(`removed the label of ${id} (was ${before})`);
        } else {
          status(`${id} has no label`);
        }
      } catch (err) {
        status(`label not removed: ${err.message}`, true);
      }
    });
    return state.pending;
  }

  // Undo the last change of this page: back to the label before it, or to unlabelled.
  function undo() {
    if (READ_ONLY) { status("read-only: nothing to undo", true); return undefined; }
    state.pending = state.pending.then(async () => {
      const last = state.history.pop();
      if (!last) { status("nothing to undo"); return; }
      try {
        await send(last.id, isLabel(last.before) ? last.before : null);
        status(`undone: ${last.id} is ` +
               (isLabel(last.before) ? `labelled ${last.before} again` : "unlabelled again"));
        if (state.tab === "anomalies") {
          const pos = state.order.indexOf(last.id);
          if (pos >= 0 && pos !== state.pos) { state.pos = pos; show(); }
        } else if (state.tab === "grid") {
          gridFocusId(last.id);
        } else if (state.map) {
          const i = state.map.id.indexOf(last.id);
          if (i >= 0) mapSelect(i);
        }
      } catch (err) {
        state.history.push(last);
        status(`undo failed: ${err.message}`, true);
      }
    });
    return state.pending;
  }

  async function loadLabels() {
    const res = await api("/api/labels");
    state.labels = new Map(res.labels.map((r) => [r.id, r.label]));
    state.labelled = res.labelled;
  }

  async function loadIds() {
    // every id once, in row order, as text (one id per line: far lighter than JSON at
    // millions of objects); orders then arrive as 4-byte row numbers
    if (state.ids === null) {
      const resp = await fetch("/api/ids?format=text");
      if (resp.ok) {
        const text = await resp.text();
        state.ids = text.length ? text.split("\n") : [];
      } else {  // an id with a line break: the JSON list
        state.ids = (await api("/api/ids")).ids;
      }
    }
    return state.ids;
  }

  async function fetchOrder(partial) {
    const resp = await fetch(
      `/api/order?by=${encodeURIComponent(state.by)}&dir=${state.dir}` +
      `&unlabelled_first=${state.unlabelledFirst ? 1 : 0}` +
      `&format=rows&partial=${partial ? 1 : 0}`);
    if (!resp.ok) {
      let msg = `HTTP ${resp.status}`;
      try { msg = (await resp.json()).error || msg; } catch (e) { /* keep the status */ }
      throw new Error(msg);
    }
    return resp;
  }

  async function applyOrder(resp, keepId) {
    const ids = await loadIds();
    const rows = new Int32Array(await resp.arrayBuffer());  // little-endian int32
    state.order = Array.from(rows, (r) => ids[r]);
    state.labelled = Number(resp.headers.get("X-Labelled"));
    state.total = Number(resp.headers.get("X-Total"));
    state.exact = Number(resp.headers.get("X-Exact"));
    if (state.retrained && state.exact >= state.order.length) {
      status(retrainMessage(state.retrained, true));
      state.retrained = null;
    }
    const pos = keepId === undefined ? -1 : state.order.indexOf(keepId);
    state.pos = pos >= 0 ? pos : 0;
    document.body.dataset.order = state.order.slice(0, 20).join(",");
    document.body.dataset.exact = String(state.exact);
  }

  // The order at once (after a retrain only its top may be ranked yet), then, if it was not
  // complete, the complete one when the server has it, keeping the object on screen.
  async function loadOrder(keepId) {
    const gen = ++state.orderGen;
    await loadIds();
    await applyOrder(await fetchOrder(true), keepId);
    if (state.exact < state.order.length) completeOrder(gen);
  }

  async function completeOrder(gen) {
    try {
      const resp = await fetchOrder(false);
      if (gen !== state.orderGen) return;  // a newer order was asked for meanwhile
      const here = state.order[state.pos];
      await applyOrder(resp, here);
      updateProgress();
      if (state.tab === "grid" && state.grid.ids === null) renderGrid();
    } catch (err) {
      if (gen === state.orderGen) status(`cannot complete the order: ${err.message}`, true);
    }
  }

  function retrainMessage(res, complete) {
    if (!res.n_labels) return res.message;
    return `retrained on ${res.n_labels} labels in ${res.seconds.toFixed(2)} s; ordered by Ŝ` +
      (complete ? "" : ` (top ${res.exact} final, the rest follows)`);
  }

  async function retrain() {
    const btn = $("retrain");
    btn.disabled = true;
    status("retraining…");
    try {
      await state.pending;
      const res = await api("/api/retrain", {});
      state.cache.clear();
      state.by = "retrained";
      state.dir = "desc";
      $("order").value = "retrained";
      $("order-dir").value = "desc";
      state.retrained = res.complete ? null : res;
      await loadOrder();
      state.pos = firstUnlabelled();  // the most anomalous object not yet labelled
      if (state.map) await loadMap(true);
      status(retrainMessage(res, state.retrained === null));
      document.body.dataset.retrained = String(res.n_labels);
      if (state.tab === "grid") { state.grid = {ids: null, title: "", start: 0, focus: state.pos}; renderGrid(); }
      show();
    } catch (err) {
      status(`retrain failed: ${err.message}`, true);
    } finally {
      btn.disabled = false;
    }
  }

  async function deleteLabels() {
    if (READ_ONLY) { status("read-only: labels cannot be removed here", true); return; }
    const dlg = $("confirm-delete");
    $("confirm-count").textContent = state.labelled;
    dlg.returnValue = "";
    dlg.showModal();
    dlg.addEventListener("close", async () => {
      if (dlg.returnValue !== "delete") {
        status("labels kept");
        return;
      }
      try {
        await state.pending;
        const res = await api("/api/labels/delete", {confirm: true});
        state.cache.clear();
        state.labels.clear();
        state.history = [];
        state.labelled = res.labelled;
        if (state.map) await loadMap(true);
        status(`deleted ${res.removed} labels (still in the log file)`);
        show();
      } catch (err) {
        status(`delete failed: ${err.message}`, true);
      }
    }, {once: true});
  }

  function orderName() {
    const opt = $("order").selectedOptions[0];
    return opt ? opt.textContent : state.by;
  }

  async function changeOrder(by, unlabelledFirst, dir = state.dir) {
    state.by = by;
    state.dir = dir;
    state.unlabelledFirst = unlabelledFirst;
    state.retrained = null;  // a retrain's message no longer applies
    $("order").value = by;
    $("order-dir").value = dir;
    $("unlabelled-first").checked = unlabelledFirst;
    try {
      await loadOrder();
    } catch (err) {
      status(`cannot order: ${err.message}`, true);
      return;
    }
    status(`ordered by ${orderName()}, ${dir === "desc" ? "highest" : "lowest"} first` +
           (unlabelledFirst ? ", unlabelled first" : ""));
    if (state.tab === "grid" && state.grid.ids === null) {
      state.grid.start = 0; state.grid.focus = 0; renderGrid();
    }
    show();
  }

  function fillOrderChoices(cols) {
    const sel = $("order");
    for (const [kind, title] of [["feature", "feature"], ["meta", "metadata"]]) {
      if (!cols[kind] || !cols[kind].length) continue;
      const group = document.createElement("optgroup");
      group.label = title;
      for (const name of cols[kind]) {
        const opt = document.createElement("option");
        opt.value = `${kind}:${name}`;
        opt.textContent = name;
        group.append(opt);
      }
      sel.append(group);
    }
  }

  const knownOrder = (by) => FIXED_ORDERS.includes(by) ||
    [...$("order").options].some((o) => o.value === by);

  // ---- tabs ---------------------------------------------------------------------------------
  function setTab(tab) {
    state.tab = tab;
    for (const name of ["anomalies", "grid", "map"]) {
      $(`view-${name}`).hidden = name !== tab;
      $(`tab-${name}`).setAttribute("aria-selected", String(name === tab));
    }
    if (tab === "map") loadMap(false).then(() => $("map").focus());
    if (tab === "grid") renderGrid();
    save();
  }

  // ---- image zoom and pan -------------------------------------------------------------------
  function zoomTarget() { return IS_CURVE ? $("curve") : $("plot"); }

  function applyZoom() {
    const z = state.zoom;
    zoomTarget().style.transform = `translate(${z.tx}px, ${z.ty}px) scale(${z.k})`;
    $("zoom-level").textContent = z.k === 1 ? "" : `zoom ×${z.k.toFixed(1)}`;
    document.body.dataset.zoom = z.k.toFixed(2);
  }

  // zoom by ``f`` about (cx, cy), in pixels from the box's centre
  function zoomBy(f, cx = 0, cy = 0) {
    const z = state.zoom, k = Math.min(Math.max(z.k * f, 1), 16);
    z.tx = cx - ((cx - z.tx) * k) / z.k;
    z.ty = cy - ((cy - z.ty) * k) / z.k;
    z.k = k;
    if (k === 1) { z.tx = 0; z.ty = 0; }
    applyZoom();
  }

  function panBy(dx, dy) {
    if (state.zoom.k === 1) return;
    state.zoom.tx += dx; state.zoom.ty += dy;
    applyZoom();
  }

  function resetZoom() { state.zoom = {k: 1, tx: 0, ty: 0}; applyZoom(); }

  function installZoom() {
    const box = $("zoom-box");
    box.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const r = box.getBoundingClientRect();
      zoomBy(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientX - r.left - r.width / 2, ev.clientY - r.top - r.height / 2);
    }, {passive: false});
    let drag = null;
    box.addEventListener("pointerdown", (ev) => {
      if (state.zoom.k === 1) return;
      drag = {x: ev.clientX, y: ev.clientY};
      box.setPointerCapture(ev.pointerId);
    });
    box.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      panBy(ev.clientX - drag.x, ev.clientY - drag.y);
      drag = {x: ev.clientX, y: ev.clientY};
    });
    box.addEventListener("pointerup", () => { drag = null; });
    box.addEventListener("dblclick", resetZoom);
  }

  // ---- grid of thumbnails -------------------------------------------------------------------
  const gridSource = () => state.grid.ids || state.order;

  function openGrid(ids = null, title = "") {
    const focus = ids ? 0 : state.pos;
    state.grid = {ids, title, start: focus - (focus % GRID_PAGE), focus};
    setTab("grid");
  }

  function renderGrid() {
    const src = gridSource(), g = state.grid;
    g.focus = Math.min(Math.max(g.focus, 0), Math.max(src.length - 1, 0));
    g.start = g.focus - (g.focus % GRID_PAGE);
    const ids = src.slice(g.start, g.start + GRID_PAGE);
    const cells = ids.map((id, k) => {
      const cell = document.createElement("div");
      cell.className = "cell";
      cell.dataset.id = id;
      cell.dataset.index = String(g.start + k);
      cell.tabIndex = -1;
      cell.setAttribute("role", "gridcell");
      const cap = document.createElement("div");
      cap.className = "cell-caption";
      const name = document.createElement("span");
      name.className = "cell-id";
      name.textContent = id;
      const badge = document.createElement("span");
      badge.className = "badge";
      cap.append(name, badge);
      cell.append(thumbnail(id), cap);
      cell.addEventListener("click", () => { g.focus = g.start + k; focusCell(); });
      cell.addEventListener("dblclick", () => openId(id));
      return cell;
    });
    $("grid").replaceChildren(...cells);
    for (const id of ids) gridSetLabel(id, state.labels.get(id));
    const end = Math.min(g.start + GRID_PAGE, src.length);
    $("grid-title").textContent = g.ids ? g.title : `${orderName()} order`;
    $("grid-page").textContent = src.length ? `${g.start + 1}–${end} of ${src.length}` : "nothing to show";
    focusCell();
  }

  function gridColumns() {
    const cells = $("grid").children;
    if (!cells.length) return 1;
    const top = cells[0].offsetTop;
    let n = 0;
    while (n < cells.length && cells[n].offsetTop === top) n += 1;
    return Math.max(n, 1);
  }

  function focusCell() {
    const g = state.grid;
    document.querySelectorAll("#grid .cell").forEach((c) => {
      const on = Number(c.dataset.index) === g.focus;
      c.classList.toggle("focus", on);
      c.setAttribute("aria-selected", String(on));
      if (on && state.tab === "grid") c.focus({preventScroll: false});
    });
    const id = gridSource()[g.focus];
    document.body.dataset.gridFocus = id === undefined ? "" : id;
    if (id !== undefined && state.grid.ids === null) state.pos = g.focus;
  }

  function gridMove(delta) {
    const src = gridSource(), g = state.grid;
    const next = Math.min(Math.max(g.focus + delta, 0), src.length - 1);
    if (next === g.focus) return;
    const page = g.start;
    g.focus = next;
    if (next < page || next >= page + GRID_PAGE) renderGrid(); else focusCell();
  }

  function gridFocusId(id) {
    const k = gridSource().indexOf(id);
    if (k < 0) return;
    const page = state.grid.start;
    state.grid.focus = k;
    if (k < page || k >= page + GRID_PAGE) renderGrid(); else focusCell();
  }

  function gridSetLabel(id, value) {
    const cell = document.querySelector(`#grid .cell[data-id="${CSS.escape(id)}"]`);
    if (!cell) return;
    cell.classList.toggle("labelled", isLabel(value));
    cell.querySelector(".badge").textContent = isLabel(value) ? String(value) : "";
    cell.dataset.label = isLabel(value) ? String(value) : "";
  }

  function gridKey(k, ev) {
    const id = gridSource()[state.grid.focus];
    if (k >= "0" && k <= "5" && k.length === 1) {
      if (id !== undefined) { label(Number(k), false, id); gridMove(1); }
      return true;
    }
    const acts = {
      ArrowRight: () => gridMove(1),
      ArrowLeft: () => gridMove(-1),
      ArrowDown: () => gridMove(gridColumns()),
      ArrowUp: () => gridMove(-gridColumns()),
      PageDown: () => gridMove(GRID_PAGE),
      PageUp: () => gridMove(-GRID_PAGE),
      Home: () => gridMove(-state.grid.focus),
      End: () => gridMove(gridSource().length),
      Enter: () => { if (id !== undefined) openId(id); },
      Escape: () => setTab(state.grid.ids ? "map" : "anomalies"),
      x: () => unlabel(id),
      Backspace: () => unlabel(id),
    };
    const act = acts[k];
    if (!act) return false;
    ev.preventDefault();
    act();
    return true;
  }

  // ---- map ----------------------------------------------------------------------------------
  const VIRIDIS = ["#440154", "#472c7a", "#3b518b", "#2c718e", "#21908d", "#27ad81", "#5cc863", "#aadc32", "#fde725"];
  function colour(v) {
    const t = Math.min(Math.max(v / 5, 0), 1) * (VIRIDIS.length - 1);
    return VIRIDIS[Math.round(t)];
  }

  async function loadMap(force) {
    if (state.map && !force) { drawMap(); return; }
    $("map-source").textContent = "computing the map…";
    try {
      const m = await api("/api/map");
      const rank = m.id.map((_, i) => i).sort((a, b) => m.S[b] - m.S[a]);
      const keep = state.map ? [...state.mapPicked].map((i) => state.map.id[i]) : [];
      state.map = {...m, rank};
      state.mapPicked = new Set(keep.map((id) => m.id.indexOf(id)).filter((i) => i >= 0));
      $("map-source").textContent = `${m.id.length} points · ${m.source}`;
      drawMap();
    } catch (err) {
      $("map-source").textContent = `map unavailable: ${err.message}`;
    }
  }

  function mapSetLabel(id, value) {
    const i = state.map.id.indexOf(id);
    if (i >= 0) {
      state.map.label[i] = isLabel(value) ? value : null;
      drawMap();
      if (i === state.mapSel) $("map-label").textContent = isLabel(value) ? String(value) : "not labelled";
    }
  }

  function drawMap() {
    const m = state.map;
    if (!m) return;
    const cv = $("map");
    const rect = cv.getBoundingClientRect();
    if (rect.width > 0) { cv.width = Math.round(rect.width); cv.height = Math.round(rect.height); }
    const ctx = cv.getContext("2d");
    const pad = 24, v = state.mapView;
    const xs = m.x, ys = m.y;
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const sx = (cv.width - 2 * pad) / (x1 - x0 || 1), sy = (cv.height - 2 * pad) / (y1 - y0 || 1);
    m.px = xs.map((x) => (pad + (x - x0) * sx) * v.k + v.tx);
    m.py = ys.map((y) => (cv.height - pad - (y - y0) * sy) * v.k + v.ty);
    const by = $("map-colour").value;
    ctx.fillStyle = "#f6f7f9";
    ctx.fillRect(0, 0, cv.width, cv.height);
    const r = Math.min(3 * Math.sqrt(v.k), 7);
    const drawOrder = m.id.map((_, i) => i).sort((a, b) => m[by][a] - m[by][b]);  // bright on top
    for (const i of drawOrder) {
      ctx.fillStyle = colour(m[by][i]);
      ctx.beginPath();
      ctx.arc(m.px[i], m.py[i], isLabel(m.label[i]) ? r + 1 : r, 0, 2 * Math.PI);
      ctx.fill();
      if (isLabel(m.label[i])) {  // labelled: the score colour kept, inside a dark ring
        ctx.strokeStyle = "#111";
        ctx.lineWidth = 1.6;
        ctx.stroke();
      }
    }
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#e6007e";
    for (const i of state.mapPicked) {
      ctx.beginPath();
      ctx.arc(m.px[i], m.py[i], r + 4, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (state.mapSel >= 0) {
      ctx.strokeStyle = "#e67e22";
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.arc(m.px[state.mapSel], m.py[state.mapSel], r + 7, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (state.mapDrag && state.mapDrag.path) {  // the box or lasso being drawn
      const p = state.mapDrag.path;
      ctx.strokeStyle = "#1f4e8c"; ctx.lineWidth = 1.5; ctx.setLineDash([5, 4]);
      ctx.fillStyle = "rgba(31, 78, 140, 0.08)";
      ctx.beginPath();
      p.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath(); ctx.fill(); ctx.stroke(); ctx.setLineDash([]);
    }
    const n = state.mapPicked.size;
    $("map-picked").textContent = n ? `${n} selected (v: grid, Esc: clear)` : "";
    $("map-grid").disabled = n === 0;
    document.body.dataset.mapPicked = String(n);
    document.body.dataset.mapZoom = v.k.toFixed(2);
  }

  async function mapSelect(i) {
    const m = state.map;
    if (!m || i < 0) return;
    state.mapSel = i;
    drawMap();
    const id = m.id[i];
    $("map-id").textContent = id;
    $("map-plot").src = plotUrl(id);
    $("map-plot").hidden = IS_CURVE;
    $("map-open").disabled = false;
    $("map-S").textContent = fmt(m.S[i]);
    $("map-score").textContent = fmt(m.score[i]);
    $("map-label").textContent = isLabel(m.label[i]) ? String(m.label[i]) : "not labelled";
    const pos = state.order.indexOf(id);
    if (pos >= 0) state.pos = pos;  // the anomaly tab now shows this object
    save();
  }

  function canvasXY(ev) {
    const cv = $("map"), r = cv.getBoundingClientRect();
    return [(ev.clientX - r.left) * (cv.width / r.width), (ev.clientY - r.top) * (cv.height / r.height)];
  }

  function nearestPoint(x, y, within = 12) {
    const m = state.map;
    if (!m || !m.px) return -1;
    let best = -1, bestD = within * within;
    m.px.forEach((px, i) => {
      const d = (px - x) ** 2 + (m.py[i] - y) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    });
    return best;
  }

  function inPolygon(x, y, poly) {
    let inside = false;
    for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
      const [xa, ya] = poly[a], [xb, yb] = poly[b];
      if ((ya > y) !== (yb > y) && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside = !inside;
    }
    return inside;
  }

  function pickIn(poly) {
    const m = state.map;
    state.mapPicked = new Set(m.id.map((_, i) => i).filter((i) => inPolygon(m.px[i], m.py[i], poly)));
  }

  // the points inside the visible part of the map (the keyboard's box selection)
  function pickVisible() {
    const cv = $("map");
    pickIn([[0, 0], [cv.width, 0], [cv.width, cv.height], [0, cv.height]]);
    drawMap();
  }

  function mapZoom(f, cx, cy) {
    const v = state.mapView, cv = $("map");
    if (cx === undefined) { cx = cv.width / 2; cy = cv.height / 2; }
    const k = Math.min(Math.max(v.k * f, 1), 64);
    v.tx = cx - ((cx - v.tx) * k) / v.k;
    v.ty = cy - ((cy - v.ty) * k) / v.k;
    v.k = k;
    if (k === 1) { v.tx = 0; v.ty = 0; }
    drawMap();
  }

  function mapPan(dx, dy) { state.mapView.tx += dx; state.mapView.ty += dy; drawMap(); }

  function setMapMode(mode) {
    state.mapMode = mode;
    document.querySelectorAll(".map-mode").forEach((b) =>
      b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
    $("map").dataset.mode = mode;
  }

  function installMap() {
    const cv = $("map");
    cv.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const [x, y] = canvasXY(ev);
      mapZoom(ev.deltaY < 0 ? 1.25 : 0.8, x, y);
    }, {passive: false});
    cv.addEventListener("pointerdown", (ev) => {
      if (!state.map) return;
      const [x, y] = canvasXY(ev);
      state.mapDrag = {x0: x, y0: y, x, y, moved: false, path: null};
      cv.setPointerCapture(ev.pointerId);
      hideHover();
    });
    cv.addEventListener("pointermove", (ev) => {
      const d = state.mapDrag;
      const [x, y] = canvasXY(ev);
      if (!d) { hover(x, y, ev); return; }
      if (Math.abs(x - d.x0) + Math.abs(y - d.y0) > 4) d.moved = true;
      if (!d.moved) return;
      if (state.mapMode === "pan") {
        mapPan(x - d.x, y - d.y);
      } else if (state.mapMode === "box") {
        d.path = [[d.x0, d.y0], [x, d.y0], [x, y], [d.x0, y]];
        drawMap();
      } else {
        d.path = (d.path || [[d.x0, d.y0]]).concat([[x, y]]);
        drawMap();
      }
      d.x = x; d.y = y;
    });
    cv.addEventListener("pointerup", (ev) => {
      const d = state.mapDrag;
      state.mapDrag = null;
      if (!d) return;
      if (!d.moved) {
        const [x, y] = canvasXY(ev);
        const i = nearestPoint(x, y);
        if (i >= 0) mapSelect(i);
        return;
      }
      if (d.path && d.path.length > 2) {
        pickIn(d.path);
        status(`${state.mapPicked.size} points selected`);
      }
      drawMap();
    });
    cv.addEventListener("mouseleave", hideHover);
    document.querySelectorAll(".map-mode").forEach((b) =>
      b.addEventListener("click", () => setMapMode(b.dataset.mode)));
    $("map-grid").addEventListener("click", openPicked);
  }

  // ---- thumbnail on hover -------------------------------------------------------------------
  let hoverAt = -1;
  function hover(x, y, ev) {
    const i = nearestPoint(x, y, 10);
    const tip = $("map-hover");
    if (i < 0) { hideHover(); return; }
    const box = $("map").parentElement.getBoundingClientRect();
    tip.style.left = `${Math.min(ev.clientX - box.left + 14, box.width - 190)}px`;
    tip.style.top = `${Math.max(ev.clientY - box.top - 160, 4)}px`;
    if (i === hoverAt && !tip.hidden) return;
    hoverAt = i;
    const m = state.map;
    const cap = document.createElement("div");
    cap.textContent = `${m.id[i]} · S ${fmt(m.S[i], 2)}` + (isLabel(m.label[i]) ? ` · label ${m.label[i]}` : "");
    tip.replaceChildren(thumbnail(m.id[i]), cap);
    tip.hidden = false;
    document.body.dataset.mapHover = m.id[i];
  }

  function hideHover() { $("map-hover").hidden = true; hoverAt = -1; }

  function openPicked() {
    const m = state.map;
    if (!m || !state.mapPicked.size) { status("select points first (box, lasso or s)"); return; }
    const ids = [...state.mapPicked].sort((a, b) => m.S[b] - m.S[a]).map((i) => m.id[i]);
    openGrid(ids, `map selection (${ids.length})`);
  }

  function mapStep(delta) {
    const m = state.map;
    if (!m) return;
    const k = m.rank.indexOf(state.mapSel);
    const next = k < 0 ? 0 : Math.min(Math.max(k + delta, 0), m.rank.length - 1);
    mapSelect(m.rank[next]);
  }

  function mapKey(k, ev) {
    const step = 60;
    const acts = {
      "+": () => mapZoom(1.25), "=": () => mapZoom(1.25), "-": () => mapZoom(0.8),
      Home: () => { state.mapView = {k: 1, tx: 0, ty: 0}; drawMap(); },
      s: pickVisible,
      v: openPicked,
      b: () => setMapMode("box"), l: () => setMapMode("lasso"), h: () => setMapMode("pan"),
      Escape: () => { state.mapPicked.clear(); drawMap(); },
      Enter: () => { if (state.mapSel >= 0) openId(state.map.id[state.mapSel]); },
    };
    if (ev.shiftKey && k.startsWith("Arrow")) {
      const d = {ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step]}[k];
      ev.preventDefault();
      mapPan(...d);
      return true;
    }
    if (k === "ArrowRight" || k === "ArrowLeft") {
      ev.preventDefault();
      mapStep(k === "ArrowRight" ? 1 : -1);
      return true;
    }
    if (k >= "0" && k <= "5" && k.length === 1) {
      ev.preventDefault();
      if (state.mapSel >= 0) label(Number(k), false, state.map.id[state.mapSel]);
      return true;
    }
    if (k === "x" || k === "Backspace") {
      ev.preventDefault();
      if (state.mapSel >= 0) unlabel(state.map.id[state.mapSel]);
      return true;
    }
    const act = acts[k];
    if (!act) return false;
    ev.preventDefault();
    act();
    return true;
  }

  // ---- keyboard -----------------------------------------------------------------------------
  function anomaliesKey(k, ev) {
    if (k >= "0" && k <= "5" && k.length === 1) { ev.preventDefault(); label(Number(k)); return true; }
    const step = 60;
    if (ev.shiftKey && k.startsWith("Arrow")) {
      const d = {ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step]}[k];
      ev.preventDefault();
      panBy(...d);
      return true;
    }
    const acts = {
      ArrowRight: () => go(1),
      ArrowLeft: () => go(-1),
      x: () => unlabel(state.order[state.pos]),
      Backspace: () => unlabel(state.order[state.pos]),
      "+": () => zoomBy(1.25), "=": () => zoomBy(1.25), "-": () => zoomBy(0.8),
      Home: resetZoom,
      p: toggleFold,
    };
    const act = acts[k];
    if (!act) return false;
    ev.preventDefault();
    act();
    return true;
  }

  function toggleFold() {
    if (!CAN_FOLD) { status("folding applies to light curves"); return; }
    state.fold = !state.fold;
    $("fold").checked = state.fold;
    status(state.fold ? "light curves folded on the period where one is known" : "light curves against time");
    save();
    show();
  }

  function onKey(ev) {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || $("confirm-delete").open) return;
    const k = ev.key;
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && (k === "z" || k === "Z")) {
      ev.preventDefault();
      undo();
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (k === "Enter" && tag === "button") return;  // let buttons handle their own Enter
    const byTab = {anomalies: anomaliesKey, grid: gridKey, map: mapKey}[state.tab];
    if (byTab(k, ev)) return;
    const actions = {
      u: undo,
      r: retrain,
      m: () => setTab(state.tab === "map" ? "anomalies" : "map"),
      v: () => (state.tab === "grid" ? setTab("anomalies") : openGrid()),
      g: () => $("jump").focus(),
      "/": () => $("jump").focus(),
      j: () => { setTab("anomalies"); $("position").value = ""; $("position").focus(); },
      o: () => {
        const at = FIXED_ORDERS.indexOf(state.by);
        changeOrder(FIXED_ORDERS[(at + 1) % FIXED_ORDERS.length], state.unlabelledFirst, "desc");
      },
      f: () => changeOrder(state.by, !state.unlabelledFirst),
      Delete: deleteLabels,
    };
    const act = actions[k];
    if (act) {
      ev.preventDefault();
      act();
    }
  }

  // ---- start --------------------------------------------------------------------------------
  function installControls() {
    document.querySelectorAll(".label-btn").forEach((b) =>
      b.addEventListener("click", () => label(Number(b.dataset.label))));
    $("prev").addEventListener("click", () => go(-1));
    $("next").addEventListener("click", () => go(1));
    $("undo").addEventListener("click", undo);
    $("unlabel").addEventListener("click", () => unlabel(state.order[state.pos]));
    $("retrain").addEventListener("click", retrain);
    $("delete-labels").addEventListener("click", deleteLabels);
    // a choice made, the keys label again (the select gives the focus back)
    $("order").addEventListener("change", () => {
      $("order").blur();
      changeOrder($("order").value, state.unlabelledFirst);
    });
    $("order-dir").addEventListener("change", () => {
      $("order-dir").blur();
      changeOrder(state.by, state.unlabelledFirst, $("order-dir").value);
    });
    for (const key of ["stretch", "mode"]) {
      const el = $(`display-${key}`);
      if (el) el.addEventListener("change", () => { display[key] = el.value; show(); });
    }
    if (CAN_FOLD) $("fold").addEventListener("change", () => { if ($("fold").checked !== state.fold) toggleFold(); });
    $("unlabelled-first").addEventListener("change",
      () => changeOrder(state.by, $("unlabelled-first").checked));
    $("jump-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const id = $("jump").value;  // exact: an id may begin or end with a space
      if (id.trim() && openId(id)) { $("jump").value = ""; $("jump").blur(); }
    });
    $("position-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = $("position").value.trim();
      if (text && goPosition(Number(text))) { $("position").value = ""; $("position").blur(); }
    });
    for (const box of ["jump", "position"]) {
      $(box).addEventListener("keydown", (ev) => { if (ev.key === "Escape") $(box).blur(); });
    }
    for (const tab of ["anomalies", "map"]) $(`tab-${tab}`).addEventListener("click", () => setTab(tab));
    $("tab-grid").addEventListener("click", () => openGrid());
    $("map-colour").addEventListener("change", drawMap);
    $("map-open").addEventListener("click", () => { if (state.mapSel >= 0) openId(state.map.id[state.mapSel]); });
    window.addEventListener("resize", () => { drawMap(); });
    document.addEventListener("keydown", onKey);
    installZoom();
    installMap();
  }

  async function init() {
    installControls();
    try {
      const info = await api("/api/info");
      state.axis = info.curve_axis || null;
      state.sortColumns = info.sort_columns || {feature: [], meta: []};
    } catch (e) { state.axis = null; }
    fillOrderChoices(state.sortColumns);
    const saved = restore();
    state.by = knownOrder(saved.by) ? saved.by : "score";
    state.dir = saved.dir === "asc" ? "asc" : "desc";
    // unlabelled first unless this browser turned it off for this dataset and user
    state.unlabelledFirst = saved.unlabelledFirst !== false;
    state.fold = saved.fold !== false;
    if (CAN_FOLD) $("fold").checked = state.fold;
    $("order").value = state.by;
    $("order-dir").value = state.dir;
    $("unlabelled-first").checked = state.unlabelledFirst;
    try {
      await loadLabels();
      await loadOrder(saved.id);
    } catch (err) {
      status(`cannot load the object list: ${err.message}`, true);
      return;
    }
    if (saved.id !== undefined && state.order[state.pos] === saved.id) {
      status(`resumed at object ${saved.id}`);
    } else if (state.labelled > 0) {
      // No saved position (new browser): resume at the first object not yet labelled.
      state.pos = firstUnlabelled();
      status(`${state.labelled} labels found; resuming at the first unlabelled object`);
    }
    setTab(["map", "grid"].includes(saved.tab) ? saved.tab : "anomalies");
    await show();
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", init);
})();
