"use strict";
// Isola's web UI: three views over the JSON API under /_isola/api/ (see
// internal/webui/api.go). No framework: the pages are small, and every
// control is a native one, so the keyboard works everywhere.

const DEFAULT_WORKFLOW = `import { WorkflowEntrypoint } from "cloudflare:workers";

export class TenantWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    const greeting = await step.do("greet", async () => "Hello, " + event.payload.name + "!");
    console.log("greeted", event.payload.name);
    await step.sleep("pause", "1 second");
    const approval = await step.waitForEvent("approval", { type: "approve", timeout: "1 hour" });
    return step.do("shout", async () => greeting.toUpperCase() + " " + JSON.stringify(approval.payload));
  }
}
`;

const DEFAULT_APP = `import { DurableObject } from "cloudflare:workers";

export class App extends DurableObject {
  fetch(request) {
    let counter = this.ctx.storage.kv.get("counter") || 0;
    ++counter;
    this.ctx.storage.kv.put("counter", counter);
    return new Response("You've made " + counter + " requests.\\n");
  }
}
`;

const $ = (id) => document.getElementById(id);

async function api(path, opts = {}) {
  const res = await fetch("/_isola/api/" + path, {
    ...opts,
    headers: opts.body ? { "content-type": "application/json" } : {},
  });
  const text = await res.text();
  let body = text;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
  if (!res.ok) throw new Error((body && body.error) || text || res.status + " " + res.statusText);
  return body;
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function ago(iso) {
  if (!iso) return "—";
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 1) return "just now";
  if (s < 90) return Math.round(s) + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  return new Date(iso).toLocaleString();
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "—";
}

function bytes(n) {
  if (n < 0) return "busy";
  if (n < 1024) return n + " B";
  if (n < 1 << 20) return (n / 1024).toFixed(0) + " KB";
  return (n / (1 << 20)).toFixed(1) + " MB";
}

// tenantOf is the loader id an instance's steps ran on ("<id>@<version>").
function tenantOf(inst) {
  const code = inst.code && inst.code.started;
  return code ? code.slice(0, code.lastIndexOf("@")) : "";
}

// setRows replaces a table body's rows when what they show changed, unless
// the keyboard is inside it: a refresh must not take the focus away.
const shown = new WeakMap();
function setRows(tbody, html, force) {
  if (!force && (shown.get(tbody) === html || tbody.contains(document.activeElement))) return;
  shown.set(tbody, html);
  tbody.innerHTML = html;
}

// ---- live logs (server-sent events) ----

function formatLog(e) {
  const who = e.tenant ? `${e.app}/${e.tenant}` : e.app;
  return `<span class="log-meta">${esc(clock(e.time))} [${esc(who)}]</span> <span class="log-${esc(e.level)}">${esc(e.level)}: ${esc(e.message)}</span>\n`;
}

// LogView streams the log of one app and tenant into a <pre>.
class LogView {
  constructor(pre, onEntry) {
    this.pre = pre;
    this.onEntry = onEntry;
    this.source = null;
  }
  open(query) {
    this.close();
    this.pre.innerHTML = "";
    this.source = new EventSource("/_isola/api/logs?" + new URLSearchParams(query));
    this.source.onmessage = (m) => {
      const e = JSON.parse(m.data);
      const atEnd = this.pre.scrollTop + this.pre.clientHeight >= this.pre.scrollHeight - 4;
      this.pre.insertAdjacentHTML("beforeend", formatLog(e));
      while (this.pre.childNodes.length > 3000) this.pre.removeChild(this.pre.firstChild);
      if (atEnd) this.pre.scrollTop = this.pre.scrollHeight;
      if (this.onEntry) this.onEntry(e);
    };
  }
  close() {
    if (this.source) this.source.close();
    this.source = null;
  }
}

// ---- dashboard ----

