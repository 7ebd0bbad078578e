// The c360 dashboard: each page asks the API (same server) and draws with Apache ECharts.
// Aggregates come computed from the API; the page only lays them out.
"use strict";

const KEY_STORE = "c360-api-key";
const loaded = {};
const hours = (seconds) => Math.round(seconds / 360) / 10;

class Unauthorized extends Error {}

async function api(path) {
  const headers = {};
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(path, { headers });
  if (response.status === 401) {
    document.getElementById("key-form").hidden = false;
    throw new Unauthorized("an API key is needed");
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  if (body.served) {
    document.getElementById("served").textContent = `run ${body.served.run_id}`;
  }
  return body;
}

function showError(error) {
  const box = document.getElementById("error");
  if (error instanceof Unauthorized) {
    box.hidden = true;
    return;
  }
  box.textContent = error.message;
  box.hidden = false;
}

function chart(id, option) {
  const element = document.getElementById(id);
  const instance = echarts.getInstanceByDom(element) || echarts.init(element);
  instance.setOption(
    { title: { text: element.dataset.title, left: 10, top: 6, textStyle: { fontSize: 14 } },
      tooltip: {}, animation: false, ...option },
    true,
  );
  return instance;
}

function bars(id, labels, values, { horizontal = false } = {}) {
  const categoryAxis = { type: "category", data: labels, axisLabel: { interval: 0 } };
  const valueAxis = { type: "value" };
  return chart(id, {
    grid: { left: horizontal ? 130 : 50, right: 20, top: 40, bottom: 40 },
    xAxis: horizontal ? valueAxis : { ...categoryAxis, axisLabel: { rotate: 20 } },
    yAxis: horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
    series: [{ type: "bar", data: values }],
  });
}

function pie(id, rows) {
  return chart(id, {
    tooltip: { trigger: "item" },
    series: [{ type: "pie", radius: ["30%", "62%"], top: 30, data: rows }],
  });
}

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      td.textContent = cell.text ?? cell;
      if (cell.cls) td.className = cell.cls;
      tr.append(td);
    }
    return tr;
  }));
}

const LEVEL_ORDER = ["very low", "low", "moderate", "high", "very high"];

