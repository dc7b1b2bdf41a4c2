// crunch dashboard: plain JavaScript, no framework, no build step.
// Everything comes from the /v1 API with the key the user entered, sent as
// Authorization: Bearer (never in a URL). Event streams are read with
// fetch() because EventSource cannot send headers.

const $ = (sel) => document.querySelector(sel);
const KEY_STORE = "crunch.apiKey";
const POLL_MS = 2000;
const PAGE_SIZE = 20;
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

const state = {
  key: sessionStorage.getItem(KEY_STORE) || "",
  kernels: [],           // from GET /v1/kernels
  view: null,            // "jobs" | "job" | "submit" | "workers"
  timers: [],            // intervals of the current view
  stream: null,          // AbortController of the job's event stream
  jobs: { cursors: [""], page: 0, next: null },
  job: null,             // the job on the job page
  chunks: [],
  artifactFor: null,     // job id whose artifact is shown
};

// ---- the API ----------------------------------------------------------

class APIError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

function authHeaders(extra = {}) {
  const h = { ...extra };
  if (state.key) h.Authorization = "Bearer " + state.key;
  return h;
}

async function api(path, { method = "GET", body, signal } = {}) {
  const headers = authHeaders(body === undefined ? {} : { "Content-Type": "application/json" });
  const res = await fetch(path, { method, headers, body, signal, cache: "no-store" });
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch { /* not JSON */ }
    const err = new APIError(res.status, problem);
    if (res.status === 401) needKey(err.message);
    throw err;
  }
  return res.json();
}

// ---- small helpers ----------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function fmtAge(iso) {
  if (!iso) return "—";
  const ms = Date.now() - Date.parse(iso);
  if (ms < 5000) return "just now";
  return fmtDuration(ms) + " ago";
}

// fmtTime shows a time in the browser's time zone as 2026-12-01 22:34:04.213.
function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function jobDuration(j) {
  if (!j.started_at) return null;
  const end = j.finished_at ? Date.parse(j.finished_at) : Date.now();
  return end - Date.parse(j.started_at);
}

function pct(p) { return Math.round((p || 0) * 1000) / 10; }

function announce(msg) {
  const a = $("#announce");
  a.textContent = "";
  setTimeout(() => { a.textContent = msg; }, 30);
}

function banner(msg) {
  const b = $("#banner");
  b.textContent = msg || "";
  b.hidden = !msg;
}

function progressBar(j, big = false) {
  const bar = el("div", {
    class: `bar ${j.status}${big ? " big" : ""}`, role: "progressbar",
    "aria-label": `Progress of ${j.id}`, "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct(j.progress),
  }, el("span"));
  bar.firstChild.style.width = `${pct(j.progress)}%`;
  return bar;
}

function setBar(bar, j) {
  bar.className = `bar big ${j.status}`;
  bar.setAttribute("aria-valuenow", pct(j.progress));
  bar.firstElementChild.style.width = `${pct(j.progress)}%`;
}

function badge(status) { return el("span", { class: `badge ${status}`, text: status }); }

function clearTimers() {
  for (const t of state.timers) clearInterval(t);
  state.timers = [];
  if (state.stream) { state.stream.abort(); state.stream = null; }
}

function every(ms, fn) {
  fn();
  state.timers.push(setInterval(fn, ms));
}

// ---- the key ----------------------------------------------------------

function needKey(msg) {
  $("#key-state").textContent = state.key ? "key refused" : "key needed";
  banner(msg ? `${msg} Enter your API key at the top of the page.` : "Enter your API key at the top of the page.");
}

async function checkKey() {
  try {
    const body = await api("/v1/kernels");
    state.kernels = body.kernels;
    $("#key-state").textContent = state.key ? "key accepted" : "no key needed";
    banner("");
    fillKernelFilter();
    return true;
  } catch (err) {
    if (!(err instanceof APIError) || err.status !== 401) banner(`The API is unavailable: ${err.message}`);
    return false;
  }
}

function setupKeyForm() {
  const input = $("#api-key");
  input.value = state.key;
  $("#key-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    state.key = input.value.trim();
    if (state.key) sessionStorage.setItem(KEY_STORE, state.key);
    else sessionStorage.removeItem(KEY_STORE);
    state.jobs = { cursors: [""], page: 0, next: null };
    if (await checkKey()) announce(state.key ? "API key accepted." : "Using no key.");
    route();
  });
  $("#key-forget").addEventListener("click", () => {
    state.key = "";
    input.value = "";
    sessionStorage.removeItem(KEY_STORE);
    state.jobs = { cursors: [""], page: 0, next: null };
    $("#key-state").textContent = "key forgotten";
    checkKey().then(route);
  });
}

// ---- routing ----------------------------------------------------------

