// The control room: serve's second page (#control). One tab per engine, each read from
// /api/v1/control/... while it is open (every 2 s); the alerts bar on every tab. Actions (restart
// a task, pause, resume) send the serve token the operator typed in (kept for this tab only).

import { Chart } from "chart.js";
import { apiUrl, getJson } from "./api";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const fmt = new Intl.NumberFormat("en-US");
const num = (v: unknown, digits = 0): string =>
  typeof v === "number" ? fmt.format(Number(v.toFixed(digits))) : "–";
const bytes = (v: unknown): string => {
  if (typeof v !== "number") return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let x = v;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return `${x.toFixed(i ? 1 : 0)} ${units[i]}`;
};
const when = (ms: unknown): string => (typeof ms === "number" && ms > 0 ? new Date(ms).toLocaleTimeString() : "–");

/** An element with text, class and data attributes. */
function h(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function table(headers: string[], rows: HTMLElement[], testid: string): HTMLElement {
  return h("table", { class: "grid", "data-testid": testid },
    h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, ...rows));
}

function row(cells: (string | Node)[], attrs: Record<string, string> = {}): HTMLElement {
  return h("tr", attrs, ...cells.map((c) => h("td", {}, c)));
}

function badge(ok: boolean, yes: string, no: string): HTMLElement {
  return h("span", { class: ok ? "badge ok" : "badge bad" }, ok ? yes : no);
}

// ---- the token and actions -----------------------------------------------------------------

const TOKEN_KEY = "streamflow.serve_token";