const pages = {
  async overview() {
    const [segments, runs, checks] = await Promise.all([
      api("/api/v1/distributions/segment"), api("/api/v1/runs?limit=1"),
      api("/api/v1/runs/latest/checks"),
    ]);
    const rows = segments.rows;
    document.getElementById("kpi-customers").textContent =
      rows.reduce((n, r) => n + r.customers, 0).toLocaleString("en");
    document.getElementById("kpi-hours").textContent =
      Math.round(rows.reduce((n, r) => n + r.hours, 0)).toLocaleString("en");
    const run = runs.runs[0];
    document.getElementById("kpi-run").textContent = run ? `${run.status}` : "none";
    const count = (status) => checks.checks.filter((c) => c.status === status).length;
    document.getElementById("kpi-checks").textContent = `${count("fail")} / ${count("warn")}`;
    bars("chart-overview-segments", rows.map((r) => r.value), rows.map((r) => r.customers));
  },

  async usage() {
    const [usage, apps] = await Promise.all([api("/api/v1/usage"), api("/api/v1/apps/top?limit=10")]);
    const days = [...new Set(usage.rows.map((r) => r.date))];
    const categories = [...new Set(usage.rows.map((r) => r.category))];
    const cell = new Map(usage.rows.map((r) => [`${r.date}|${r.category}`, hours(r.total_duration)]));
    chart("chart-usage-days", {
      tooltip: { trigger: "axis" },
      legend: { top: 8, right: 10 },
      grid: { left: 60, right: 20, top: 50, bottom: 40 },
      xAxis: { type: "category", data: days },
      yAxis: { type: "value", name: "hours" },
      series: categories.map((name) => ({
        name, type: "bar", stack: "hours", data: days.map((d) => cell.get(`${d}|${name}`) ?? 0),
      })),
    });
    bars("chart-usage-apps", apps.apps.map((a) => a.app_name),
      apps.apps.map((a) => hours(a.total_duration)), { horizontal: true });
  },

  async customers() {
    const [activeness, levels, segments, rf] = await Promise.all([
      api("/api/v1/distributions/activeness"), api("/api/v1/distributions/level"),
      api("/api/v1/distributions/segment"), api("/api/v1/rf"),
    ]);
    const ordered = [...activeness.rows].sort(
      (a, b) => LEVEL_ORDER.indexOf(a.value) - LEVEL_ORDER.indexOf(b.value));
    bars("chart-activeness", ordered.map((r) => r.value), ordered.map((r) => r.customers));
    pie("chart-levels", levels.rows.map((r) => ({ name: r.value, value: r.customers })));
    bars("chart-segments", segments.rows.map((r) => r.value), segments.rows.map((r) => r.customers));
    const max = Math.max(1, ...rf.cells.map((c) => c.customers));
    chart("chart-rf", {
      grid: { left: 70, right: 70, top: 50, bottom: 90 },
      xAxis: { type: "category", name: "recency", data: ["1", "2", "3", "4"] },
      yAxis: { type: "category", name: "frequency", data: ["1", "2", "3", "4"] },
      visualMap: { min: 0, max, orient: "horizontal", left: "center", bottom: 0, calculable: true },
      series: [{ type: "heatmap", label: { show: true },
        data: rf.cells.map((c) => [String(c.recency), String(c.frequency), c.customers]) }],
    });
  },

  async search() {
    const select = document.getElementById("month");
    const month = select.value ? `&month=${encodeURIComponent(select.value)}` : "";
    const trends = await api(`/api/v1/search/trends?limit=10${month}`);
    if (!select.options.length) {
      select.replaceChildren(...trends.months.map((m) => new Option(m, m, false, m === trends.month)));
      select.addEventListener("change", () => pages.search().catch(showError));
    }
    bars("chart-keywords", trends.keywords.map((k) => k.keyword),
      trends.keywords.map((k) => k.users), { horizontal: true });
    pie("chart-genres", trends.genres.map((g) => ({ name: g.genre, value: g.users })));
    const nodes = new Set();
    const links = trends.flows.map((f) => {
      const source = `before: ${f.source}`;
      const target = `now: ${f.target}`;
      nodes.add(source);
      nodes.add(target);
      return { source, target, value: f.users };
    });
    chart("chart-flows", {
      tooltip: { trigger: "item" },
      series: [{ type: "sankey", top: 40, bottom: 10, left: 10, right: 120,
        data: [...nodes].map((name) => ({ name })), links }],
    });
  },

  async quality() {
    const [quarantine, checks, runs] = await Promise.all([
      api("/api/v1/quarantine"), api("/api/v1/runs/latest/checks"), api("/api/v1/runs?limit=20"),
    ]);
    bars("chart-quarantine", quarantine.counts.map((c) => `${c.source}: ${c.reason}`),
      quarantine.counts.map((c) => c.rows), { horizontal: true });
    const number = (v) => (v === null || v === undefined ? "" : Number(v.toFixed(4)).toString());
    fillTable("checks", checks.checks.map((c) => [
      { text: c.status, cls: c.status }, c.stage, c.check_name, c.table_name ?? "",
      c.subject ?? "", number(c.observed), number(c.threshold),
    ]));
    fillTable("runs", runs.runs.map((r) => [
      r.run_id, { text: r.status, cls: r.status === "succeeded" ? "" : "fail" },
      `${r.window_start ?? ""} … ${r.window_end ?? ""}`, (r.rows_read ?? 0).toLocaleString("en"),
      (r.rows_quarantined ?? 0).toLocaleString("en"), (r.contracts_profiled ?? 0).toLocaleString("en"),
      r.failed_stage ?? "",
    ]));
  },

  async lookup() {},

  async live() {
    const body = await api("/api/v1/live?limit=10&minutes=30");
    const status = document.getElementById("live-status");
    const b = body.batch;
    if (!b) {
      status.textContent = "No stream processed into this warehouse yet (c360 stream process).";
      return;
    }
    const rate = b.events_per_s === null ? "–" : Math.round(b.events_per_s).toLocaleString("en");
    status.textContent = `batch ${b.batch_id} committed ${b.age_s.toFixed(1)} s ago · `
      + `event time ${b.clock ?? "–"} · ${rate} events/s · ${b.counted.toLocaleString("en")} `
      + `counted, ${b.duplicates.toLocaleString("en")} repeats, `
      + `${b.quarantined.toLocaleString("en")} quarantined`;
    status.classList.toggle("fail", b.age_s > 10);
    const songs = body.leaderboard;
    bars("chart-live", songs.map((s) => s.song), songs.map((s) => s.total_votes),
      { horizontal: true });
    fillTable("live-board", songs.map((s) => [s.rank, s.song,
      s.total_votes.toLocaleString("en"), s.votes_1m.toLocaleString("en"),
      s.votes_10m.toLocaleString("en")]));
    const minutes = [...new Set(body.usage.map((u) => u.minute))].sort();
    const categories = [...new Set(body.usage.map((u) => u.category))].sort();
    const seconds = new Map(body.usage.map((u) => [`${u.category}|${u.minute}`, u.total_duration]));
    chart("chart-live-usage", {
      tooltip: { trigger: "axis" },
      legend: { top: 28 },
      grid: { left: 60, right: 20, top: 70, bottom: 40 },
      xAxis: { type: "category", data: minutes.map((m) => m.slice(11, 16)) },
      yAxis: { type: "value" },
      series: categories.map((c) => ({ name: c, type: "line",
        data: minutes.map((m) => seconds.get(`${c}|${m}`) ?? 0) })),
    });
    document.body.dataset.liveBatch = String(b.batch_id);
  },
};

