// astroanom labeller: "Send to TOPCAT/Aladin" over SAMP (POST /api/samp; see labeller/vo.py).
// Kept apart from app.js: it reads only the page's controls. window.astroanomSamp.send(ids)
// sends any selection (e.g. the map's) the same way.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOP_N = 50;

  function say(text, isError = false) {
    const el = $("samp-status");
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("error", isError);
  }

  async function post(body) {
    const token = document.querySelector('meta[name="csrf-token"]').content;
    const resp = await fetch("/api/samp", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = {error: resp.statusText}; }
    if (!resp.ok) throw new Error(data && data.error ? data.error : `HTTP ${resp.status}`);
    return data;
  }

  function report(res) {
    const parts = res.sent.map((s) => s.recipients.length
      ? `${s.mtype === "coord.pointAt.sky" ? "pointed" : `${res.rows} rows`} → ${s.recipients.join(", ")}`
      : s.detail);
    say(parts.join("; "));
  }

  async function send(body) {
    say("sending…");
    try { report(await post(body)); } catch (err) { say(err.message, true); }
  }

  function sendTop() {
    const current = $("obj-id") ? $("obj-id").textContent : "";
    const body = {
      top: TOP_N,
      by: $("order") ? $("order").value : "score",
      unlabelled_first: Boolean($("unlabelled-first") && $("unlabelled-first").checked),
    };
    if (current && current !== "–") body.point = current;
    return send(body);
  }

  window.astroanomSamp = {send: (ids) => send({ids: Array.from(ids)})};
  document.addEventListener("DOMContentLoaded", () => {
    const btn = $("samp-send");
    if (btn) btn.addEventListener("click", sendTop);
  });
})();