const dashboard = {
  timer: null,
  apps: [],
  logs: null,
  selectedObject: null,
  selectedInstance: null,

  async start() {
    this.logs ??= new LogView($("dash-logs"));
    if (!this.apps.length) {
      this.apps = await api("apps");
      $("filter-app").innerHTML = this.apps.map((a) => `<option value="${esc(a.key)}">${esc(a.key)} (${esc(a.name)})</option>`).join("");
      const withWorkflows = this.apps.find((a) => a.workflows.length);
      if (withWorkflows) $("filter-app").value = withWorkflows.key;
      this.fillWorkflows();
    }
    this.openLogs();
    await this.refresh(true);
    this.timer = setInterval(() => this.refresh(false), 2000);
  },
  stop() {
    clearInterval(this.timer);
    this.logs && this.logs.close();
  },
  fillWorkflows() {
    const app = this.apps.find((a) => a.key === $("filter-app").value) || this.apps[0];
    const names = app ? app.workflows : [];
    $("filter-workflow").innerHTML = names.length
      ? names.map((n) => `<option>${esc(n)}</option>`).join("")
      : `<option value="">(no workflows)</option>`;
  },
  openLogs() {
    const q = {};
    if ($("log-app").value) q.app = $("log-app").value;
    if ($("log-tenant").value.trim()) q.tenant = $("log-tenant").value.trim();
    this.logs.open(q);
  },
  async refresh(force) {
    try {
      await Promise.all([this.isolates(force), this.objects(force), this.instances(force)]);
      if (this.selectedObject) await this.showData(this.selectedObject, false);
      if (this.selectedInstance) await this.showInstance(this.selectedInstance, false);
    } catch (e) {
      console.warn("dashboard refresh:", e.message);
    }
  },
  async isolates(force) {
    const list = await api("isolates");
    setRows($("isolates"), list.length ? list.map((i) => `<tr>
      <td>${esc(i.app)}</td><td>${esc(i.loader || "(own)")}</td><td><code>${esc(i.id || "(anonymous)")}</code></td>
      <td><code>${esc(i.code || "")}</code></td><td>${i.live ? "yes" : "no"}</td>
      <td class="num">${i.live ? bytes(i.memory) : "—"}</td><td>${esc(ago(i.last_used))}</td></tr>`).join("")
      : `<tr><td colspan="7" class="empty">No isolates.</td></tr>`, force);
  },
  async objects(force) {
    const list = await api("objects");
    setRows($("objects"), list.length ? list.map((o, i) => `<tr>
      <td>${esc(o.app)}</td><td>${esc(o.class)}</td>
      <td><code title="${esc(o.id)}">${esc(o.name || o.id.slice(0, 16) + "…")}</code></td>
      <td>${esc(o.facet || "")}</td><td>${o.live ? "yes" : "no"}</td><td class="num">${bytes(o.size)}</td>
      <td>${esc(ago(o.last_used))}</td>
      <td><button type="button" class="secondary" data-object="${i}">Data</button></td></tr>`).join("")
      : `<tr><td colspan="8" class="empty">No Durable Objects stored yet.</td></tr>`, force);
    this.objectList = list;
  },
  async showData(o, announce) {
    this.selectedObject = o;
    const q = new URLSearchParams({ app: o.app, class: o.class, id: o.id });
    if (o.facet) q.set("facet", o.facet);
    const title = `${o.class} ${o.name || o.id.slice(0, 16)}${o.facet ? " facet " + o.facet : ""}`;
    const el = $("object-data");
    try {
      const data = await api("objects/data?" + q);
      const html = `<h4>${esc(title)} ${data.live ? "(live)" : ""}</h4>` + renderData(data);
      if (announce || el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
    } catch (e) {
      el.innerHTML = `<p class="error">${esc(title)}: ${esc(e.message)}</p>`;
    }
  },
  async instances(force) {
    const app = $("filter-app").value, wf = $("filter-workflow").value;
    if (!app || !wf) {
      setRows($("instances"), `<tr><td colspan="6" class="empty">This app has no workflows.</td></tr>`, force);
      return;
    }
    const q = new URLSearchParams({ limit: "200" });
    if ($("filter-status").value) q.set("status", $("filter-status").value);
    let list = await api(`apps/${app}/workflows/${encodeURIComponent(wf)}/instances?${q}`);
    const tenant = $("filter-tenant").value.trim();
    if (tenant) list = list.filter((i) => tenantOf(i).includes(tenant));
    setRows($("instances"), list.length ? list.map((i) => `<tr>
      <td><a href="#/dashboard" data-instance="${esc(i.id)}"><code>${esc(i.id)}</code></a></td>
      <td class="status-${esc(i.status)}">${esc(i.status)}</td><td><code>${esc(tenantOf(i))}</code></td>
      <td>${esc(ago(i.created))}</td><td>${esc(ago(i.ended))}</td>
      <td class="error">${esc(i.error ? i.error.name + ": " + i.error.message : "")}</td></tr>`).join("")
      : `<tr><td colspan="6" class="empty">No instances match.</td></tr>`, force);
  },
  async showInstance(sel, announce) {
    this.selectedInstance = sel;
    const el = $("instance-detail");
    try {
      const inst = await api(`apps/${sel.app}/workflows/${encodeURIComponent(sel.workflow)}/instances/${encodeURIComponent(sel.id)}`);
      const rows = inst.steps.map((s) => {
        const size = s.result === undefined ? "—" : bytes(new TextEncoder().encode(JSON.stringify(s.result)).length);
        return `<tr><td>${esc(s.name)}${s.count > 1 ? " #" + s.count : ""}</td><td>${esc(s.kind)}</td>
          <td class="state-${esc(s.state)}">${esc(s.state)}</td><td>${esc(clock(s.started))}</td><td>${esc(clock(s.ended || s.wake))}</td>
          <td class="num">${s.duration_ms ?? "—"}${s.duration_ms !== undefined ? " ms" : ""}</td>
          <td class="num">${s.kind === "do" ? s.attempts : "—"}</td><td class="num">${size}</td>
          <td class="error">${esc(s.error ? s.error.name + ": " + s.error.message : "")}</td></tr>`;
      }).join("");
      const html = `<h4>Instance <code>${esc(inst.id)}</code> of ${esc(inst.workflow)}:
        <span class="status-${esc(inst.status)}">${esc(inst.status)}</span></h4>
        <table><thead><tr><th>Step</th><th>Kind</th><th>State</th><th>Start</th><th>End / until</th><th>Duration</th>
        <th>Attempts</th><th>Output size</th><th>Error</th></tr></thead>
        <tbody>${rows || `<tr><td colspan="9" class="empty">No steps yet.</td></tr>`}</tbody></table>`;
      if (announce || el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
    } catch (e) {
      el.innerHTML = `<p class="error">${esc(e.message)}</p>`;
    }
  },
};

function renderData(data) {
  let html = "";
  for (const t of data.tables) {
    html += `<h4>Table ${esc(t.name)} (${t.count} rows)</h4><table><thead><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>`;
    html += t.rows.length
      ? t.rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v === null ? "NULL" : v)}</td>`).join("")}</tr>`).join("")
      : `<tr><td colspan="${t.columns.length || 1}" class="empty">empty</td></tr>`;
    html += `</tbody></table>`;
  }
  html += `<h4>KV (${data.kv_count} keys)</h4><table><thead><tr><th>Key</th><th>Value</th></tr></thead><tbody>`;
  html += data.kv.length
    ? data.kv.map((kv) => `<tr><td><code>${esc(kv.key)}</code></td><td><code>${esc(kv.value)}</code></td></tr>`).join("")
    : `<tr><td colspan="2" class="empty">no keys</td></tr>`;
  return html + `</tbody></table>`;
}

