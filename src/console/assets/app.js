// DMQ web console: a single page over this node's REST API. No framework, no
// network beyond this node; every value from the API is put into the page as
// text (never as HTML), since record keys and values are anyone's bytes.
"use strict";

const state = {
  token: localStorage.getItem("dmq.token") || "",
  samples: [],       // [{t, produce, fetch, lag: {group: n}}] from /metrics, newest last
  sampleLimit: 90,   // 3 minutes at one sample per 2 s
};

// ---- DOM helpers -----------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function table(id, headers, rows) {
  return el("table", { id },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { class: h.num ? "num" : "" }, h.label || h)))),
    el("tbody", {}, rows));
}

function num(v) {
  return el("td", { class: "num" }, v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"));
}

function pill(text, kind) {
  return el("span", { class: `pill ${kind || ""}` }, text);
}

function card(title, ...body) {
  return el("section", { class: "card" }, title ? el("h2", {}, title) : null, ...body);
}

function show(...nodes) {
  const page = document.getElementById("page");
  page.replaceChildren(...nodes);
}

// ---- the API -----------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const text = await response.text();
  const banner = document.getElementById("banner");
  if (response.status === 401) {
    banner.textContent = "This node requires a bearer token: paste one above.";
    banner.hidden = false;
  } else if (response.status !== 403) {
    banner.hidden = true;
  }
  let body = text;
  if ((response.headers.get("Content-Type") || "").includes("json")) {
    try { body = JSON.parse(text); } catch (e) { /* keep the text */ }
  }
  if (!response.ok) {
    const message = body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`;
    throw new Error(message);
  }
  return body;
}

function errorCard(e) {
  return card("Error", el("p", { class: "bad", id: "error" }, e.message));
}

// ---- metrics, sampled while the page is open ------------------------------------------

function parseMetrics(text) {
  const out = { produce: 0, fetch: 0, lag: {} };
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-z_]+)(\{[^}]*\})?\s+(\S+)/);
    if (!m) continue;
    const value = Number(m[3]);
    if (m[1] === "dmq_kafka_produce_bytes_total") out.produce = value;
    else if (m[1] === "dmq_kafka_fetch_bytes_total") out.fetch = value;
    else if (m[1] === "dmq_group_lag") {
      const g = (m[2] || "").match(/group="((?:[^"\\]|\\.)*)"/);
      if (g) out.lag[g[1]] = value;
    }
  }
  return out;
}

async function sample() {
  try {
    const text = await api("/metrics");
    state.samples.push(Object.assign({ t: Date.now() }, parseMetrics(text)));
    if (state.samples.length > state.sampleLimit) state.samples.shift();
    drawCharts();
  } catch (e) { /* the overview shows API errors; charts just pause */ }
}

function rates(key) {
  const s = state.samples;
  const out = [];
  for (let i = 1; i < s.length; i++) {
    const dt = (s[i].t - s[i - 1].t) / 1000;
    out.push(dt > 0 ? Math.max(0, (s[i][key] - s[i - 1][key]) / dt) : 0);
  }
  return out;
}

function drawLine(canvas, series, unit) {
  const ctx = canvas.getContext("2d");
  const w = (canvas.width = canvas.clientWidth * devicePixelRatio);
  const h = (canvas.height = canvas.clientHeight * devicePixelRatio);
  ctx.clearRect(0, 0, w, h);
  const all = series.flatMap((s) => s.values);
  const max = Math.max(1, ...all);
  const colors = ["#2f6fdb", "#12b76a", "#f79009", "#9e77ed", "#f04438"];
  series.forEach((s, k) => {
    ctx.strokeStyle = colors[k % colors.length];
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.beginPath();
    s.values.forEach((v, i) => {
      const x = (i / Math.max(1, state.sampleLimit - 1)) * w;
      const y = h - (v / max) * (h - 16 * devicePixelRatio) - 2;
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  });
  ctx.fillStyle = "#667085";
  ctx.font = `${11 * devicePixelRatio}px system-ui`;
  ctx.fillText(`max ${Math.round(max).toLocaleString("en-US")} ${unit}`, 4, 12 * devicePixelRatio);
}

function drawCharts() {
  const produce = document.getElementById("chart-produce");
  if (!produce) return;
  drawLine(produce, [{ values: rates("produce") }], "B/s");
  drawLine(document.getElementById("chart-fetch"), [{ values: rates("fetch") }], "B/s");
  const groups = [...new Set(state.samples.flatMap((s) => Object.keys(s.lag)))].slice(0, 5);
  drawLine(document.getElementById("chart-lag"),
    groups.map((g) => ({ values: state.samples.map((s) => s.lag[g] || 0) })), "records");
  const legend = document.getElementById("lag-legend");
  if (legend) legend.textContent = groups.length ? `groups: ${groups.join(", ")}` : "no group with lag on this node";
}

function chartsCard() {
  return card("Live (this node's /metrics, every 2 s)",
    el("div", { class: "charts" },
      el("div", {}, el("div", { class: "label" }, "Produce bytes/s"), el("canvas", { id: "chart-produce" })),
      el("div", {}, el("div", { class: "label" }, "Fetch bytes/s"), el("canvas", { id: "chart-fetch" })),
      el("div", {}, el("div", { class: "label" }, "Consumer lag"), el("canvas", { id: "chart-lag" }),
        el("div", { class: "muted", id: "lag-legend" }))));
}

// ---- pages -------------------------------------------------------------------------

function underReplicated(topics) {
  let n = 0;
  for (const t of topics) for (const p of t.partitions || []) if (p.isr.length < p.replicas.length) n++;
  return n;
}

async function overviewPage() {
  const [cluster, brokers, topicList] = await Promise.all([
    api("/v1/cluster").catch((e) => ({ error: e })),
    api("/v1/brokers"),
    api("/v1/topics"),
  ]);
  const topics = await Promise.all((topicList.topics || []).map((t) => api(`/v1/topics/${encodeURIComponent(t.name)}`)));
  const alive = brokers.brokers.filter((b) => b.status === "alive").length;
  const urp = underReplicated(topics);
  const stats = el("div", { class: "cards" },
    card(null, el("div", { class: "label" }, "Controller leader"),
      el("div", { class: "stat", id: "leader" }, cluster.error ? "unknown" : cluster.leader_id ?? "none")),
    card(null, el("div", { class: "label" }, "Term"), el("div", { class: "stat" }, cluster.error ? "–" : cluster.term)),
    card(null, el("div", { class: "label" }, "Brokers alive"),
      el("div", { class: "stat" }, `${alive} / ${brokers.brokers.length}`)),
    card(null, el("div", { class: "label" }, "Under-replicated partitions"),
      el("div", { class: `stat ${urp ? "warn" : "ok"}`, id: "urp" }, urp)));
  const voters = cluster.error ? el("p", { class: "muted" }, `Controller view unavailable: ${cluster.error.message}`)
    : table("voters", ["id", "address", "state", { label: "match index", num: true }],
      cluster.voters.map((v) => el("tr", {}, el("td", {}, v.id), el("td", {}, v.address),
        el("td", {}, pill(v.state, v.state === "leader" ? "ok" : "")), num(v.match_index))));
  const brokerRows = brokers.brokers.map((b) => el("tr", {},
    el("td", {}, b.id), el("td", {}, `${b.host}:${b.kafka_port}`), el("td", {}, b.http_port),
    el("td", {}, b.rack ?? "–"), el("td", {}, pill(b.status, b.status === "alive" ? "ok" : "bad")), num(b.epoch)));
  show(el("h1", {}, `Cluster ${cluster.cluster_id || ""}`), stats, chartsCard(),
    card("Controllers (Raft voters)", voters),
    card("Brokers", table("brokers", ["id", "Kafka address", "HTTP port", "rack", "status", { label: "epoch", num: true }], brokerRows)));
  drawCharts();
}

async function topicsPage() {
  const list = await api("/v1/topics");
  const topics = await Promise.all((list.topics || []).map((t) => api(`/v1/topics/${encodeURIComponent(t.name)}`)));
  const rows = topics.map((t) => {
    const records = t.partitions.reduce((sum, p) => sum + Math.max(0, (p.high_watermark ?? 0) - (p.log_start_offset ?? 0)), 0);
    const urp = t.partitions.filter((p) => p.isr.length < p.replicas.length).length;
    // Bytes of the replicas this node hosts (size_bytes is null elsewhere).
    const hosted = t.partitions.filter((p) => p.size_bytes !== null && p.size_bytes !== undefined);
    const bytes = hosted.length ? hosted.reduce((sum, p) => sum + p.size_bytes, 0) : null;
    return el("tr", {},
      el("td", {}, el("a", { href: `#/topic/${encodeURIComponent(t.name)}` }, t.name)),
      num(t.partitions.length), num(t.replication_factor), num(records), num(bytes),
      el("td", {}, urp ? pill(`${urp} under-replicated`, "warn") : pill("in sync", "ok")));
  });
  show(el("h1", {}, "Topics"),
    card(null, table("topic-list", ["name", { label: "partitions", num: true }, { label: "replication", num: true },
      { label: "records", num: true }, { label: "bytes here", num: true }, "replicas"], rows)));
}