function route() {
  clearTimers();
  const hash = location.hash.replace(/^#\/?/, "");
  const [name, id] = hash.split("/");
  let view = name || "jobs";
  if (view === "jobs" && id) view = "job";
  if (!["jobs", "job", "submit", "workers"].includes(view)) view = "jobs";
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== `view-${view}`;
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === (view === "job" ? "jobs" : view)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const changed = state.view !== view;
  state.view = view;
  if (view === "jobs") showJobs();
  else if (view === "job") showJob(decodeURIComponent(id));
  else if (view === "submit") showSubmit();
  else if (view === "workers") showWorkers();
  if (changed) document.title = `${{ jobs: "Jobs", job: "Job", submit: "Submit", workers: "Workers" }[view]} · crunch`;
}

// ---- jobs list --------------------------------------------------------

function fillKernelFilter() {
  const sel = $("#filter-kernel");
  const current = sel.value;
  sel.replaceChildren(el("option", { value: "", text: "any" }),
    ...state.kernels.map((k) => el("option", { value: k.name, text: k.name })));
  sel.value = current;
}

function setupJobFilters() {
  for (const id of ["#filter-status", "#filter-kernel"]) {
    $(id).addEventListener("change", () => {
      state.jobs = { cursors: [""], page: 0, next: null };
      loadJobs();
    });
  }
  $("#page-first").addEventListener("click", () => { state.jobs = { cursors: [""], page: 0, next: null }; loadJobs(); });
  $("#page-next").addEventListener("click", () => {
    if (!state.jobs.next) return;
    state.jobs.cursors[state.jobs.page + 1] = state.jobs.next;
    state.jobs.page++;
    loadJobs();
  });
}

function showJobs() { every(POLL_MS, loadJobs); }

let jobsSeq = 0;
async function loadJobs() {
  const seq = ++jobsSeq;
  const q = new URLSearchParams({ limit: PAGE_SIZE });
  const status = $("#filter-status").value, kernel = $("#filter-kernel").value;
  if (status) q.set("status", status);
  if (kernel) q.set("kernel", kernel);
  const cursor = state.jobs.cursors[state.jobs.page];
  if (cursor) q.set("cursor", cursor);
  let body;
  try { body = await api(`/v1/jobs?${q}`); } catch (err) { if (err.status !== 401) banner(`Could not list jobs: ${err.message}`); return; }
  if (seq !== jobsSeq) return; // a newer request was sent
  banner("");
  state.jobs.next = body.next_cursor;
  renderJobs(body.jobs);
}

function renderJobs(jobs) {
  const tbody = $("#jobs-body");
  if (jobs.length === 0) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "empty", text: "No jobs match. Submit one from the Submit page." })));
  } else {
    tbody.replaceChildren(...jobs.map((j) => el("tr", { "data-job": j.id, "data-status": j.status },
      el("td", {}, el("a", { href: `#/jobs/${encodeURIComponent(j.id)}`, class: "mono", text: j.id })),
      el("td", { text: j.kernel }),
      el("td", {}, badge(j.status)),
      el("td", {}, el("div", { class: "cell-progress" }, progressBar(j), el("span", { class: "pct", text: `${pct(j.progress)}%` }))),
      el("td", { class: "mono", text: `${j.chunks.done}/${j.chunks.total}${j.chunks.failed ? ` (${j.chunks.failed} failed)` : ""}` }),
      el("td", { title: j.created_at, text: fmtAge(j.created_at) }),
      el("td", { text: fmtDuration(jobDuration(j)) }),
    )));
  }
  const page = state.jobs.page;
  $("#jobs-count").textContent = `Page ${page + 1}: ${jobs.length} job${jobs.length === 1 ? "" : "s"}, newest first. Updates every ${POLL_MS / 1000} s.`;
  $("#page-next").disabled = !state.jobs.next;
  $("#page-first").disabled = page === 0;
}

// ---- one job ----------------------------------------------------------

function showJob(id) {
  state.job = null;
  state.chunks = [];
  $("#job-title").textContent = id;
  $("#job-status").replaceChildren();
  $("#job-details").replaceChildren();
  $("#job-result").textContent = "—";
  $("#job-error").hidden = true;
  $("#job-figure").hidden = true;
  $("#timeline").replaceChildren();
  $("#timeline-summary").textContent = "Loading…";
  $("#deliveries-body").replaceChildren();
  state.artifactFor = null;
  state.chunksFinal = false;
  const ctl = new AbortController();
  state.stream = ctl;
  api(`/v1/jobs/${encodeURIComponent(id)}`, { signal: ctl.signal })
    .then((j) => { renderJob(j); return followJob(id, ctl.signal); })
    .catch((err) => {
      if (err.name === "AbortError") return;
      $("#timeline-summary").textContent = "";
      banner(err.status === 404 ? `No job ${id} (or it belongs to another tenant).` : `Could not load the job: ${err.message}`);
    });
  // Chunks and deliveries are polled: the event stream says when chunks
  // finish, but not when they start, and running bars grow with time.
  every(1000, () => { if (state.job && (!TERMINAL.has(state.job.status) || !state.chunksFinal)) loadChunks(id); });
  every(POLL_MS * 2, () => { if (state.job) loadDeliveries(id); });
}