$("dash-refresh").addEventListener("click", () => dashboard.refresh(true));
$("filter-app").addEventListener("change", () => { dashboard.fillWorkflows(); dashboard.instances(true); });
for (const id of ["filter-workflow", "filter-status"]) $(id).addEventListener("change", () => dashboard.instances(true));
$("filter-tenant").addEventListener("input", () => dashboard.instances(true));
$("instance-filters").addEventListener("submit", (e) => e.preventDefault());
$("log-filters").addEventListener("submit", (e) => e.preventDefault());
$("log-app").addEventListener("change", () => dashboard.openLogs());
$("log-tenant").addEventListener("change", () => dashboard.openLogs());
$("objects").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-object]");
  if (b) dashboard.showData(dashboard.objectList[+b.dataset.object], true);
});
$("instances").addEventListener("click", (e) => {
  const a = e.target.closest("a[data-instance]");
  if (!a) return;
  e.preventDefault();
  dashboard.showInstance({ app: $("filter-app").value, workflow: $("filter-workflow").value, id: a.dataset.instance }, true);
});

// ---- workflow playground ----

const TERMINAL = new Set(["complete", "errored", "terminated"]);
const ATTEMPT_LINE = /^workflow (\S+) instance (\S+): step (".*?")(?: \(#(\d+)\))? attempt (\d+) failed: (.*); retrying in (.+)$/;

// plannedSteps reads the step names out of the code, so the checklist can
// show every step before it runs; steps it cannot see (computed names)
// appear when they are recorded.
function plannedSteps(code) {
  const out = [];
  const re = /step\.(do|sleep|sleepUntil|waitForEvent)\(\s*(["'`])((?:(?!\2)[^\\]|\\.)*)\2/g;
  let m;
  while ((m = re.exec(code))) out.push({ kind: m[1] === "waitForEvent" ? "waitForEvent" : m[1] === "do" ? "do" : "sleep", name: m[3] });
  return out;
}

const playground = {
  instance: null, // {id, tenant}
  timer: null,
  logs: null,
  attempts: new Map(), // "name#count" → [{attempt, error, delay}]
  planned: [],
  lastHTML: "",

  start() {
    this.logs ??= new LogView($("wf-logs"), (e) => this.onLog(e));
    if (!$("wf-code").value) $("wf-code").value = localStorage.getItem("isola.wf.code") || DEFAULT_WORKFLOW;
    if (!$("wf-params").value) $("wf-params").value = localStorage.getItem("isola.wf.params") || `{"name": "Alice"}`;
    if (this.instance) {
      this.logs.open({ app: "playground", tenant: this.instance.tenant });
      this.poll();
    }
  },
  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.logs && this.logs.close();
  },
  async run() {
    $("wf-error").textContent = "";
    let params;
    try {
      params = JSON.parse($("wf-params").value || "{}");
    } catch (e) {
      $("wf-error").textContent = "Params are not JSON: " + e.message;
      $("wf-params").focus();
      return;
    }
    const code = $("wf-code").value;
    localStorage.setItem("isola.wf.code", code);
    localStorage.setItem("isola.wf.params", $("wf-params").value);
    $("wf-run").disabled = true;
    try {
      const made = await api("playground/workflow", { method: "POST", body: JSON.stringify({ code, params }) });
      this.instance = { id: made.id, tenant: made.tenant, workflow: made.workflow };
      this.planned = plannedSteps(code);
      this.attempts = new Map();
      this.lastHTML = "";
      $("wf-id").textContent = made.id;
      $("wf-output").textContent = "";
      $("wf-steps").innerHTML = "";
      this.logs.open({ app: "playground", tenant: made.tenant });
      clearTimeout(this.timer);
      await this.poll();
    } catch (e) {
      $("wf-error").textContent = e.message;
    } finally {
      $("wf-run").disabled = false;
    }
  },
  onLog(e) {
    const m = ATTEMPT_LINE.exec(e.message);
    if (!m || !this.instance || m[2] !== this.instance.id) return;
    const key = JSON.parse(m[3]) + "#" + (m[4] || "1");
    const list = this.attempts.get(key) || [];
    if (!list.some((a) => a.attempt === +m[5])) list.push({ attempt: +m[5], error: m[6], delay: m[7] });
    this.attempts.set(key, list);
    this.lastHTML = "";
  },
  path(suffix = "") {
    const i = this.instance;
    return `apps/playground/workflows/${encodeURIComponent(i.workflow)}/instances/${encodeURIComponent(i.id)}${suffix}`;
  },
  async poll() {
    if (!this.instance) return;
    const id = this.instance.id;
    try {
      const inst = await api(this.path());
      if (!this.instance || this.instance.id !== id) return;
      this.render(inst);
    } catch (e) {
      $("wf-error").textContent = e.message;
    }
    if (document.getElementById("view-workflow").hidden) return;
    this.timer = setTimeout(() => this.poll(), 250);
  },
  render(inst) {
    const st = $("wf-status");
    st.textContent = inst.status;
    st.className = "status status-" + inst.status;
    const active = !TERMINAL.has(inst.status);
    $("wf-pause").disabled = !active || inst.status === "paused" || inst.status === "waitingForPause";
    $("wf-resume").disabled = inst.status !== "paused" && inst.status !== "waitingForPause";
    $("wf-terminate").disabled = !active;
    $("wf-restart").disabled = false;
    // The checklist: recorded steps in order; planned ones not reached yet
    // after them, unchecked.
    const items = [];
    const seen = new Map();
    for (const s of inst.steps) {
      seen.set(s.name, (seen.get(s.name) || 0) + 1);
      items.push(s);
    }
    const left = new Map(seen);
    for (const p of this.planned) {
      const n = left.get(p.name) || 0;
      if (n > 0) left.set(p.name, n - 1);
      else items.push({ name: p.name, kind: p.kind, state: "planned", count: 1 });
    }
    const html = items.map((s) => this.stepHTML(s, inst)).join("");
    if (html !== this.lastHTML && !$("wf-steps").contains(document.activeElement)) {
      $("wf-steps").innerHTML = html;
      this.lastHTML = html;
    }
    const out = $("wf-output");
    if (inst.status === "complete") out.textContent = JSON.stringify(inst.output, null, 2);
    else if (inst.error) out.textContent = inst.error.name + ": " + inst.error.message;
    else out.textContent = "";
  },
  stepHTML(s, inst) {
    const marks = { done: "✓", failed: "✗", sleeping: "…", waiting: "…", planned: "○" };
    let meta = "";
    if (s.kind === "do" && s.state !== "planned") meta = `${s.duration_ms ?? 0} ms · ${s.attempts} attempt${s.attempts === 1 ? "" : "s"}`;
    if (s.state === "sleeping") meta = `sleeping until ${clock(s.wake)}`;
    if (s.kind === "sleep" && s.state === "done") meta = "slept";
    if (s.state === "waiting") meta = `waiting for “${s.type}” until ${clock(s.wake)}`;
    if (s.kind === "waitForEvent" && s.state === "done") meta = `got “${s.type}”`;
    let inner = "";
    const attempts = this.attempts.get(s.name + "#" + (s.count || 1));
    if (attempts && attempts.length) {
      inner += `<ul class="attempts">${attempts.map((a) => `<li>attempt ${a.attempt} failed: ${esc(a.error)} (retried after ${esc(a.delay)})</li>`).join("")}</ul>`;
    }
    if (s.error) inner += `<div class="result error">${esc(s.error.name)}: ${esc(s.error.message)}</div>`;
    if (s.result !== undefined && s.kind !== "sleep") inner += `<pre class="result">${esc(JSON.stringify(s.result))}</pre>`;
    if (s.state === "waiting" && !TERMINAL.has(inst.status)) {
      const id = "wf-event-" + encodeURIComponent(s.type).replace(/%/g, "_");
      inner += `<form data-event-type="${esc(s.type)}">
        <label for="${id}">Payload for “${esc(s.type)}” (JSON)</label>
        <textarea id="${id}" class="code" rows="1" spellcheck="false">{"ok": true}</textarea>
        <button type="submit" id="${id}-send">Send “${esc(s.type)}” event</button></form>`;
    }
    const label = s.name + (s.count > 1 ? " #" + s.count : "");
    return `<li data-step="${esc(s.name)}" data-state="${esc(s.state)}" class="state-${esc(s.state)}">
      <span class="mark" aria-hidden="true">${marks[s.state] || "?"}</span><span class="sr">${esc(s.state)}:</span>
      <strong>${esc(label)}</strong> <span class="meta">${esc(s.kind)}${meta ? " · " + esc(meta) : ""}</span>${inner}</li>`;
  },
  async control(action) {
    if (!this.instance) return;
    $("wf-error").textContent = "";
    try {
      await api(this.path("/" + action), { method: "POST" });
      if (action === "restart") { this.attempts = new Map(); this.lastHTML = ""; }
      clearTimeout(this.timer);
      await this.poll();
    } catch (e) {
      $("wf-error").textContent = e.message;
    }
  },
  async sendEvent(type, payloadText) {
    $("wf-error").textContent = "";
    let payload;
    try {
      payload = JSON.parse(payloadText || "null");
    } catch (e) {
      $("wf-error").textContent = "The payload is not JSON: " + e.message;
      return;
    }
    try {
      await api(this.path("/events"), { method: "POST", body: JSON.stringify({ type, payload }) });
      $("wf-run").focus();
      this.lastHTML = "";
      clearTimeout(this.timer);
      await this.poll();
    } catch (e) {
      $("wf-error").textContent = e.message;
    }
  },
};

$("wf-run").addEventListener("click", () => playground.run());
for (const a of ["pause", "resume", "terminate", "restart"]) $("wf-" + a).addEventListener("click", () => playground.control(a));
$("wf-steps").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = e.target.closest("form[data-event-type]");
  if (form) playground.sendEvent(form.dataset.eventType, form.querySelector("textarea").value);
});
for (const id of ["wf-code", "wf-params"]) {
  $(id).addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); playground.run(); }
  });
}