function recordRow(r) {
  const text = (v, enc) => (v === null ? "null" : enc === "base64" ? `base64:${v}` : v);
  const headers = (r.headers || []).map((h) => `${h.key}=${text(h.value, h.encoding)}`).join(", ");
  return el("tr", {}, num(r.offset), el("td", {}, new Date(r.timestamp).toISOString()),
    el("td", { class: "value" }, text(r.key, r.key_encoding)),
    el("td", { class: "value" }, text(r.value, r.value_encoding)), el("td", { class: "value" }, headers));
}

async function browse(topic, partition, offset, target) {
  try {
    const q = `offset=${encodeURIComponent(offset)}&max_records=50`;
    const body = await api(`/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/records?${q}`);
    target.replaceChildren(
      el("p", { class: "muted" }, `partition ${partition}: next offset ${body.next_offset}, high watermark ${body.high_watermark}`),
      table("records", [{ label: "offset", num: true }, "timestamp", "key", "value", "headers"], body.records.map(recordRow)));
  } catch (e) {
    target.replaceChildren(el("p", { class: "bad", id: "browse-error" }, e.message));
  }
}

function browserCard(t, query) {
  const results = el("div", { id: "browse-results" });
  const partition = el("select", { name: "partition" },
    t.partitions.map((p) => el("option", { value: p.partition }, p.partition)));
  if (query.p) partition.value = query.p;
  const offset = el("input", { name: "offset", value: query.o || "earliest", size: 10 });
  const form = el("form", { class: "inline", onsubmit: (ev) => {
    ev.preventDefault();
    location.hash = `#/topic/${encodeURIComponent(t.name)}?p=${partition.value}&o=${encodeURIComponent(offset.value)}`;
  } }, el("label", {}, "partition", partition), el("label", {}, "offset (number, earliest, latest)", offset),
  el("button", { type: "submit" }, "Show records"));
  if (query.p !== undefined) browse(t.name, query.p, query.o || "earliest", results);
  return card("Message browser", form, results);
}