// The live page refreshes itself while it is shown.
const LIVE_REFRESH_MS = 2000;
let liveTimer = null;

async function lookUp(contract) {
  const box = document.getElementById("profile");
  const body = await api(`/api/v1/customers/${encodeURIComponent(contract)}`);
  const c = body.customer;
  document.getElementById("profile-title").textContent = `${c.contract} — ${c.segment ?? ""}`;
  const facts = {
    "hours watched": hours(c.total_duration), "active days": c.active_days,
    "most watched": c.most_watch, taste: c.taste, activeness: c.activeness,
    devices: c.devices, "last active": c.last_active, "recency (days)": c.scores.recency_days,
    "R / F / M": `${c.scores.recency_score} / ${c.scores.frequency_score} / ${c.scores.monetary_score}`,
    "search user": c.user_id ?? "—",
    "search taste": c.search ? `${c.search.category_change} (${c.search.trending_type})` : "—",
  };
  document.getElementById("profile-facts").replaceChildren(...Object.entries(facts).flatMap(
    ([name, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = value ?? "";
      return [dt, dd];
    }));
  box.hidden = false;
  const names = Object.keys(c.seconds_by_category);
  bars("chart-profile", names, names.map((n) => hours(c.seconds_by_category[n])));
  document.body.dataset.profile = c.contract;
}

async function show(page) {
  if (!pages[page]) page = "overview";
  for (const section of document.querySelectorAll(".page")) {
    section.classList.toggle("active", section.id === page);
  }
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.page === page);
  }
  document.body.dataset.loaded = "";
  document.getElementById("error").hidden = true;
  clearInterval(liveTimer);
  if (page === "live") {
    liveTimer = setInterval(() => pages.live().catch(showError), LIVE_REFRESH_MS);
  }
  try {
    if (!loaded[page]) {
      await pages[page]();
      loaded[page] = page !== "live";
    }
    for (const element of document.querySelectorAll(`#${page} .chart`)) {
      echarts.getInstanceByDom(element)?.resize();
    }
    document.body.dataset.loaded = page;
  } catch (error) {
    showError(error);
  }
}

window.addEventListener("hashchange", () => show(location.hash.slice(1)));
window.addEventListener("DOMContentLoaded", () => {
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORE, document.getElementById("key").value);
    document.getElementById("key-form").hidden = true;
    show(location.hash.slice(1));
  });
  document.getElementById("lookup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    document.getElementById("error").hidden = true;
    lookUp(document.getElementById("contract").value.trim()).catch(showError);
  });
  show(location.hash.slice(1));
});