// ---- app playground ----

const appPlayground = {
  loaded: false,
  tenant: null,
  logs: null,

  async start() {
    this.logs ??= new LogView($("app-logs"));
    if (!this.loaded) {
      try {
        const saved = await api("playground/app/code");
        $("app-code").value = saved.code ?? DEFAULT_APP;
        this.tenant = saved.tenant;
        this.loaded = true;
      } catch (e) {
        $("app-error").textContent = e.message;
      }
    }
    this.openLogs();
    this.showData();
  },
  stop() {
    this.logs && this.logs.close();
  },
  openLogs() {
    if (this.tenant) this.logs.open({ app: "playground", tenant: this.tenant });
  },
  async save() {
    $("app-error").textContent = "";
    try {
      const r = await api("playground/app/code", { method: "PUT", body: JSON.stringify({ code: $("app-code").value }) });
      this.tenant = r.tenant;
      $("app-saved").textContent = `Saved at ${new Date().toLocaleTimeString()}: the next request runs it (tenant ${r.tenant}).`;
      this.openLogs();
    } catch (e) {
      $("app-error").textContent = e.message;
    }
  },
  async send() {
    $("app-error").textContent = "";
    let path = $("app-path").value.trim() || "/";
    if (!path.startsWith("/")) path = "/" + path;
    const method = $("app-method").value;
    const init = { method };
    if (method !== "GET" && $("app-body").value) init.body = $("app-body").value;
    try {
      const res = await fetch("/_isola/api/playground/app/run" + path, init);
      const body = await res.text();
      $("app-response").textContent = `${res.status} ${res.statusText}\n\n${body}`;
    } catch (e) {
      $("app-error").textContent = e.message;
    }
    await this.showData();
  },
  async showData() {
    const el = $("app-data");
    try {
      const data = await api("objects/data?" + new URLSearchParams({ app: "playground", class: "AppRunner", id: "app", facet: "app" }));
      el.innerHTML = data.exists ? renderData(data) : `<p class="hint">No data yet: send a request to the app.</p>`;
    } catch (e) {
      el.innerHTML = `<p class="error">${esc(e.message)}</p>`;
    }
  },
};

$("app-save").addEventListener("click", () => appPlayground.save());
$("app-request").addEventListener("submit", (e) => { e.preventDefault(); appPlayground.send(); });
$("app-code").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); appPlayground.save(); }
});

// ---- routing ----

const views = { dashboard, workflow: playground, app: appPlayground };
let current = null;

function route() {
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1];
  const next = views[name] ? name : "dashboard";
  if (next === current) return;
  if (current) views[current].stop();
  for (const v of Object.keys(views)) {
    $("view-" + v).hidden = v !== next;
    const link = $("nav-" + v);
    if (v === next) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  current = next;
  views[next].start();
}

window.addEventListener("hashchange", route);
route();