async function act(path: string): Promise<string> {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? "";
  const res = await fetch(apiUrl(path), {
    method: "POST",
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  const body = (await res.json().catch(() => ({}))) as Json;
  if (!res.ok) throw new Error(`${res.status}: ${body.error ?? res.statusText}`);
  return `${body.done} ${body.target}: done`;
}

function actionButton(label: string, path: string, attrs: Record<string, string>): HTMLElement {
  const b = h("button", { ...attrs, type: "button" }, label) as HTMLButtonElement;
  b.addEventListener("click", () => {
    b.disabled = true;
    const out = document.getElementById("action-result");
    act(path)
      .then((msg) => { if (out) { out.textContent = msg; out.className = "action-result ok"; } })
      .catch((e: unknown) => { if (out) { out.textContent = String(e instanceof Error ? e.message : e); out.className = "action-result bad"; } })
      .finally(() => { b.disabled = false; void refresh(); });
  });
  return b;
}

// ---- tabs ------------------------------------------------------------------------------------

type Render = (into: HTMLElement) => Promise<void>;

async function renderKafka(into: HTMLElement): Promise<void> {
  const [b, t] = await Promise.all([getJson<Json>("api/v1/control/kafka/brokers"), getJson<Json>("api/v1/control/kafka/topics")]);
  const brokers = (b.brokers as Json[]).map((x) =>
    row([String(x.id), `${x.host}:${x.port}`, x.controller ? "controller" : "", badge(x.up, "up", "DOWN"), x.node ?? ""],
      { "data-testid": "broker-row", "data-broker": String(x.id), "data-up": String(x.up), class: x.up ? "" : "down" }));
  const topics: HTMLElement[] = [];
  for (const x of t.topics as Json[]) {
    if (x.internal && !(document.getElementById("show-internal") as HTMLInputElement | null)?.checked) continue;
    topics.push(row([x.name, String(x.partitions), String(x.replication_factor),
      badge(x.under_replicated === 0, "0", String(x.under_replicated)), badge(x.offline === 0, "0", String(x.offline)),
      num(x.end_offset), bytes(x.size_bytes), num(x.messages_per_s, 1)],
    { "data-testid": "topic-row", "data-topic": x.name, class: x.offline > 0 ? "down" : x.under_replicated > 0 ? "behind" : "" }));
    const parts = (x.partition_list as Json[]).map((p) =>
      `p${p.partition}: leader ${p.leader ?? "none"}, replicas [${p.replicas.join(",")}], isr [${p.isr.join(",")}], end ${num(p.end_offset)}`);
    topics.push(h("tr", { class: "sub" }, h("td", { colspan: "8" }, parts.join(" · "))));
  }
  const internal = h("label", {}, h("input", { type: "checkbox", id: "show-internal" }), " show internal topics");
  const prior = document.getElementById("show-internal") as HTMLInputElement | null;
  if (prior?.checked) (internal.querySelector("input") as HTMLInputElement).checked = true;
  (internal.querySelector("input") as HTMLInputElement).addEventListener("change", () => void refresh());
  into.replaceChildren(
    h("h3", {}, `Brokers (controller ${b.controller_id ?? "unknown"}${b.controller_source === "quorum" ? ", the KRaft quorum's leader" : ""})`),
    table(["id", "address", "role", "state", "node"], brokers, "brokers"),
    h("h3", {}, "Topics"), internal,
    table(["topic", "partitions", "RF", "under-replicated", "offline", "end offset", "size", "msgs/s in"], topics, "topics"));
}

let browserTopics: string[] = [];

async function renderMessages(into: HTMLElement): Promise<void> {
  // Drawn once per visit; the flag is set before the first await, so a second call never
  // draws a second form over the one the operator is using.
  if (!into.dataset.form) {
    into.dataset.form = "1";
    const t = await getJson<Json>("api/v1/control/kafka/topics");
    browserTopics = (t.topics as Json[]).map((x) => x.name as string);
    const topic = h("select", { id: "mb-topic", "data-testid": "mb-topic" }, ...browserTopics.map((n) => h("option", { value: n }, n)));
    const preferred = browserTopics.find((n) => n.endsWith(".users") && !n.startsWith("__"));
    if (preferred) (topic as HTMLSelectElement).value = preferred;
    const form = h("div", { class: "form" }, "topic ", topic,
      " partition ", h("input", { id: "mb-partition", type: "number", value: "0", min: "0", "data-testid": "mb-partition" }),
      " last ", h("input", { id: "mb-limit", type: "number", value: "10", min: "1", max: "100" }), " messages ",
      h("button", { id: "mb-read", type: "button", "data-testid": "mb-read" }, "Read"));
    into.replaceChildren(form, h("div", { id: "mb-out" }, "Pick a topic and partition, then Read."));
    (into.querySelector("#mb-read") as HTMLElement).addEventListener("click", () => void readMessages());
  }
}

async function readMessages(): Promise<void> {
  const out = document.getElementById("mb-out") as HTMLElement;
  const topic = (document.getElementById("mb-topic") as HTMLSelectElement).value;
  const partition = (document.getElementById("mb-partition") as HTMLInputElement).value;
  const limit = (document.getElementById("mb-limit") as HTMLInputElement).value;
  try {
    const m = await getJson<Json>("api/v1/control/kafka/messages", { topic, partition, limit });
    const list = (m.messages as Json[]).map((x) =>
      h("div", { class: "message", "data-testid": "message", "data-offset": String(x.offset) },
        h("div", { class: "meta" }, `offset ${x.offset} · ${x.timestamp ?? "no time"} · key (${x.key_encoding}) ${JSON.stringify(x.key)} · value ${x.value_encoding}${x.schema_id !== null && x.schema_id !== undefined ? ` (schema id ${x.schema_id})` : ""}${x.headers?.length ? ` · ${x.headers.length} headers` : ""}${x.error ? ` · ${x.error}` : ""}`),
        h("pre", { class: "value" }, JSON.stringify(x.value, null, 2))));
    out.replaceChildren(h("p", {}, `${list.length} messages of ${topic}[${partition}], oldest first`), ...list);
  } catch (e) {
    out.replaceChildren(h("p", { class: "bad" }, String(e instanceof Error ? e.message : e)));
  }
}

let lagChart: Chart<"line", number[], string> | null = null;

async function renderConsumers(into: HTMLElement): Promise<void> {
  const c = await getJson<Json>("api/v1/control/consumers");
  const rows: HTMLElement[] = [];
  for (const g of c.groups as Json[]) {
    rows.push(row([g.group, g.source, g.state ?? "", num(g.members), num(g.total_lag)],
      { "data-testid": "consumer-row", "data-consumer": g.group }));
    const parts = (g.partitions as Json[]).map((p) => `${p.topic}[${p.partition}] at ${num(p.committed)} of ${num(p.end)}, lag ${num(p.lag)}`);
    rows.push(h("tr", { class: "sub" }, h("td", { colspan: "5" }, parts.join(" · "))));
  }
  let canvas = into.querySelector("canvas") as HTMLCanvasElement | null;
  if (!canvas) {
    canvas = h("canvas", { id: "lag-chart" }) as HTMLCanvasElement;
    into.replaceChildren(h("div", { id: "consumers-table" }), h("h3", {}, "Lag over time (messages)"), h("figure", {}, canvas));
    lagChart = new Chart(canvas, { type: "line", data: { labels: [], datasets: [] },
      options: { animation: false, scales: { y: { beginAtZero: true } }, plugins: { legend: { position: "bottom" } } } });
  }
  (into.querySelector("#consumers-table") as HTMLElement).replaceChildren(
    table(["consumer", "source", "state", "members", "lag"], rows, "consumers"));
  const history = c.history as Json[];
  const names = [...new Set(history.flatMap((x) => Object.keys(x.lag)))];
  if (lagChart) {
    lagChart.data.labels = history.map((x) => new Date(x.at).toLocaleTimeString());
    lagChart.data.datasets = names.map((n, i) => ({ label: n, data: history.map((x) => x.lag[n] ?? 0), pointRadius: 0,
      borderColor: ["#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9"][i % 4] }));
    lagChart.update();
  }
}

async function renderConnect(into: HTMLElement): Promise<void> {
  const c = await getJson<Json>("api/v1/control/connect");
  const workers = (c.workers as Json[]).map((w) =>
    row([w.id, badge(w.up, "up", "DOWN"), num(w.connectors), num(w.tasks)],
      { "data-testid": "worker-row", "data-worker": w.id, "data-up": String(w.up), class: w.up ? "" : "down" }));
  const connectors: HTMLElement[] = [];
  for (const x of c.connectors as Json[]) {
    const name = encodeURIComponent(x.name);
    connectors.push(row([x.name, x.type, x.class, badge(x.state === "RUNNING", x.state, x.state || "UNKNOWN"), x.worker_id,
      h("span", {}, actionButton("Pause", `api/v1/control/connect/connectors/${name}/pause`, { "data-action": "pause" }),
        " ", actionButton("Resume", `api/v1/control/connect/connectors/${name}/resume`, { "data-action": "resume" }))],
    { "data-testid": "connector-row", "data-connector": x.name, "data-state": x.state, class: x.state === "RUNNING" ? "" : "down" }));
    for (const t of x.tasks as Json[]) {
      connectors.push(row([`  task ${t.id}`, "", "", badge(t.state === "RUNNING", t.state, t.state), t.worker_id,
        actionButton("Restart", `api/v1/control/connect/connectors/${name}/tasks/${t.id}/restart`, { "data-action": "restart", "data-task": String(t.id) })],
      { "data-testid": "task-row", "data-task": String(t.id), "data-state": t.state, class: t.state === "RUNNING" ? "" : "down" }));
      if (t.trace) connectors.push(h("tr", { class: "sub" }, h("td", { colspan: "6" }, h("pre", { class: "trace" }, t.trace))));
    }
    if (x.trace) connectors.push(h("tr", { class: "sub" }, h("td", { colspan: "6" }, h("pre", { class: "trace" }, x.trace))));
  }
  const audit = await getJson<Json>("api/v1/control/audit", { limit: "10" });
  const entries = (audit.entries as Json[]).map((e) =>
    row([when(e.at), e.action, e.target, e.outcome, String(e.status), e.client, e.detail], { "data-testid": "audit-row", "data-action": e.action, "data-outcome": e.outcome, "data-at": String(e.at) }));
  into.replaceChildren(
    c.error ? h("p", { class: "bad", "data-testid": "connect-error" }, c.error) : "",
    h("h3", {}, "Workers"), table(["worker", "state", "connectors", "tasks"], workers, "workers"),
    h("h3", {}, "Connectors and tasks"), table(["name", "type", "class", "state", "worker", "actions"], connectors, "connectors"),
    h("h3", {}, "Audit log (latest actions, refused ones too)"),
    table(["when", "action", "target", "outcome", "status", "client", "detail"], entries, "audit"));
}

async function renderSchemas(into: HTMLElement): Promise<void> {
  const s = await getJson<Json>("api/v1/control/schemas");
  if (!s.enabled) { into.replaceChildren(h("p", { "data-testid": "schemas-absent" }, s.note ?? "The schema registry is off.")); return; }
  const rows = (s.subjects as Json[]).map((x) => {
    const versions = x.versions as number[];
    const links = h("span", {}, ...versions.flatMap((v) => {
      const a = h("a", { href: "#control/schemas", "data-subject": x.subject, "data-version": String(v) }, `v${v}`);
      a.addEventListener("click", (e) => { e.preventDefault(); void showSchema(x.subject, v, versions); });
      return [a, " "];
    }));
    return row([x.subject, x.compatibility ?? "–", links], { "data-testid": "subject-row", "data-subject": x.subject });
  });
  const keep = into.querySelector("#schema-out");
  into.replaceChildren(h("p", {}, `Registry ${s.url} · global compatibility ${s.compatibility ?? "–"}`),
    table(["subject", "compatibility", "versions (click: the schema, and its difference from the one before)"], rows, "subjects"),
    keep ?? h("div", { id: "schema-out" }));
}

async function showSchema(subject: string, version: number, versions: number[]): Promise<void> {
  const out = document.getElementById("schema-out") as HTMLElement;
  const enc = encodeURIComponent(subject);
  const v = await getJson<Json>(`api/v1/control/schemas/${enc}/versions/${version}`);
  const parts: (Node | string)[] = [h("h3", {}, `${subject} v${version} (id ${v.id})`), h("pre", { class: "schema" }, JSON.stringify(v.schema, null, 2))];
  const prev = versions.filter((x) => x < version).pop();
  if (prev !== undefined) {
    const d = await getJson<Json>(`api/v1/control/schemas/${enc}/diff`, { from: String(prev), to: String(version) });
    const lines = (d.lines as Json[]).filter((l) => l.op !== " ").map((l) => h("div", { class: l.op === "+" ? "add" : "del" }, `${l.op} ${l.text}`));
    parts.push(h("h3", {}, `v${prev} → v${version}: ${(d.fields_added ?? []).length} added, ${(d.fields_removed ?? []).length} removed, ${(d.fields_changed ?? []).length} changed`),
      h("div", { class: "diff", "data-testid": "schema-diff" }, ...lines));
  }
  out.replaceChildren(...parts);
}

async function renderSpark(into: HTMLElement): Promise<void> {
  const s = await getJson<Json>("api/v1/control/spark");
  const masters = (s.masters as Json[]).map((m) => row([m.node ?? m.host, m.url ?? "", badge(m.status === "ALIVE" || m.status === "STANDBY", m.status, m.status ?? "DOWN"),
    String((m.workers ?? []).length)], { "data-testid": "master-row", "data-status": m.status ?? "DOWN" }));
  const workers = (s.masters as Json[]).filter((m) => m.status === "ALIVE").flatMap((m) => (m.workers ?? []) as Json[])
    .map((w) => row([w.id, `${w.host}:${w.port}`, badge(w.state === "ALIVE", w.state, w.state), `${w.cores_used}/${w.cores}`, `${num(w.memory_used_mb)}/${num(w.memory_mb)} MB`],
      { "data-testid": "spark-worker-row" }));
  const executors = (s.executors as Json[]).map((e) => row([e.id, e.host_port, badge(e.active !== false, "active", "dead"), num(e.active_tasks), num(e.completed_tasks), num(e.failed_tasks), bytes(e.memory_used)],
    { "data-testid": "executor-row" }));
  const queries = (s.queries as Json[]).map((q) => {
    const batches = (q.batches ?? []) as Json[];
    const last = batches.slice(-10).map((b) => `#${b.batch_id}: ${num(b.batch_ms)} ms, ${num(b.processed_rows_per_s)} rows/s`).join(" · ");
    return row([q.name, badge(q.active, "active", "stopped"), num(q.batch_id), num(q.batch_ms), num(q.input_rows_per_s), num(q.processed_rows_per_s), last],
      { "data-testid": "query-row", "data-query": q.name });
  });
  into.replaceChildren(
    masters.length ? h("div", {}, h("h3", {}, "Masters"), table(["master", "url", "status", "workers"], masters, "masters"),
      h("h3", {}, "Workers"), table(["worker", "address", "state", "cores", "memory"], workers, "spark-workers")) : h("p", {}, "Spark runs in local mode (no cluster in this layout)."),
    h("h3", {}, `Application ${s.application ? `${s.application.name} (${s.application.id})` : "–"}`),
    s.application_error ? h("p", { class: "bad" }, s.application_error) : "",
    table(["executor", "address", "state", "active tasks", "completed", "failed", "memory used"], executors, "executors"),
    h("h3", {}, "Streaming queries"),
    table(["query", "state", "batch", "batch ms", "in rows/s", "processed rows/s", "last batches"], queries, "queries"));
}

async function renderStores(into: HTMLElement): Promise<void> {
  const [c, p] = await Promise.all([
    getJson<Json>("api/v1/control/cassandra").catch((e: unknown) => ({ error: String(e) }) as Json),
    getJson<Json>("api/v1/control/postgres").catch((e: unknown) => ({ error: String(e) }) as Json),
  ]);
  const nodes = ((c.nodes ?? []) as Json[]).map((n) => row([n.address, badge(n.state === "up", n.state, n.state.toUpperCase()), n.status ?? "", bytes(n.load_bytes), n.datacenter ?? "", n.rack ?? "", n.release_version ?? ""],
    { "data-testid": "cassandra-node", "data-address": n.address, "data-state": n.state, class: n.state === "up" ? "" : "down" }));
  const slots = ((p.slots ?? []) as Json[]).map((s) => row([s.name, s.plugin ?? "", badge(s.active, "active", "inactive"), bytes(s.retained_wal_bytes), s.wal_status ?? ""],
    { "data-testid": "slot-row", "data-slot": s.name }));
  const conns = ((p.connections ?? []) as Json[]).map((x) => row([x.database ?? "", x.user ?? "", x.application ?? "", x.state ?? "", num(x.count)]));
  into.replaceChildren(
    h("h3", {}, "Cassandra nodes"), c.error ? h("p", { class: "bad" }, c.error) : "",
    table(["address", "state", "gossip", "load", "datacenter", "rack", "version"], nodes, "cassandra-nodes"),
    h("h3", {}, "PostgreSQL replication slots"), p.error ? h("p", { class: "bad" }, p.error) : "",
    table(["slot", "plugin", "state", "retained WAL", "WAL status"], slots, "slots"),
    h("h3", {}, `PostgreSQL connections (${num(p.connections_total)} of ${num(p.max_connections)})`),
    table(["database", "user", "application", "state", "count"], conns, "pg-connections"));
}

async function renderAlerts(into: HTMLElement): Promise<void> {
  const a = await getJson<Json>("api/v1/control/alerts");
  const firing = a.firing as Json[];
  const rules = (a.rules as Json[]).map((r) => row([r.name, r.severity, badge(!r.firing, "ok", "FIRING"), r.description],
    { "data-testid": "rule-row", "data-rule": r.name, "data-firing": String(r.firing), class: r.firing ? "down" : "" }));
  const t = a.thresholds as Json;
  into.replaceChildren(
    h("h3", {}, `Rules (evaluated ${when(a.evaluated_at)})`), table(["rule", "severity", "state", "what it means"], rules, "rules"),
    h("p", {}, `Thresholds (alerts.* settings): consumer lag > ${num(t.consumer_lag_messages)} messages, under-replicated partitions > ${t.under_replicated_partitions}, slot WAL > ${bytes(t.slot_retained_wal_bytes)}, dead letters +${t.dead_letters_growth} in ${t.window_s} s, freshness > ${t.freshness_s} s, reconcile older than ${t.reconcile_max_age_s} s, capture moving nothing for ${t.cdc_stall_s} s while changes wait (cdc.stall_timeout_s; the watchdog then restarts the task). The same rules for Prometheus: \`streamflow alerts --rules\`.`),
    h("p", {}, firing.length ? `${firing.length} firing (listed above every tab).` : "Nothing firing."));
}

const TABS: [string, string, Render][] = [
  ["kafka", "Brokers & topics", renderKafka],
  ["messages", "Messages", renderMessages],
  ["consumers", "Consumers & lag", renderConsumers],
  ["connect", "Connect", renderConnect],
  ["schemas", "Schemas", renderSchemas],
  ["spark", "Spark", renderSpark],
  ["stores", "Cassandra & PostgreSQL", renderStores],
  ["alerts", "Alerts", renderAlerts],
];

let current = "kafka";
let timer = 0;

async function renderAlertBar(): Promise<void> {
  const bar = document.getElementById("alert-bar") as HTMLElement;
  try {
    const a = await getJson<Json>("api/v1/control/alerts");
    const firing = a.firing as Json[];
    bar.className = firing.length ? "alert-bar firing" : "alert-bar";
    bar.replaceChildren(firing.length
      ? h("div", {}, ...firing.map((x) => h("div", { class: `alert ${x.severity}`, "data-testid": "alert", "data-rule": x.rule, "data-subject": x.subject },
        `${x.severity.toUpperCase()} ${x.rule}${x.subject ? ` (${x.subject})` : ""}: ${x.summary} · since ${when(x.since)}`)))
      : h("span", { "data-testid": "no-alerts" }, "No alert firing."));
  } catch (e) {
    bar.className = "alert-bar firing";
    bar.textContent = `serve does not answer: ${String(e)}`;
  }
}

// Each visit of a tab draws into a container of its own: a read still in flight from the tab
// left before draws into its old, detached container, never over the new one. `generation`
// ends the refresh loop of a visit that is over.
let visit: HTMLElement = document.createElement("div");
let generation = 0;
let drawn = false;

async function refresh(): Promise<void> {
  const into = visit;
  const tab = TABS.find(([id]) => id === current);
  if (!tab) return;
  await tab[2](into).catch((e: unknown) => {
    into.replaceChildren(h("p", { class: "bad", "data-testid": "pane-error" }, String(e instanceof Error ? e.message : e)));
  });
}

// The alerts above every tab, on a loop of their own: a tab whose engine is slow to answer
// (a broker just died) never holds them back.
let alertTimer = 0;
let alertsOn = false;

function alertLoop(): void {
  window.clearTimeout(alertTimer);
  if (!alertsOn) return;
  void renderAlertBar().finally(() => { if (alertsOn) alertTimer = window.setTimeout(alertLoop, 2000); });
}

function schedule(gen: number): void {
  if (gen !== generation) return;
  window.clearTimeout(timer);
  // The message browser and schemas are drawn once per visit (reading them again would lose
  // the view).
  if ((current === "messages" || current === "schemas") && drawn) return;
  void refresh().finally(() => {
    if (gen !== generation) return;
    drawn = true;
    timer = window.setTimeout(() => schedule(gen), 2000);
  });
}

export function showTab(id: string): void {
  current = TABS.some(([t]) => t === id) ? id : "kafka";
  for (const b of document.querySelectorAll<HTMLElement>("#control-tabs button"))
    b.classList.toggle("active", b.dataset.tab === current);
  generation += 1;
  drawn = false;
  visit = h("div", { "data-tab": current });
  (document.getElementById("control-pane") as HTMLElement).replaceChildren(visit);
  lagChart?.destroy();
  lagChart = null;
  schedule(generation);
  if (!alertsOn) {
    alertsOn = true;
    alertLoop();
  }
}

export function stopControl(): void {
  generation += 1;
  window.clearTimeout(timer);
  alertsOn = false;
  window.clearTimeout(alertTimer);
}

export function initControl(): void {
  const tabs = document.getElementById("control-tabs") as HTMLElement;
  tabs.replaceChildren(...TABS.map(([id, label]) => {
    const b = h("button", { type: "button", "data-tab": id, "data-testid": `tab-${id}` }, label);
    b.addEventListener("click", () => { window.location.hash = `control/${id}`; });
    return b;
  }));
  const input = document.getElementById("token") as HTMLInputElement;
  input.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
  input.addEventListener("change", () => sessionStorage.setItem(TOKEN_KEY, input.value.trim()));
}