// followJob reads the job's event stream until its terminal status,
// reconnecting with Last-Event-ID when the stream drops.
async function followJob(id, signal) {
  let lastID = "";
  let delay = 500;
  while (!signal.aborted) {
    try {
      const headers = authHeaders({ Accept: "text/event-stream" });
      if (lastID) headers["Last-Event-ID"] = lastID;
      const res = await fetch(`/v1/jobs/${encodeURIComponent(id)}/events`, { headers, signal, cache: "no-store" });
      if (!res.ok) throw new APIError(res.status, await res.json().catch(() => null));
      delay = 500;
      let terminal = false;
      for await (const ev of readEvents(res.body)) {
        if (ev.id) lastID = ev.id;
        if (ev.event !== "progress" && ev.event !== "status") continue;
        const j = JSON.parse(ev.data);
        renderJob(j);
        loadChunks(id, TERMINAL.has(j.status));
        if (TERMINAL.has(j.status)) terminal = true;
      }
      if (terminal) return;
    } catch (err) {
      if (signal.aborted || err.name === "AbortError") return;
      if (err instanceof APIError && err.status < 500) return; // 401, 404: nothing to retry
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 8000);
  }
}

// readEvents parses a text/event-stream body into {id, event, data}.
async function* readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let ev = { id: "", event: "message", data: [] };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (ev.data.length) yield { id: ev.id, event: ev.event, data: ev.data.join("\n") };
          ev = { id: ev.id, event: "message", data: [] };
          continue;
        }
        if (line.startsWith(":")) continue; // a comment (heartbeat)
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "data") ev.data.push(val);
        else if (field === "event") ev.event = val;
        else if (field === "id") ev.id = val;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function renderJob(j) {
  const prev = state.job;
  if (prev && prev.id === j.id && prev.status !== j.status) announce(`Job ${j.id} is now ${j.status}.`);
  state.job = j;
  $("#job-title").textContent = j.id;
  const st = $("#job-status");
  st.className = `badge ${j.status}`;
  st.textContent = j.status;
  setBar($("#job-progress"), j);
  $("#job-progress-text").textContent = `${pct(j.progress)}% · ${j.chunks.done}/${j.chunks.total} chunks${j.chunks.failed ? ` · ${j.chunks.failed} failed` : ""}`;
  const cancel = $("#job-cancel");
  cancel.disabled = TERMINAL.has(j.status);

  const dl = $("#job-details");
  const rows = [
    ["Kernel", j.kernel], ["Priority", j.priority],
    ["Created", fmtTime(j.created_at)], ["Started", fmtTime(j.started_at)], ["Finished", fmtTime(j.finished_at)],
    ["Duration", fmtDuration(jobDuration(j))],
    ["Params", el("pre", { class: "json", text: JSON.stringify(j.params, null, 2) })],
    ["Metadata", j.metadata ? el("pre", { class: "json", text: JSON.stringify(j.metadata, null, 2) }) : "—"],
    ["Webhook", j.webhook ? `${j.webhook.url} (${j.webhook.events.join(", ")})` : "—"],
  ];
  dl.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]));

  $("#job-result").textContent = j.result === null || j.result === undefined ? (TERMINAL.has(j.status) ? "no result" : "not yet") : JSON.stringify(j.result, null, 2);
  const errBox = $("#job-error");
  if (j.error) {
    errBox.hidden = false;
    errBox.replaceChildren(el("strong", { text: `${j.error.type || "error"}: ` }), j.error.detail || j.error.title || "");
  } else {
    errBox.hidden = true;
  }
  const kernel = state.kernels.find((k) => k.name === j.kernel);
  if (j.status === "succeeded" && kernel && kernel.artifact_type && state.artifactFor !== j.id) {
    state.artifactFor = j.id;
    loadArtifact(j, kernel.artifact_type);
  }
  if (TERMINAL.has(j.status)) drawTimeline();
}