function produceCard(t) {
  const key = el("input", { name: "key", placeholder: "key (optional)" });
  const value = el("input", { name: "value", placeholder: "value", size: 40 });
  const partition = el("select", { name: "partition" }, el("option", { value: "" }, "by key"),
    t.partitions.map((p) => el("option", { value: p.partition }, p.partition)));
  const result = el("span", { id: "produce-result", class: "muted" });
  const form = el("form", { class: "inline", onsubmit: async (ev) => {
    ev.preventDefault();
    const record = { value: value.value };
    if (key.value) record.key = key.value;
    if (partition.value !== "") record.partition = Number(partition.value);
    try {
      const body = await api(`/v1/topics/${encodeURIComponent(t.name)}/records`,
        { method: "POST", body: JSON.stringify({ records: [record] }) });
      const o = body.offsets[0];
      result.textContent = `written to partition ${o.partition} at offset ${o.offset}`;
      result.className = "ok";
    } catch (e) {
      result.textContent = e.message;
      result.className = "bad";
    }
  } }, el("label", {}, "key", key), el("label", {}, "value", value), el("label", {}, "partition", partition),
  el("button", { type: "submit" }, "Produce"), result);
  return card("Produce a test message", form);
}

async function topicPage(name, query) {
  const t = await api(`/v1/topics/${encodeURIComponent(name)}`);
  const rows = t.partitions.map((p) => el("tr", {}, num(p.partition), el("td", {}, p.leader),
    num(p.leader_epoch), el("td", {}, p.replicas.join(", ")),
    el("td", { class: p.isr.length < p.replicas.length ? "warn" : "" }, p.isr.join(", ")),
    num(p.log_start_offset), num(p.high_watermark),
    num(p.high_watermark === null ? null : p.high_watermark - p.log_start_offset),
    num(p.size_bytes)));
  const configs = Object.entries(t.configs || {});
  show(el("h1", {}, `Topic ${t.name}`),
    card("Partitions", table("partitions", [{ label: "partition", num: true }, "leader", { label: "leader epoch", num: true },
      "replicas", "ISR", { label: "log start", num: true }, { label: "high watermark", num: true },
      { label: "records", num: true }, { label: "bytes on disk", num: true }], rows)),
    browserCard(t, query), produceCard(t),
    card("Configs", configs.length ? table("configs", ["name", "value"],
      configs.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v)))) : el("p", { class: "muted" }, "defaults")));
}

