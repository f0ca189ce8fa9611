// The live dashboard: counters and the pipeline panel from the server's event stream
// (/api/v1/stream, one snapshot a second), charts refreshed from the REST API every 5 s.

import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from "chart.js";
import { apiUrl, getJson } from "./api";
import type { Coordinates, Health, Signups, Snapshot, Stage, TopCountries, Totals } from "./api";
import { initControl, showTab, stopControl } from "./control";
import "./style.css";

Chart.register(
  ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Legend, LinearScale,
  LineController, LineElement, PointElement, ScatterController, Tooltip,
);
Chart.defaults.animation = false;

const fmt = new Intl.NumberFormat("en-US");
const num = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined ? "–" : fmt.format(Number(v.toFixed(digits)));
const el = (id: string): HTMLElement => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e;
};
const palette = ["#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#f59f00", "#0ca678", "#d6336c", "#5c7cfa"];

// ---- counters and pipeline panel -----------------------------------------------------------

const STAGE_TITLES: Record<Stage["name"], string> = {
  ingest: "Ingest → PostgreSQL",
  cdc: "CDC → Kafka",
  spark: "Spark",
  cassandra: "Cassandra",
};

function renderTotals(t: Totals | null, h: Health): void {
  el("c-users").textContent = num(t?.users);
  el("c-staging").textContent = num(t?.staging_users ?? h.stages.find((s) => s.name === "ingest")?.total);
  el("c-hour").textContent = num(t?.signups_last_hour);
  el("c-countries").textContent = num(t?.countries);
  el("c-fresh").textContent = h.freshness_s === null ? "–" : `${h.freshness_s.toFixed(1)} s`;
  el("c-errors").textContent = `${num(h.rejects)} · ${num(h.dead_letters)}`;
}

function renderPipeline(h: Health): void {
  const panel = el("pipeline");
  panel.replaceChildren(
    ...h.stages.map((s) => {
      const card = document.createElement("div");
      card.className = `stage ${s.state}`;
      card.dataset.stage = s.name;
      card.dataset.state = s.state;
      card.dataset.testid = `stage-${s.name}`;
      const lag = s.lag === null ? "–" : `${num(s.lag)} ${s.lag_unit}`;
      card.innerHTML = `<span class="state"></span><h3></h3><dl>
        <dt>rate</dt><dd class="rate"></dd><dt>total</dt><dd class="total"></dd>
        <dt>lag</dt><dd class="lag"></dd><dt>errors</dt><dd class="errors"></dd></dl>
        <div class="detail"></div>`;
      (card.querySelector(".state") as HTMLElement).textContent = s.state.toUpperCase();
      (card.querySelector("h3") as HTMLElement).textContent = STAGE_TITLES[s.name] ?? s.name;
      (card.querySelector(".rate") as HTMLElement).textContent =
        s.rate_per_s === null ? "–" : `${num(s.rate_per_s)}/s`;
      (card.querySelector(".total") as HTMLElement).textContent = num(s.total);
      (card.querySelector(".lag") as HTMLElement).textContent = lag;
      (card.querySelector(".errors") as HTMLElement).textContent = num(s.errors);
      (card.querySelector(".detail") as HTMLElement).textContent = s.detail;
      return card;
    }),
  );
  el("services").replaceChildren(
    ...h.services.map((s) => {
      const tag = document.createElement("span");
      tag.textContent = `${s.name}${s.healthy ? "" : " (down)"}`;
      tag.title = s.detail;
      if (!s.healthy) tag.className = "down";
      return tag;
    }),
  );
}

function connect(): void {
  const live = el("live");
  const source = new EventSource(apiUrl("api/v1/stream"));
  source.addEventListener("snapshot", (e) => {
    const snap = JSON.parse((e as MessageEvent).data) as Snapshot;
    live.textContent = `live · ${new Date(snap.health.at).toLocaleTimeString()}`;
    live.className = "live";
    renderTotals(snap.totals, snap.health);
    renderPipeline(snap.health);
  });
  source.onerror = () => {
    live.textContent = "reconnecting…";
    live.className = "live off";
  };
}

// ---- charts --------------------------------------------------------------------------------