async function loadArtifact(j, type) {
  const res = await fetch(`/v1/jobs/${encodeURIComponent(j.id)}/artifact`, { headers: authHeaders(), cache: "no-store" });
  if (!res.ok || state.job?.id !== j.id) return;
  const blob = await res.blob();
  const fig = $("#job-figure");
  const img = $("#job-image");
  if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  if (type.startsWith("image/")) {
    img.src = URL.createObjectURL(blob);
    img.alt = `Artifact of ${j.id} (${type})`;
    img.hidden = false;
    $("#job-image-caption").replaceChildren(`${type}, ${blob.size.toLocaleString()} bytes · `,
      el("a", { href: img.src, download: `${j.id}${type === "image/png" ? ".png" : ""}`, text: "download" }));
  } else {
    img.hidden = true;
    const url = URL.createObjectURL(blob);
    $("#job-image-caption").replaceChildren(el("a", { href: url, download: j.id, text: `Download the artifact (${type}, ${blob.size} bytes)` }));
  }
  fig.hidden = false;
}

// loadChunks reads the job's chunks and redraws the timeline: at most one
// request at a time, and for big jobs not more than every few seconds
// (unless forced, for the final state).
let chunksBusy = false;
let chunksAt = 0;
async function loadChunks(id, force = false) {
  const gap = Math.min(5000, 250 + state.chunks.length * 2);
  if (chunksBusy || (!force && Date.now() - chunksAt < gap)) return;
  chunksBusy = true;
  try {
    const body = await api(`/v1/jobs/${encodeURIComponent(id)}/chunks`);
    chunksAt = Date.now();
    if (state.job?.id !== id) return;
    state.chunks = body.chunks;
    if (TERMINAL.has(state.job.status) && body.chunks.every((c) => c.status !== "running")) state.chunksFinal = true;
    drawTimeline();
  } catch { /* shown by the next poll */ } finally {
    chunksBusy = false;
  }
}

async function loadDeliveries(id) {
  try {
    const body = await api(`/v1/jobs/${encodeURIComponent(id)}/deliveries`);
    if (state.job?.id !== id) return;
    const tbody = $("#deliveries-body");
    if (body.deliveries.length === 0) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "empty", text: state.job.webhook ? "No delivery attempted yet." : "This job has no webhook." })));
      return;
    }
    tbody.replaceChildren(...body.deliveries.map((d) => el("tr", {},
      el("td", { text: d.event }), el("td", { text: d.attempt }), el("td", { text: fmtTime(d.at) }),
      el("td", { text: d.status_code === null ? "no answer" : d.status_code }),
      el("td", { class: "wrap", text: d.error || (d.given_up ? "given up" : "—") }),
      el("td", { text: fmtDuration(d.duration_ms) }),
    )));
  } catch { /* shown by the next poll */ }
}

function setupCancel() {
  $("#job-cancel").addEventListener("click", async () => {
    const j = state.job;
    if (!j) return;
    const btn = $("#job-cancel");
    btn.disabled = true;
    try {
      renderJob(await api(`/v1/jobs/${encodeURIComponent(j.id)}/cancel`, { method: "POST" }));
      loadChunks(j.id, true);
    } catch (err) {
      banner(`Could not cancel: ${err.message}`);
      btn.disabled = TERMINAL.has(state.job?.status);
    }
  });
}

// ---- the chunk timeline ------------------------------------------------