async function groupsPage() {
  const body = await api("/v1/groups");
  const rows = (body.groups || []).map((g) => el("tr", {},
    el("td", {}, el("a", { href: `#/group/${encodeURIComponent(g.group_id)}` }, g.group_id)),
    el("td", {}, pill(g.state || "–", g.state === "Stable" ? "ok" : "")), el("td", {}, g.protocol_type || "–"),
    el("td", {}, g.coordinator ?? "–")));
  show(el("h1", {}, "Consumer groups"),
    card(null, rows.length ? table("group-list", ["group", "state", "protocol type", "coordinator"], rows)
      : el("p", { class: "muted" }, "No consumer groups yet.")));
}

async function groupPage(id) {
  const g = await api(`/v1/groups/${encodeURIComponent(id)}`);
  const members = (g.members || []).map((m) => el("tr", {}, el("td", { class: "value" }, m.member_id),
    el("td", {}, m.client_id || "–"), el("td", {}, m.client_host || "–"),
    el("td", {}, (m.assignment || []).map((a) => `${a.topic}[${(a.partitions || []).join(",")}]`).join(" ") || "–")));
  const offsets = g.offsets || [];
  const total = offsets.reduce((sum, o) => sum + (o.lag || 0), 0);
  const rows = offsets.map((o) => el("tr", {}, el("td", {}, o.topic), num(o.partition), num(o.committed_offset),
    num(o.high_watermark), el("td", { class: `num ${o.lag ? "warn" : "ok"}` }, o.lag ?? "–")));
  show(el("h1", {}, `Group ${g.group_id}`),
    el("div", { class: "cards" },
      card(null, el("div", { class: "label" }, "State"), el("div", { class: "stat" }, g.state || "–")),
      card(null, el("div", { class: "label" }, "Generation"), el("div", { class: "stat" }, g.generation_id ?? "–")),
      card(null, el("div", { class: "label" }, "Coordinator"), el("div", { class: "stat" }, g.coordinator ?? "–")),
      card(null, el("div", { class: "label" }, "Total lag"), el("div", { class: "stat", id: "group-lag-total" }, total))),
    card("Members", members.length ? table("members", ["member", "client id", "host", "assignment"], members)
      : el("p", { class: "muted" }, "No live members.")),
    card("Committed offsets and lag", table("group-offsets", ["topic", { label: "partition", num: true },
      { label: "committed", num: true }, { label: "high watermark", num: true }, { label: "lag", num: true }], rows)));
}

// ---- routing -----------------------------------------------------------------------

function parseHash() {
  const [path, qs] = (location.hash.slice(1) || "/").split("?");
  const query = Object.fromEntries(new URLSearchParams(qs || ""));
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query };
}

async function route() {
  const { parts, query } = parseHash();
  const page = parts[0] || "overview";
  for (const a of document.querySelectorAll("nav a")) {
    const p = a.dataset.page;
    a.classList.toggle("active", p === page || (p === "topics" && page === "topic") || (p === "groups" && page === "group"));
  }
  try {
    if (page === "topics") await topicsPage();
    else if (page === "topic" && parts[1]) await topicPage(parts[1], query);
    else if (page === "groups") await groupsPage();
    else if (page === "group" && parts[1]) await groupPage(parts[1]);
    else await overviewPage();
    document.body.dataset.loaded = location.hash || "#/";
  } catch (e) {
    show(errorCard(e));
    document.body.dataset.loaded = "error";
  }
}

document.getElementById("token").value = state.token;
document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = document.getElementById("token").value.trim();
  if (state.token) localStorage.setItem("dmq.token", state.token); else localStorage.removeItem("dmq.token");
  route();
});
window.addEventListener("hashchange", route);
route();
sample();
setInterval(sample, 2000);