const signupsChart = new Chart<"line", number[], string>(el("signups") as HTMLCanvasElement, {
  type: "line",
  data: { labels: [] as string[], datasets: [] },
  options: { responsive: true, plugins: { legend: { position: "bottom" } }, scales: { y: { beginAtZero: true } } },
});
const countriesChart = new Chart<"bar", number[], string>(el("countries") as HTMLCanvasElement, {
  type: "bar",
  data: { labels: [], datasets: [{ label: "users", data: [], backgroundColor: palette[0] }] },
  options: { indexAxis: "y", plugins: { legend: { display: false } } },
});
const genderChart = new Chart<"doughnut", number[], string>(el("gender") as HTMLCanvasElement, {
  type: "doughnut",
  data: { labels: [], datasets: [{ data: [], backgroundColor: palette }] },
  options: { plugins: { legend: { position: "bottom" } } },
});
const ageChart = new Chart<"bar", number[], string>(el("ageband") as HTMLCanvasElement, {
  type: "bar",
  data: { labels: [], datasets: [{ label: "signups", data: [], backgroundColor: palette[2] }] },
  options: { plugins: { legend: { display: false } } },
});
const mapChart = new Chart<"scatter", { x: number; y: number }[]>(el("map") as HTMLCanvasElement, {
  type: "scatter",
  data: { datasets: [{ label: "users", data: [], backgroundColor: "#1c7ed680", pointRadius: 2 }] },
  options: {
    plugins: { legend: { display: false } },
    scales: { x: { min: -180, max: 180, title: { display: true, text: "longitude" } },
              y: { min: -90, max: 90, title: { display: true, text: "latitude" } } },
  },
});

const AGE_ORDER = ["under 18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown"];
/** The country code the pipeline counts users of an unknown country under. */
const UNKNOWN_COUNTRY = "ZZ";
const countryLabel = (code: string): string => (code === UNKNOWN_COUNTRY ? "unknown" : code);

async function refreshCharts(): Promise<void> {
  const by = (el("by") as HTMLSelectElement).value;
  const [series, top, gender, age, coords] = await Promise.all([
    getJson<Signups>("api/v1/signups", { by }),
    getJson<TopCountries>("api/v1/countries/top", { limit: "10" }),
    getJson<Signups>("api/v1/signups", { by: "gender" }),
    getJson<Signups>("api/v1/signups", { by: "age_band" }),
    getJson<Coordinates>("api/v1/coordinates", { limit: "1500" }),
  ]);
  // Signups per minute: the five largest keys, one line each.
  const minutes = [...new Set(series.points.map((p) => p.minute))].sort();
  const keys = Object.entries(series.totals).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k]) => k);
  signupsChart.data.labels = minutes.map((m) => m.slice(11, 16));
  signupsChart.data.datasets = keys.map((k, i) => {
    const byMinute = new Map(series.points.filter((p) => p.key === k).map((p) => [p.minute, p.signups]));
    return { label: by === "country" ? countryLabel(k) : k, data: minutes.map((m) => byMinute.get(m) ?? 0), borderColor: palette[i], backgroundColor: palette[i], pointRadius: 0 };
  });
  signupsChart.update();
  countriesChart.data.labels = top.countries.map((c) => countryLabel(c.country_code));
  countriesChart.data.datasets[0].data = top.countries.map((c) => c.users);
  countriesChart.update();
  genderChart.data.labels = Object.keys(gender.totals);
  genderChart.data.datasets[0].data = Object.values(gender.totals);
  genderChart.update();
  const bands = AGE_ORDER.filter((b) => b in age.totals);
  ageChart.data.labels = bands;
  ageChart.data.datasets[0].data = bands.map((b) => age.totals[b]);
  ageChart.update();
  mapChart.data.datasets[0].data = coords.points.map((p) => ({ x: p.lon, y: p.lat }));
  mapChart.update();
}

function scheduleCharts(): void {
  refreshCharts()
    .catch((e: unknown) => console.warn("charts:", e))
    .finally(() => window.setTimeout(scheduleCharts, 5000));
}

(el("by") as HTMLSelectElement).addEventListener("change", () => void refreshCharts());
connect();
scheduleCharts();

// ---- pages: the pipeline (#) and the control room (#control/<tab>) ----------------------------

function route(): void {
  const hash = window.location.hash.replace(/^#/, "");
  const control = hash === "control" || hash.startsWith("control/");
  el("control-page").hidden = !control;
  el("pipeline-page").hidden = control;
  el("nav-control").classList.toggle("active", control);
  el("nav-pipeline").classList.toggle("active", !control);
  if (control) showTab(hash.split("/")[1] ?? "kafka");
  else stopControl();
}

initControl();
window.addEventListener("hashchange", route);
route();