// drawTimeline draws one lane per worker; each chunk is a bar from
// started_at to finished_at (or now, while running). Chunks that overlap
// in time on one worker (its slots) stack in sub-rows of its lane.
function drawTimeline() {
  const box = $("#timeline");
  const j = state.job;
  const chunks = state.chunks.filter((c) => c.started_at);
  const waiting = state.chunks.length - chunks.length;
  const retried = state.chunks.filter((c) => c.attempts > 1).length;
  const failed = state.chunks.filter((c) => c.status === "failed").length;
  const now = Date.now();
  const lanes = new Map();
  for (const c of chunks) {
    const w = c.worker || "unknown";
    if (!lanes.has(w)) lanes.set(w, []);
    lanes.get(w).push(c);
  }
  const names = [...lanes.keys()].sort();
  let summary = `${state.chunks.length} chunks on ${names.length} worker${names.length === 1 ? "" : "s"}`;
  if (waiting) summary += `, ${waiting} not started`;
  if (retried) summary += `, ${retried} retried`;
  if (failed) summary += `, ${failed} failed`;
  $("#timeline-summary").textContent = summary + ".";
  if (chunks.length === 0) { box.replaceChildren(); return; }

  const start = (c) => Date.parse(c.started_at);
  const end = (c) => (c.finished_at ? Date.parse(c.finished_at) : (TERMINAL.has(j?.status) && j.finished_at ? Date.parse(j.finished_at) : now));
  let t0 = Math.min(...chunks.map(start));
  if (j?.started_at) t0 = Math.min(t0, Date.parse(j.started_at));
  const t1 = Math.max(t0 + 1, ...chunks.map(end));
  const span = t1 - t0;

  const width = Math.max(560, box.clientWidth || 900);
  const labelW = Math.min(170, Math.max(90, Math.round(width * 0.16)));
  const plotW = width - labelW - 16;
  const rowH = 16, lanePad = 6, axisH = 26;
  const x = (t) => labelW + ((t - t0) / span) * plotW;

  // Pack each lane's bars into rows without overlap.
  const packed = names.map((name) => {
    const rowsEnd = [];
    const bars = lanes.get(name).slice().sort((a, b) => start(a) - start(b) || a.index - b.index).map((c) => {
      let r = rowsEnd.findIndex((e) => e <= start(c));
      if (r < 0) { r = rowsEnd.length; rowsEnd.push(0); }
      rowsEnd[r] = end(c);
      return { c, r };
    });
    return { name, bars, rows: Math.max(1, rowsEnd.length) };
  });
  const height = axisH + packed.reduce((h, l) => h + l.rows * rowH + lanePad * 2, 0);
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": `Chunk timeline: ${summary}` });

  // Time axis.
  const axis = svg("g", { class: "axis", "aria-hidden": "true" });
  const step = niceStep(span / 6);
  for (let t = 0; t <= span + 1e-9; t += step) {
    const px = x(t0 + t);
    axis.append(svg("line", { x1: px, x2: px, y1: axisH - 6, y2: height }));
    const label = svg("text", { x: px + 3, y: axisH - 10 });
    label.textContent = fmtAxis(t, step);
    axis.append(label);
  }
  root.append(axis);

  let y = axisH;
  packed.forEach((lane, i) => {
    const h = lane.rows * rowH + lanePad * 2;
    const g = svg("g", { class: "lane", "data-worker": lane.name });
    g.append(svg("rect", { class: `lane-bg${i % 2 ? " alt" : ""}`, x: 0, y, width, height: h }));
    const label = svg("text", { class: "lane-label", x: 6, y: y + h / 2 + 4 });
    label.textContent = truncate(lane.name, Math.floor(labelW / 7.2));
    const title = svg("title");
    title.textContent = lane.name;
    label.append(title);
    g.append(label);
    for (const { c, r } of lane.bars) {
      const bx = x(start(c)), bw = Math.max(3, x(end(c)) - bx);
      const by = y + lanePad + r * rowH + 1;
      const cls = `chunk ${c.status}${c.attempts > 1 ? " retried" : ""}`;
      const rect = svg("rect", {
        class: cls, x: bx, y: by, width: bw, height: rowH - 2, rx: 2, tabindex: 0,
        "data-index": c.index, "data-worker": lane.name, "data-status": c.status, "data-attempts": c.attempts,
        role: "img", "aria-label": chunkText(c),
      });
      for (const ev of ["mouseenter", "focus"]) rect.addEventListener(ev, (e) => showTip(e, c));
      for (const ev of ["mouseleave", "blur"]) rect.addEventListener(ev, hideTip);
      g.append(rect);
      if (c.attempts > 1 && bw > 18) {
        const mark = svg("text", { class: "retry-mark", x: bx + 3, y: by + rowH - 5 });
        mark.textContent = `↻${c.attempts}`;
        g.append(mark);
      }
    }
    root.append(g);
    y += h;
  });
  // Redrawing must not take the focus (or the tip) from a keyboard user.
  const focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement.dataset.index : null;
  box.replaceChildren(root);
  if (focused !== null && focused !== undefined) {
    const again = root.querySelector(`rect.chunk[data-index="${focused}"]`);
    if (again) {
      again.focus({ preventScroll: true });
      const c = chunks.find((x) => String(x.index) === focused);
      if (c) showTip({ target: again }, c);
    }
  }
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

function fmtAxis(ms, step) {
  if (step < 1000) return `${Math.round(ms)} ms`;
  if (step < 60000) return `${(ms / 1000).toFixed(step < 10000 && step % 1000 ? 1 : 0)} s`;
  return `${(ms / 60000).toFixed(1)} min`;
}

function truncate(s, n) { return s.length > n ? s.slice(0, Math.max(1, n - 1)) + "…" : s; }

function chunkText(c) {
  const dur = c.duration_ms ?? (c.started_at ? Date.now() - Date.parse(c.started_at) : null);
  let t = `Chunk ${c.index} on ${c.worker || "no worker"}: ${c.status}, ${c.attempts} attempt${c.attempts === 1 ? "" : "s"}, ${fmtDuration(dur)}`;
  if (c.error) t += `. Last error: ${c.error}`;
  return t;
}

let tipFor = null; // the bar whose details the tip shows

function showTip(e, c) {
  tipFor = { target: e.target, c };
  placeTip();
}

// placeTip fills the tip and puts it above its bar (below near the top).
function placeTip() {
  if (!tipFor) return;
  const { target, c } = tipFor;
  const tip = $("#timeline-tip");
  const dur = c.duration_ms ?? (c.started_at ? Date.now() - Date.parse(c.started_at) : null);
  tip.replaceChildren(
    el("b", { text: `Chunk ${c.index}` }), ` · ${c.status}`, el("br"),
    `worker ${c.worker || "—"}`, el("br"),
    `attempts ${c.attempts}${c.attempts > 1 ? " (retried)" : ""}`, el("br"),
    `started ${fmtTime(c.started_at)}`, el("br"),
    `finished ${fmtTime(c.finished_at)}`, el("br"),
    `duration ${fmtDuration(dur)}`,
    ...(c.error ? [el("br"), `error: ${c.error}`] : []),
  );
  tip.hidden = false;
  const r = target.getBoundingClientRect();
  const left = Math.min(window.innerWidth - tip.offsetWidth - 8, Math.max(8, r.left));
  // Above the bar, so that it hides neither the bar nor its lane.
  const top = r.top - 8 - tip.offsetHeight >= 0 ? r.top - 8 - tip.offsetHeight : r.bottom + 8;
  tip.style.left = `${left}px`;
  tip.style.top = `${Math.max(8, top)}px`;
}

function hideTip() {
  tipFor = null;
  $("#timeline-tip").hidden = true;
}

// ---- submit -----------------------------------------------------------

const COMMON = [
  { name: "chunks", schema: { type: "integer", minimum: 1, maximum: 4096, description: "How many chunks to split the job into; empty: the kernel chooses." } },
  { name: "priority", schema: { type: "string", enum: ["high", "normal", "low"], default: "normal", description: "Queue priority of the job's chunks." } },
  { name: "timeout_seconds", schema: { type: "integer", minimum: 1, maximum: 86400, default: 3600, description: "The job fails with a timeout after this long." } },
  { name: "max_retries", schema: { type: "integer", minimum: 0, maximum: 10, default: 3, description: "Retries of each chunk." } },
  { name: "metadata", schema: { type: "object", description: "Optional JSON object echoed back with the job (at most 4 KiB)." } },
];

function showSubmit() {
  const sel = $("#f-kernel");
  if (sel.options.length !== state.kernels.length) {
    const current = sel.value;
    sel.replaceChildren(...state.kernels.map((k) => el("option", { value: k.name, text: k.name })));
    if (current) sel.value = current;
    buildParams();
  }
  if (!$("#field-chunks").firstChild) {
    for (const f of COMMON) $(`#field-${f.name}`).replaceChildren(...fieldControls(f.name, f.name, f.schema, false));
  }
}

function fieldID(path) { return "f-" + path.replace(/[^a-zA-Z0-9_-]/g, "-"); }

// fieldControls makes the label, input, help and error slot of one field.
function fieldControls(path, name, schema, required) {
  const id = fieldID(path);
  const helpID = `${id}-help`, errID = `${id}-error`;
  const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== "null") : schema.type;
  const hints = [];
  if (schema.description) hints.push(schema.description);
  const bounds = [];
  if (schema.minimum !== undefined) bounds.push(`min ${schema.minimum}`);
  if (schema.maximum !== undefined) bounds.push(`max ${schema.maximum}`);
  if (schema.default !== undefined) bounds.push(`default ${JSON.stringify(schema.default)}`);
  if (bounds.length) hints.push(bounds.join(", ") + ".");
  const common = { id, name: path, "data-field": path, "data-type": t, "aria-describedby": `${helpID} ${errID}` };
  if (required) common["aria-required"] = "true";
  let input;
  if (schema.enum) {
    input = el("select", common, ...schema.enum.map((v) => el("option", { value: v, text: v })));
    if (schema.default !== undefined) input.value = schema.default;
  } else if (t === "boolean") {
    input = el("input", { ...common, type: "checkbox" });
    input.checked = schema.default === true;
  } else if (t === "integer" || t === "number") {
    input = el("input", {
      ...common, type: "text", inputmode: t === "integer" ? "numeric" : "decimal",
      placeholder: schema.default !== undefined ? String(schema.default) : "", autocomplete: "off",
    });
  } else if (t === "array" || t === "object" || name === "text") {
    input = el("textarea", { ...common, rows: name === "text" ? 5 : 3, spellcheck: name === "text" ? "true" : "false",
      placeholder: t === "array" ? (isMatrix(schema) ? "[[1, 2], [3, 4]]" : "1, 2, 3.5  (or a JSON array)") : (t === "object" ? '{"key": "value"}' : "") });
  } else {
    input = el("input", { ...common, type: "text", placeholder: schema.default !== undefined ? String(schema.default) : "" });
  }
  const label = el("label", { for: id }, name, required ? el("span", { class: "req", text: "(required)" }) : null);
  return [label, input, el("p", { id: helpID, class: "help", text: hints.join(" ") }), el("p", { id: errID, class: "field-error", "aria-live": "polite" })];
}

