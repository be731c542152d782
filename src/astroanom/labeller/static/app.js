// astroanom labeller: plain JavaScript, no build step. Talks to the JSON API in app.py.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const TOKEN = meta("csrf-token");
  const STORE_KEY = `astroanom:${meta("dataset")}:${meta("user")}`;
  const IS_CURVE = meta("draws-in-page") === "1";
  const READ_ONLY = meta("read-only") === "1";

  const state = {
    ids: null,          // every id, in row order (fetched once)
    order: [],          // ids in display order
    exact: 0,           // how many at the top of the order are ranked for certain
    retrained: null,    // the last retrain's answer, while its order is not complete
    orderGen: 0,        // bumped by every order request; late answers are dropped
    pos: 0,             // index into order
    by: "score",
    unlabelledFirst: false,
    labelled: 0,
    total: 0,
    cache: new Map(),   // id -> object JSON
    pending: Promise.resolve(),  // label POSTs, in order
    tab: "anomalies",
    map: null,          // {id, x, y, S, score, label, px, py, rank}
    mapSel: -1,
    axis: null,         // curves: {x, x_label, y_label}
  };

  // ---- helpers ------------------------------------------------------------------------------
  const fmt = (v, digits = 3) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
  // images: the display choices of this page (stretch, bands), kept while it is open
  const display = {stretch: "", mode: "auto"};
  const plotUrl = (id) => {
    let url = `/api/plot?id=${encodeURIComponent(id)}`;
    if (display.stretch) url += `&stretch=${display.stretch}`;
    if (display.mode !== "auto") url += `&mode=${display.mode}`;
    return url;
  };

  function status(text, isError = false) {
    const el = $("status");
    el.textContent = text;
    el.classList.toggle("error", isError);
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
        by: state.by, unlabelledFirst: state.unlabelledFirst,
        id: state.order[state.pos], tab: state.tab,
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

  function drawCurve(obj) {
    const cv = $("curve"), ctx = cv.getContext("2d");
    const W = cv.width, H = cv.height, L = 80, R = 20, T = 44, B = 64;
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
    ctx.strokeStyle = "#1f4e8c"; ctx.lineWidth = 2; ctx.beginPath();
    let pen = false;
    ys.forEach((y, i) => {
      if (!Number.isFinite(y)) { pen = false; return; }
      if (pen) ctx.lineTo(px(xs[i]), py(y)); else ctx.moveTo(px(xs[i]), py(y));
      pen = true;
    });
    ctx.stroke();
    ctx.fillStyle = "#1d2330"; ctx.textAlign = "center"; ctx.textBaseline = "alphabetic";
    ctx.font = "17px system-ui, sans-serif";
    ctx.fillText(`object ${obj.id}`, W / 2, 28);
    ctx.font = "15px system-ui, sans-serif";
    ctx.fillText(state.axis ? state.axis.x_label : "feature", L + (W - L - R) / 2, H - 16);
    ctx.save(); ctx.translate(20, T + (H - T - B) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(state.axis ? state.axis.y_label : "value", 0, 0); ctx.restore();
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
    $("obj-label").textContent = label === null || label === undefined ? "not labelled" : String(label);
    document.querySelectorAll(".label-btn").forEach((b) => {
      b.classList.toggle("chosen", label !== null && label !== undefined && Number(b.dataset.label) === label);
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
    showLabel(obj.label);
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

  // ---- labelling ----------------------------------------------------------------------------
  function label(value, advance = true, id = state.order[state.pos]) {
    if (id === undefined) return;
    if (READ_ONLY) { status("read-only: labels cannot be given here", true); return; }
    const before = state.cache.get(id);
    state.pending = state.pending.then(async () => {
      try {
        const res = await api("/api/label", {id, label: value});
        state.labelled = res.labelled;
        const obj = await getObject(id).catch(() => null);
        if (obj) obj.label = res.label;
        if (state.order[state.pos] === id) showLabel(res.label);
        if (state.map) mapSetLabel(id, res.label);
        updateProgress();
        status(`labelled ${id} as ${res.label}`);
      } catch (err) {
        status(`label not saved: ${err.message}`, true);
        if (before) state.cache.delete(id);
      }
    });
    if (advance && state.tab === "anomalies") go(1);
    return state.pending;
  }

  async function loadIds() {
    // every id once, in row order; orders then arrive as 4-byte row numbers
    if (state.ids === null) state.ids = (await api("/api/ids")).ids;
    return state.ids;
  }

  async function fetchOrder(partial) {
    const resp = await fetch(
      `/api/order?by=${state.by}&unlabelled_first=${state.unlabelledFirst ? 1 : 0}` +
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
      $("order").value = "retrained";
      state.retrained = res.complete ? null : res;
      await loadOrder();
      if (state.map) await loadMap(true);
      status(retrainMessage(res, state.retrained === null));
      document.body.dataset.retrained = String(res.n_labels);
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
        state.labelled = res.labelled;
        if (state.map) await loadMap(true);
        status(`deleted ${res.removed} labels (still in the log file)`);
        show();
      } catch (err) {
        status(`delete failed: ${err.message}`, true);
      }
    }, {once: true});
  }

  async function changeOrder(by, unlabelledFirst) {
    const keep = state.order[state.pos];
    state.by = by;
    state.unlabelledFirst = unlabelledFirst;
    state.retrained = null;  // a retrain's message no longer applies
    $("order").value = by;
    $("unlabelled-first").checked = unlabelledFirst;
    await loadOrder();
    status(`ordered by ${$("order").selectedOptions[0].textContent}` +
           (unlabelledFirst ? ", unlabelled first" : "") + (keep ? "" : ""));
    show();
  }

  // ---- tabs ---------------------------------------------------------------------------------
  function setTab(tab) {
    state.tab = tab;
    const isMap = tab === "map";
    $("view-anomalies").hidden = isMap;
    $("view-map").hidden = !isMap;
    $("tab-anomalies").setAttribute("aria-selected", String(!isMap));
    $("tab-map").setAttribute("aria-selected", String(isMap));
    if (isMap) {
      loadMap(false).then(() => $("map").focus());
    }
    save();
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
      state.map = {...m, rank};
      $("map-source").textContent = `${m.id.length} points · ${m.source}`;
      drawMap();
    } catch (err) {
      $("map-source").textContent = `map unavailable: ${err.message}`;
    }
  }

  function mapSetLabel(id, value) {
    const i = state.map.id.indexOf(id);
    if (i >= 0) { state.map.label[i] = value; drawMap(); }
  }

  function drawMap() {
    const m = state.map;
    if (!m) return;
    const cv = $("map");
    const rect = cv.getBoundingClientRect();
    if (rect.width > 0) { cv.width = Math.round(rect.width); cv.height = Math.round(rect.height); }
    const ctx = cv.getContext("2d");
    const pad = 24;
    const xs = m.x, ys = m.y;
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const sx = (cv.width - 2 * pad) / (x1 - x0 || 1), sy = (cv.height - 2 * pad) / (y1 - y0 || 1);
    m.px = xs.map((x) => pad + (x - x0) * sx);
    m.py = ys.map((y) => cv.height - pad - (y - y0) * sy);
    const by = $("map-colour").value;
    ctx.fillStyle = "#f6f7f9";
    ctx.fillRect(0, 0, cv.width, cv.height);
    const drawOrder = m.id.map((_, i) => i).sort((a, b) => m[by][a] - m[by][b]);  // bright on top
    for (const i of drawOrder) {
      ctx.fillStyle = colour(m[by][i]);
      ctx.beginPath();
      ctx.arc(m.px[i], m.py[i], 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.font = "bold 13px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    m.id.forEach((_, i) => {
      if (m.label[i] === null || m.label[i] === undefined) return;
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#fff";
      ctx.strokeText(String(m.label[i]), m.px[i], m.py[i]);
      ctx.fillStyle = "#c0392b";
      ctx.fillText(String(m.label[i]), m.px[i], m.py[i]);
    });
    if (state.mapSel >= 0) {
      ctx.strokeStyle = "#e67e22";
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.arc(m.px[state.mapSel], m.py[state.mapSel], 9, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  async function mapSelect(i) {
    const m = state.map;
    if (!m || i < 0) return;
    state.mapSel = i;
    drawMap();
    const id = m.id[i];
    $("map-id").textContent = id;
    $("map-plot").src = plotUrl(id);
    $("map-plot").hidden = false;
    $("map-open").disabled = false;
    $("map-S").textContent = fmt(m.S[i]);
    $("map-score").textContent = fmt(m.score[i]);
    $("map-label").textContent = m.label[i] === null ? "not labelled" : String(m.label[i]);
    const pos = state.order.indexOf(id);
    if (pos >= 0) state.pos = pos;  // the anomaly tab now shows this object
    save();
  }

  function mapClick(ev) {
    const m = state.map;
    if (!m || !m.px) return;
    const cv = $("map");
    const r = cv.getBoundingClientRect();
    const x = (ev.clientX - r.left) * (cv.width / r.width), y = (ev.clientY - r.top) * (cv.height / r.height);
    let best = -1, bestD = 144;  // within 12 px
    m.px.forEach((px, i) => {
      const d = (px - x) ** 2 + (m.py[i] - y) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    });
    if (best >= 0) mapSelect(best);
  }

  function mapStep(delta) {
    const m = state.map;
    if (!m) return;
    const k = m.rank.indexOf(state.mapSel);
    const next = k < 0 ? 0 : Math.min(Math.max(k + delta, 0), m.rank.length - 1);
    mapSelect(m.rank[next]);
  }

  // ---- keyboard -----------------------------------------------------------------------------
  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || $("confirm-delete").open) return;
    const k = ev.key;
    if (k >= "0" && k <= "5" && k.length === 1) {
      ev.preventDefault();
      if (state.tab === "map") {
        if (state.mapSel >= 0) label(Number(k), false, state.map.id[state.mapSel]);
      } else {
        label(Number(k));
      }
      return;
    }
    const actions = {
      ArrowRight: () => (state.tab === "map" ? mapStep(1) : go(1)),
      ArrowLeft: () => (state.tab === "map" ? mapStep(-1) : go(-1)),
      Enter: () => { if (state.tab === "map" && state.mapSel >= 0) openId(state.map.id[state.mapSel]); },
      r: retrain,
      m: () => setTab(state.tab === "map" ? "anomalies" : "map"),
      g: () => $("jump").focus(),
      "/": () => $("jump").focus(),
      o: () => {
        const orders = ["score", "retrained", "random"];
        changeOrder(orders[(orders.indexOf(state.by) + 1) % orders.length], state.unlabelledFirst);
      },
      u: () => changeOrder(state.by, !state.unlabelledFirst),
      Delete: deleteLabels,
    };
    if (k === "Enter" && tag === "button") return;  // let buttons handle their own Enter
    const act = actions[k];
    if (act) {
      ev.preventDefault();
      act();
    }
  }

  // ---- start --------------------------------------------------------------------------------
  async function init() {
    document.querySelectorAll(".label-btn").forEach((b) =>
      b.addEventListener("click", () => label(Number(b.dataset.label))));
    $("prev").addEventListener("click", () => go(-1));
    $("next").addEventListener("click", () => go(1));
    $("retrain").addEventListener("click", retrain);
    $("delete-labels").addEventListener("click", deleteLabels);
    $("order").addEventListener("change", () => changeOrder($("order").value, state.unlabelledFirst));
    for (const key of ["stretch", "mode"]) {
      const el = $(`display-${key}`);
      if (el) el.addEventListener("change", () => { display[key] = el.value; show(); });
    }
    $("unlabelled-first").addEventListener("change",
      () => changeOrder(state.by, $("unlabelled-first").checked));
    $("jump-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const id = $("jump").value;  // exact: an id may begin or end with a space
      if (id.trim() && openId(id)) { $("jump").value = ""; $("jump").blur(); }
    });
    $("jump").addEventListener("keydown", (ev) => { if (ev.key === "Escape") $("jump").blur(); });
    $("tab-anomalies").addEventListener("click", () => setTab("anomalies"));
    $("tab-map").addEventListener("click", () => setTab("map"));
    $("map").addEventListener("click", mapClick);
    $("map-colour").addEventListener("change", drawMap);
    $("map-open").addEventListener("click", () => { if (state.mapSel >= 0) openId(state.map.id[state.mapSel]); });
    window.addEventListener("resize", drawMap);
    document.addEventListener("keydown", onKey);

    if (IS_CURVE) {
      try { state.axis = (await api("/api/info")).curve_axis; } catch (e) { state.axis = null; }
    }
    const saved = restore();
    state.by = ["score", "retrained", "random"].includes(saved.by) ? saved.by : "score";
    state.unlabelledFirst = Boolean(saved.unlabelledFirst);
    $("order").value = state.by;
    $("unlabelled-first").checked = state.unlabelledFirst;
    try {
      await loadOrder(saved.id);
    } catch (err) {
      status(`cannot load the object list: ${err.message}`, true);
      return;
    }
    if (saved.id !== undefined && state.order[state.pos] === saved.id) {
      status(`resumed at object ${saved.id}`);
    } else if (state.labelled > 0) {
      // No saved position (new browser): resume at the first object not yet labelled.
      const done = new Set((await api("/api/labels")).labels.map((r) => r.id));
      const first = state.order.findIndex((id) => !done.has(id));
      state.pos = first >= 0 ? first : 0;
      status(`${state.labelled} labels found; resuming at the first unlabelled object`);
    }
    setTab(saved.tab === "map" ? "map" : "anomalies");
    await show();
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", init);
})();
