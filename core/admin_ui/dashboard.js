// core/admin_ui/dashboard.js: fills the dashboard from the admin server's
// /metrics (Prometheus text) and /api/summary (JSON) every few seconds.
//
// Every number on the page is an aggregate of /metrics series read in one
// fetch, so the page never mixes two moments: an element with
// data-metric="NAME" shows the sum (or with data-agg="max" the maximum) of
// the series NAME whose labels match data-match ("k=v,k2=v2"), and keeps the
// exact value in data-value. Rates ("per min") are the difference between
// two refreshes divided by the time between them; the raw difference and the
// interval stay in data-delta and data-interval-ms so a test can check them.
//
// ?refresh=SECONDS sets the period (default 2); ?refresh=0 refreshes only
// when window.mxsDashboard.refresh() is called (tests drive it that way).
//
// With admin.bearer_token_file set, the page's own files are public but its
// data is not: every fetch sends "Authorization: Bearer TOKEN" when the tab
// has a token, and a 401 shows a form that asks for it. The token is kept in
// this tab's sessionStorage only (gone when the tab closes; never in
// localStorage, a cookie or the URL, so it is not in history or logs).
"use strict";

(function () {
  const HISTORY = 60; // bars kept in the outcome chart
  const ALLOW = ["pass_new", "pass_old", "allowlisted"];
  const DENY = ["denylisted", "rejected", "dropped", "limit", "listener_fail"];
  const TOP_ROWS = 10;

  // --- /metrics parsing ----------------------------------------------------

  // Prometheus text format 0.0.4 -> Map(name -> [{labels, value}]).
  // Comment lines and anything unparsable are skipped: one odd line must
  // not blank the whole page.
  function parseMetrics(text) {
    const out = new Map();
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line[0] === "#") continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
      if (!m) continue;
      const name = m[1];
      let i = name.length;
      const labels = {};
      if (line[i] === "{") {
        i = parseLabels(line, i + 1, labels);
        if (i < 0) continue;
      }
      const rest = line.slice(i).trim().split(/\s+/);
      const value = parseValue(rest[0]);
      if (value === null) continue;
      if (!out.has(name)) out.set(name, []);
      out.get(name).push({ labels: labels, value: value });
    }
    return out;
  }

  // Reads `a="x",b="y"}` from line[i]; fills labels; returns the index after
  // the closing brace, or -1 when malformed.
  function parseLabels(line, i, labels) {
    for (;;) {
      while (line[i] === " " || line[i] === ",") i++;
      if (line[i] === "}") return i + 1;
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(line.slice(i));
      if (!m) return -1;
      i += m[0].length;
      let value = "";
      for (;;) {
        if (i >= line.length) return -1;
        const c = line[i++];
        if (c === '"') break;
        if (c === "\\") {
          const e = line[i++];
          value += e === "n" ? "\n" : e;
        } else {
          value += c;
        }
      }
      labels[m[1]] = value;
    }
  }

  function parseValue(s) {
    if (s === undefined) return null;
    if (s === "+Inf" || s === "Inf") return Infinity;
    if (s === "-Inf") return -Infinity;
    if (s === "NaN") return NaN;
    const v = Number(s);
    return Number.isNaN(v) ? null : v;
  }

  // "k=v,k2=v2" -> {k: "v", k2: "v2"}.
  function parseMatch(s) {
    const out = {};
    if (!s) return out;
    for (const part of s.split(",")) {
      const eq = part.indexOf("=");
      if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
    }
    return out;
  }

  function matches(labels, want) {
    for (const k in want) if (labels[k] !== want[k]) return false;
    return true;
  }

  // Sum (or max) of the matching series; 0 when there are none yet (a fresh
  // gateway has not created most series).
  function aggregate(metrics, name, want, how) {
    let total = 0;
    for (const s of metrics.get(name) || []) {
      if (!matches(s.labels, want)) continue;
      total = how === "max" ? Math.max(total, s.value) : total + s.value;
    }
    return total;
  }

  // Distinct values of one label across a metric's series, sorted.
  function labelValues(metrics, name, label) {
    const seen = new Set();
    for (const s of metrics.get(name) || []) {
      if (label in s.labels) seen.add(s.labels[label]);
    }
    return Array.from(seen).sort();
  }

  // --- formatting ----------------------------------------------------------

  const intFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

  function fmtCount(v) {
    return Number.isFinite(v) ? intFormat.format(v) : String(v);
  }

  function fmtRate(perMin) {
    return perMin.toFixed(1);
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // An id fragment safe for any label value (list domains, addresses).
  function idPart(s) {
    return String(s).replace(/[^A-Za-z0-9_.-]/g, "_");
  }

  // --- state ---------------------------------------------------------------

  const state = {
    prev: null, // {t, values: Map(id -> value)} of the previous refresh
    history: [], // [{allow, deny, hangup}] per refresh, oldest first
  };

  const api = {
    samples: 0, // completed refreshes
    lastError: null,
    intervalMs: 2000,
    refresh: refresh,
    parseMetrics: parseMetrics,
    tokenCheck: null, // the refresh a token submit started (tests await it)
  };
  window.mxsDashboard = api;

  // --- rendering -----------------------------------------------------------

  // Fills every [data-metric] element from one /metrics snapshot; returns
  // Map(id -> value) for the rate computation.
  function fillMetricElements(metrics) {
    const values = new Map();
    for (const e of document.querySelectorAll("[data-metric]")) {
      const name = e.dataset.metric;
      if (e.dataset.label) {
        // A label's value is the number (mxs_config_info{version}).
        const series = (metrics.get(name) || []).find((s) => s.value === 1);
        const v = series ? series.labels[e.dataset.label] : "";
        e.dataset.value = v;
        e.textContent = v === "" ? "\u2013" : v;
        continue;
      }
      const v = aggregate(metrics, name, parseMatch(e.dataset.match), e.dataset.agg);
      e.dataset.value = String(v);
      if (e.dataset.display === "onoff") {
        e.textContent = v > 0 ? "on" : "off";
        e.classList.toggle("on", v > 0);
      } else {
        e.textContent = fmtCount(v);
      }
      if (e.id) values.set(e.id, v);
    }
    return values;
  }

  // How much a counter grew from `before` to `now`. A counter that went
  // down was reset (the gateway restarted): it grew by its whole new value,
  // as Prometheus's increase() counts it.
  function increase(before, now) {
    return now >= before ? now - before : now;
  }

  // Rates per minute for every [data-rate-of=ID] from this refresh's and the
  // previous refresh's value of element ID. A series that did not exist at
  // the previous refresh was 0 then (counters start at 0).
  function fillRates(values, now) {
    const prev = state.prev;
    for (const e of document.querySelectorAll("[data-rate-of]")) {
      const id = e.dataset.rateOf;
      if (!prev || !values.has(id)) {
        e.textContent = "\u2013";
        e.dataset.delta = "";
        e.dataset.intervalMs = "";
        continue;
      }
      const delta = increase(prev.values.get(id) || 0, values.get(id));
      const ms = Math.max(1, Math.round(now - prev.t));
      e.dataset.delta = String(delta);
      e.dataset.intervalMs = String(ms);
      e.textContent = fmtRate((delta * 60000) / ms);
    }
  }

  function emptyRow(tbody, columns, text) {
    const tr = el("tr", { class: "empty" });
    tr.appendChild(el("td", { colspan: String(columns) }, text));
    tbody.appendChild(tr);
  }

  // A cell that shows one metric aggregate (filled by fillMetricElements).
  function metricCell(id, name, match) {
    return el("td", { class: "num", id: id, "data-metric": name, "data-match": match }, "0");
  }

  function rateCell(ofId) {
    return el("td", { class: "num", "data-rate-of": ofId }, "\u2013");
  }

  // Rebuilds the tables whose rows depend on which series exist: filters,
  // reply codes, DNS lists. Their cells are then filled like the static ones.
  function buildDynamicRows(metrics) {
    const filters = labelValues(metrics, "mxs_filter_verdicts_total", "filter");
    const tbody = document.getElementById("filter-rows");
    tbody.replaceChildren();
    for (const f of filters) {
      const tr = el("tr", { "data-filter": f });
      tr.appendChild(el("th", { scope: "row" }, f));
      const id = "filter-" + idPart(f) + "-";
      for (const v of ["pass", "cached", "fail", "would_fail"]) {
        tr.appendChild(metricCell(id + v, "mxs_filter_verdicts_total", "filter=" + f + ",verdict=" + v));
      }
      tr.appendChild(rateCell(id + "fail"));
      tr.appendChild(rateCell(id + "would_fail"));
      tbody.appendChild(tr);
    }
    if (filters.length === 0) emptyRow(tbody, 7, "No verdicts yet.");

    const codes = labelValues(metrics, "mxs_rejections_total", "code");
    const cbody = document.getElementById("code-rows");
    cbody.replaceChildren();
    for (const c of codes) {
      const tr = el("tr", { "data-code": c });
      tr.appendChild(el("th", { scope: "row" }, c));
      tr.appendChild(metricCell("code-" + idPart(c), "mxs_rejections_total", "code=" + c));
      tr.appendChild(rateCell("code-" + idPart(c)));
      cbody.appendChild(tr);
    }
    if (codes.length === 0) emptyRow(cbody, 3, "No rejections yet.");

    const lists = Array.from(
      new Set(
        labelValues(metrics, "mxs_dnsbl_lookups_total", "list").concat(
          labelValues(metrics, "mxs_dnsbl_hits_total", "list"),
        ),
      ),
    ).sort();
    const dbody = document.getElementById("dnsbl-rows");
    dbody.replaceChildren();
    for (const l of lists) {
      const tr = el("tr", { "data-list": l });
      tr.appendChild(el("th", { scope: "row" }, l));
      const id = "dnsbl-" + idPart(l) + "-";
      tr.appendChild(metricCell(id + "lookups", "mxs_dnsbl_lookups_total", "list=" + l));
      tr.appendChild(metricCell(id + "hits", "mxs_dnsbl_hits_total", "list=" + l));
      tr.appendChild(rateCell(id + "hits"));
      dbody.appendChild(tr);
    }
    if (lists.length === 0) emptyRow(dbody, 4, "No DNS list lookups yet.");
  }

  // The top lists of /api/summary: [{client|network, rejections, error}].
  // The counts come from a bounded top-k table: `error` is how much a count
  // may be over (0: exact), shown as "at most" when not 0.
  function fillTop(tbodyId, rows, key, columnsEmptyText) {
    const tbody = document.getElementById(tbodyId);
    tbody.replaceChildren();
    const list = Array.isArray(rows) ? rows.slice(0, TOP_ROWS) : [];
    list.forEach(function (r, i) {
      const tr = el("tr", { "data-rank": String(i + 1) });
      tr.appendChild(el("th", { scope: "row", class: "key" }, String(r[key])));
      const td = el("td", { class: "num", "data-value": String(r.rejections) }, fmtCount(r.rejections));
      if (r.error > 0) {
        td.textContent = "\u2264 " + fmtCount(r.rejections);
        td.title = "approximate: at most " + r.error + " too high";
      }
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
    if (list.length === 0) emptyRow(tbody, 2, columnsEmptyText);
  }

  function fillSummary(summary) {
    if (!summary) {
      const note = "Not available (no /api/summary).";
      fillTop("client-rows", [], "client", note);
      fillTop("network-rows", [], "network", note);
      return;
    }
    fillTop("client-rows", summary.top_clients, "client", "No rejected clients yet.");
    fillTop("network-rows", summary.top_networks, "network", "No rejected networks yet.");
  }

  // One bar per refresh: connections concluded since the previous refresh.
  function recordHistory(metrics) {
    const sum = (names) =>
      names.reduce((t, o) => t + aggregate(metrics, "mxs_connection_outcomes_total", { outcome: o }), 0);
    const now = { allow: sum(ALLOW), deny: sum(DENY), hangup: sum(["hangup"]) };
    if (state.lastTotals) {
      state.history.push({
        allow: increase(state.lastTotals.allow, now.allow),
        deny: increase(state.lastTotals.deny, now.deny),
        hangup: increase(state.lastTotals.hangup, now.hangup),
      });
      if (state.history.length > HISTORY) state.history.shift();
    }
    state.lastTotals = now;
  }

  function drawChart() {
    const canvas = document.getElementById("outcome-chart");
    const css = getComputedStyle(document.documentElement);
    const color = (v) => css.getPropertyValue(v).trim();
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 1200;
    const h = canvas.clientHeight || 180;
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = "12px system-ui, 'DejaVu Sans', sans-serif";

    const hist = state.history;
    const top = Math.max(1, ...hist.map((b) => b.allow + b.deny + b.hangup));
    const left = 44, right = 8, topPad = 10, bottom = 20;
    const plotW = w - left - right, plotH = h - topPad - bottom;

    // Axis: 0 and the maximum, with a light grid line at each.
    g.fillStyle = color("--muted");
    g.strokeStyle = color("--line");
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (const [v, y] of [[0, topPad + plotH], [top, topPad]]) {
      g.fillText(fmtCount(v), left - 6, y);
      g.beginPath();
      g.moveTo(left, y + 0.5);
      g.lineTo(w - right, y + 0.5);
      g.stroke();
    }
    g.textAlign = "left";
    g.textBaseline = "alphabetic";
    g.fillText("older", left, h - 4);
    g.textAlign = "right";
    g.fillText("now", w - right, h - 4);

    const last = hist[hist.length - 1];
    const quiet = hist.every((b) => b.allow + b.deny + b.hangup === 0);
    if (!last || quiet) {
      g.textAlign = "center";
      g.fillText(last ? "No connections concluded since the page opened."
                      : "Waiting for the next refresh\u2026", left + plotW / 2, topPad + plotH / 2);
    }
    if (!last) return;
    const slot = plotW / HISTORY;
    const barW = Math.max(1, slot * 0.75);
    hist.forEach(function (b, i) {
      const x = left + (HISTORY - hist.length + i) * slot + (slot - barW) / 2;
      let y = topPad + plotH;
      for (const [v, c] of [[b.allow, "--allow"], [b.deny, "--deny"], [b.hangup, "--hangup"]]) {
        const bh = (v / top) * plotH;
        g.fillStyle = color(c);
        g.fillRect(x, y - bh, barW, bh);
        y -= bh;
      }
    });
    canvas.setAttribute(
      "aria-label",
      "Connections per refresh, last " + hist.length + " refreshes; the latest: " +
        last.allow + " allowed, " + last.deny + " denied, " + last.hangup + " hang-ups",
    );
    canvas.dataset.lastAllow = String(last.allow);
    canvas.dataset.lastDeny = String(last.deny);
    canvas.dataset.lastHangup = String(last.hangup);
  }

  function setStatus(text, error) {
    document.getElementById("status-text").textContent = text;
    const status = document.querySelector(".top .status");
    const wasError = status.classList.contains("error");
    status.classList.toggle("error", !!error);
    if (wasError !== !!error) {
      document.getElementById("alert").textContent = error ? text : "Connected to the gateway again.";
    }
  }

  // --- the admin token ------------------------------------------------------

  const TOKEN_KEY = "mxscreen.adminToken";

  // The tab's token: sessionStorage's copy, mirrored here so the page still
  // works for this load when storage is disabled (it throws then).
  let token = "";
  try {
    token = window.sessionStorage.getItem(TOKEN_KEY) || "";
  } catch (e) {
    token = "";
  }

  function setToken(value) {
    token = value;
    try {
      if (value) window.sessionStorage.setItem(TOKEN_KEY, value);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      // Kept in memory only: asked again on the next load.
    }
  }

  // Thrown for a 401: the data needs the token; `sent` is the token the
  // request carried ("" for none).
  class NeedsToken extends Error {
    constructor(sent) {
      super(sent ? "the gateway did not accept the admin token" : "the gateway needs its admin token");
      this.sent = sent;
    }
  }

  async function fetchText(url) {
    const sent = token;
    const headers = sent ? { Authorization: "Bearer " + sent } : {};
    const r = await fetch(url, { cache: "no-store", headers: headers });
    if (r.status === 401) throw new NeedsToken(sent);
    if (!r.ok) throw new Error(url + ": HTTP " + r.status);
    return r.text();
  }

  // Shows the token form; with `wrong`, says the token sent was refused.
  // The error stays until the next submit: the periodic refreshes without
  // a token must not wipe it.
  function askForToken(wrong) {
    const form = document.getElementById("auth-form");
    const error = document.getElementById("auth-error");
    const input = document.getElementById("auth-token");
    const wasHidden = form.hidden;
    form.hidden = false;
    document.body.classList.add("locked");
    if (wrong) {
      error.textContent = "Wrong token: the gateway did not accept it. Try again.";
      input.setAttribute("aria-invalid", "true");
    }
    if (wasHidden || wrong) input.focus();
  }

  function tokenAccepted() {
    const form = document.getElementById("auth-form");
    if (form.hidden) return;
    form.hidden = true;
    document.body.classList.remove("locked");
    document.getElementById("auth-error").textContent = "";
    document.getElementById("auth-token").removeAttribute("aria-invalid");
  }

  function onTokenSubmit(ev) {
    ev.preventDefault();
    const input = document.getElementById("auth-token");
    const typed = input.value.trim();
    const error = document.getElementById("auth-error");
    if (typed === "") {
      error.textContent = "Enter the token first.";
      input.focus();
      return;
    }
    input.value = "";
    input.removeAttribute("aria-invalid");
    error.textContent = "";
    setToken(typed);
    api.tokenCheck = refresh();
  }

  // One refresh: both fetches, then every panel from them. Resolves when the
  // page shows the new numbers.
  async function refresh() {
    try {
      const [text, summary] = await Promise.all([
        fetchText("metrics"),
        fetchText("api/summary").then(JSON.parse, () => null),
      ]);
      const now = performance.now();
      const metrics = parseMetrics(text);
      buildDynamicRows(metrics);
      const values = fillMetricElements(metrics);
      fillRates(values, now);
      fillSummary(summary);
      recordHistory(metrics);
      drawChart();
      state.prev = { t: now, values: values };
      api.samples++;
      api.lastError = null;
      tokenAccepted();
      document.body.dataset.samples = String(api.samples);
      setStatus("Updated " + new Date().toLocaleTimeString("en-GB"), false);
    } catch (e) {
      api.lastError = String(e);
      if (e instanceof NeedsToken) {
        // A refused token is forgotten, so the next load asks again; unless
        // a newer one was entered while this request was on its way.
        const wrong = e.sent !== "" && e.sent === token;
        if (wrong) setToken("");
        askForToken(wrong);
        setStatus("Waiting for the admin token", false);
        return;
      }
      setStatus("Cannot reach the gateway: " + e.message, true);
    }
  }

  function start() {
    const q = new URLSearchParams(window.location.search);
    const sec = q.has("refresh") ? Number(q.get("refresh")) : 2;
    api.intervalMs = Number.isFinite(sec) && sec >= 0 ? sec * 1000 : 2000;
    document.getElementById("refresh-every").textContent =
      api.intervalMs > 0 ? "every " + api.intervalMs / 1000 + " s" : "on request";
    document.getElementById("auth-form").addEventListener("submit", onTokenSubmit);
    drawChart();
    const loop = async function () {
      await refresh();
      if (api.intervalMs > 0) setTimeout(loop, api.intervalMs);
    };
    loop();
    window.addEventListener("resize", drawChart);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