function isMatrix(schema) { return schema.items && schema.items.type === "array"; }

function buildParams() {
  const k = state.kernels.find((x) => x.name === $("#f-kernel").value) || state.kernels[0];
  const body = $("#params-body");
  if (!k) { body.replaceChildren(); return; }
  $("#f-kernel-desc").textContent = k.description + (k.artifact_type ? ` Produces a file (${k.artifact_type}).` : "");
  const schema = k.params_schema || {};
  const required = new Set(schema.required || []);
  const props = Object.entries(schema.properties || {});
  const notes = [];
  if (schema.oneOf) notes.push(el("p", { class: "help", text: `Give one of: ${schema.oneOf.map((o) => (o.required || []).join(" and ")).join("; or ")}.` }));
  body.replaceChildren(...notes, ...props.map(([name, s]) => el("div", { class: "field" }, ...fieldControls(`params.${name}`, name, s, required.has(name)))));
  if (props.length === 0) body.append(el("p", { class: "help", text: "This kernel takes no parameters." }));
  clearErrors();
}

// readNumber returns the JSON text of a number field: its own text when it
// is a JSON number (so big integers pass exactly), else the text as a JSON
// string, for the API to reject with a clear field error.
function readNumber(text) {
  const t = text.trim();
  return JSON_NUMBER.test(t) ? t : JSON.stringify(t);
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

// readArray returns the JSON text of an array field: JSON as typed, or
// numbers separated by commas or spaces; null when it is neither.
function readArray(text) {
  const t = text.trim();
  if (t.startsWith("[")) {
    try { JSON.parse(t); return t; } catch { return null; }
  }
  const parts = t.split(/[\s,]+/).filter(Boolean);
  if (parts.some((p) => !JSON_NUMBER.test(p))) return null;
  return `[${parts.join(",")}]`;
}

// readField returns the JSON text of a field, undefined when it is empty,
// or throws a message for the field.
function readField(input) {
  const t = input.dataset.type;
  if (input.type === "checkbox") return input.checked ? "true" : "false";
  const v = input.value;
  if (v.trim() === "") return undefined;
  if (input.tagName === "SELECT") return JSON.stringify(v);
  if (t === "integer" || t === "number") return readNumber(v);
  if (t === "array") {
    const a = readArray(v);
    if (a === null) throw new Error("must be a JSON array, or numbers separated by commas or spaces");
    return a;
  }
  if (t === "object") {
    try { const o = JSON.parse(v); if (o === null || typeof o !== "object" || Array.isArray(o)) throw 0; } catch { throw new Error("must be a JSON object"); }
    return v.trim();
  }
  return JSON.stringify(v);
}

function clearErrors() {
  for (const e of document.querySelectorAll("#submit-form .field-error")) e.textContent = "";
  for (const e of document.querySelectorAll("#submit-form [aria-invalid]")) e.removeAttribute("aria-invalid");
  const s = $("#submit-summary");
  s.hidden = true;
  s.replaceChildren();
}

// fieldFor finds the input an API error names: "params.values[3]" is the
// params.values field.
function fieldFor(path) {
  let p = path;
  for (;;) {
    const input = document.querySelector(`#submit-form [data-field="${CSS.escape(p)}"]`);
    if (input) return input;
    const cut = Math.max(p.lastIndexOf("["), p.lastIndexOf("."));
    if (cut <= 0) return null;
    p = p.slice(0, cut);
  }
}

function showErrors(errors, detail) {
  const summary = $("#submit-summary");
  const loose = [];
  let first = null;
  for (const e of errors) {
    const input = e.field ? fieldFor(e.field) : null;
    if (!input) { loose.push(`${e.field || "request"}: ${e.message}`); continue; }
    input.setAttribute("aria-invalid", "true");
    const slot = document.getElementById(`${input.id}-error`);
    const rest = e.field !== input.dataset.field ? `${e.field.slice(input.dataset.field.length)} ` : "";
    const msg = `${rest}${e.message}`;
    slot.textContent = slot.textContent ? `${slot.textContent}; ${msg}` : msg;
    if (!first || (input.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING)) first = input;
  }
  summary.replaceChildren(el("strong", { text: detail || "The job was not accepted." }),
    loose.length ? el("ul", {}, ...loose.map((m) => el("li", { text: m }))) : null);
  summary.hidden = false;
  if (first) {
    first.focus();
  } else {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
}

function setupSubmit() {
  $("#f-kernel").addEventListener("change", buildParams);
  $("#submit-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const parts = [`"kernel":${JSON.stringify($("#f-kernel").value)}`];
    const params = [];
    const local = [];
    for (const input of document.querySelectorAll("#submit-form [data-field]")) {
      const path = input.dataset.field;
      if (path === "kernel") continue;
      let json;
      try { json = readField(input); } catch (err) { local.push({ field: path, message: err.message }); continue; }
      if (json === undefined) continue;
      if (path.startsWith("params.")) params.push(`${JSON.stringify(path.slice(7))}:${json}`);
      else parts.push(`${JSON.stringify(path)}:${json}`);
    }
    if (local.length) { showErrors(local, "Some fields cannot be read."); return; }
    parts.push(`"params":{${params.join(",")}}`);
    const btn = $("#submit-button");
    btn.disabled = true;
    try {
      const j = await api("/v1/jobs", { method: "POST", body: `{${parts.join(",")}}` });
      announce(`Job ${j.id} submitted.`);
      location.hash = `#/jobs/${encodeURIComponent(j.id)}`;
    } catch (err) {
      if (err instanceof APIError && err.problem.errors) showErrors(err.problem.errors, err.problem.detail);
      else showErrors([], err.message);
    } finally {
      btn.disabled = false;
    }
  });
}

// ---- workers ----------------------------------------------------------

function showWorkers() { every(POLL_MS, loadWorkers); }

async function loadWorkers() {
  let body;
  try { body = await api("/v1/workers"); } catch (err) { if (err.status !== 401) banner(`Could not read the workers: ${err.message}`); return; }
  if (state.view !== "workers") return;
  banner("");
  const tbody = $("#workers-body");
  const slotsTotal = body.workers.reduce((n, w) => n + (w.concurrency || 0), 0);
  const busy = body.workers.reduce((n, w) => n + w.running.filter((t) => t.step === "chunk").length + w.other_running, 0);
  $("#workers-summary").textContent = `${body.workers.length} live worker${body.workers.length === 1 ? "" : "s"}, ${busy} of ${slotsTotal} chunk slots busy. Updates every ${POLL_MS / 1000} s.`;
  if (body.workers.length === 0) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No worker is running." })));
  } else {
    tbody.replaceChildren(...body.workers.map((w) => {
      const mine = w.running.filter((t) => t.step === "chunk").length;
      const n = Math.max(w.concurrency || 0, mine + w.other_running);
      const slots = el("span", { class: "slots", role: "img", "aria-label": `${mine + w.other_running} of ${w.concurrency ?? "?"} slots busy` },
        ...Array.from({ length: n }, (_, i) => el("span", { class: `slot${i < mine ? " busy" : i < mine + w.other_running ? " other" : ""}` })));
      const tasks = el("div", { class: "tasks" },
        ...w.running.map((t) => el("a", { href: `#/jobs/${encodeURIComponent(t.job_id)}`, class: "mono" },
          t.step === "chunk" ? `${t.job_id} #${t.chunk}` : `${t.job_id} (${t.step})`)),
        w.other_running ? el("span", { class: "muted", text: `${w.other_running} task${w.other_running === 1 ? "" : "s"} of other tenants` }) : null,
        w.running.length === 0 && !w.other_running ? el("span", { class: "muted", text: "idle" }) : null);
      return el("tr", { "data-worker": w.id },
        el("td", { class: "mono", text: w.id }),
        el("td", {}, slots, ` ${mine + w.other_running}/${w.concurrency ?? "?"}`),
        el("td", { class: "wrap" }, tasks),
        el("td", { text: fmtAge(w.last_seen) }),
        el("td", { text: fmtTime(w.started_at) }));
    }));
  }
  $("#queues-body").replaceChildren(...body.queues.map((q) => el("tr", { "data-queue": q.name },
    el("td", { class: "mono", text: q.name }), el("td", { text: q.priority || "—" }),
    el("td", { text: q.pending }), el("td", { text: q.active }), el("td", { text: q.scheduled }),
    el("td", { text: q.retry }), el("td", { text: q.archived }),
    el("td", { text: q.pending ? fmtDuration(q.latency_ms) : "—" }))));
}

// ---- start ------------------------------------------------------------

async function start() {
  setupKeyForm();
  setupJobFilters();
  setupCancel();
  setupSubmit();
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", () => { if (state.view === "job") drawTimeline(); });
  // A focused bar keeps its tip as the page scrolls; a hovered one loses it.
  window.addEventListener("scroll", () => {
    if (tipFor && document.activeElement === tipFor.target) placeTip();
    else hideTip();
  }, { passive: true });
  await checkKey();
  route();
}

start();
