// grounded-rag web app: one module, no build step, no dependencies. It only calls the REST API of the server that
// serves it (same origin). Text from the server is always set as text (textContent), never parsed as HTML.

const KEY = "rag.apiKey"; // sessionStorage: the key lives as long as this browser tab
const JOB_POLL_MS = 500;
const TERMINAL = new Set(["done", "failed", "cancelled"]);

const $ = (id) => document.getElementById(id);
const state = { key: sessionStorage.getItem(KEY) || "", documents: [], pages: new Map(), viewer: null, asking: false };

// ---- the API ---------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(detail);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

function authHeaders(extra = {}) {
  return state.key ? { ...extra, Authorization: `Bearer ${state.key}` } : extra;
}

async function failure(resp) {
  let detail = `${resp.status} ${resp.statusText}`;
  try {
    const body = await resp.json();
    if (body && body.detail) detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (_) { /* not JSON: the status line says it */ }
  const retry = resp.headers.get("Retry-After");
  return new ApiError(resp.status, detail, retry ? Number(retry) : null);
}

async function call(path, options = {}) {
  const resp = await fetch(path, { ...options, headers: authHeaders(options.headers || {}) });
  if (!resp.ok) {
    const err = await failure(resp);
    if (err.status === 401) signedOut(err.message);
    throw err;
  }
  return resp;
}

async function getJson(path) {
  return (await call(path)).json();
}

function explain(err) {
  if (err instanceof ApiError) {
    const wait = err.retryAfter ? ` (retry in ${err.retryAfter} s)` : "";
    return `${err.message}${wait}`;
  }
  return `the server could not be reached (${err.message})`;
}

function notice(text, kind = "error") {
  const box = $("notice");
  box.textContent = text;
  box.className = kind === "error" ? "notice" : "notice info";
  box.hidden = !text;
}

// ---- signing in ------------------------------------------------------------------------------------------------

function signedOut(detail) {
  state.key = "";
  sessionStorage.removeItem(KEY);
  $("app").hidden = true;
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("sign-in-error").textContent = detail || "";
  $("key").focus();
}

async function start() {
  try {
    await getJson("/v1/info"); // 401 without a valid key where keys are required (not on loopback by default)
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) notice(explain(err));
    return;
  }
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = !state.key;
  notice("");
  watchReadiness();
  await Promise.all([loadDocuments(), loadFailures()]);
}

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  state.key = $("key").value.trim();
  $("key").value = "";
  try {
    await call("/v1/info");
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) $("sign-in-error").textContent = explain(err);
    return;
  }
  sessionStorage.setItem(KEY, state.key);
  start();
});

$("sign-out").addEventListener("click", () => signedOut(""));

async function watchReadiness() {
  const line = $("readiness");
  for (;;) {
    try {
      const resp = await fetch("/readyz");
      const body = await resp.json();
      if (resp.ok) {
        line.textContent = "";
        return;
      }
      line.textContent = `answers not ready: ${body.detail}`;
    } catch (_) {
      line.textContent = "server unreachable";
    }
    await sleep(3000);
  }
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// ---- documents ---------------------------------------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function profileLine(doc) {
  const p = doc.profile || {};
  return [p.organizations && p.organizations[0], p.kind, p.period, p.language].filter(Boolean).join(" · ") || p.title || "";
}

function selectedCollection() {
  return $("collection").value || null;
}

async function loadDocuments() {
  const docs = await getJson("/v1/documents").catch((err) => (notice(explain(err)), null));
  if (!docs) return;
  state.documents = docs;
  const pick = $("collection");
  const chosen = pick.value;
  const names = [...new Set(docs.map((d) => d.collection))].sort();
  pick.replaceChildren(el("option", { value: "", text: "all collections" }), ...names.map((n) => el("option", { value: n, text: n })));
  pick.value = names.includes(chosen) ? chosen : "";
  const into = $("upload-collection");
  if (into.value === "default" && names.length && !names.includes("default")) into.value = names[0];
  renderDocuments();
}

function renderDocuments() {
  const only = selectedCollection();
  const rows = state.documents.filter((d) => !only || d.collection === only);
  const body = $("documents").tBodies[0];
  body.replaceChildren();
  for (const doc of rows) {
    const tags = Object.entries(doc.tags || {}).map(([k, v]) => el("span", { class: "tag", text: `${k}=${v}` }));
    const name = el("button", { type: "button", class: "doc-name", "aria-expanded": "false", text: doc.name, title: doc.path });
    const row = el(
      "tr",
      { "data-doc": doc.id },
      el("td", {}, name, doc.collection !== "default" ? el("div", { class: "quiet", text: doc.collection }) : null, ...tags),
      el("td", { class: `state-${doc.status}`, text: doc.status }),
      el("td", { class: "num", text: String(doc.pages) }),
      el("td", { class: "num", text: String(doc.chunks) }),
      el("td", { class: "quiet", text: profileLine(doc) }),
    );
    name.addEventListener("click", () => toggleDetail(row, doc, name));
    body.append(row);
  }
  $("no-documents").hidden = rows.length > 0;
}

async function documentPages(docId) {
  if (!state.pages.has(docId)) state.pages.set(docId, getJson(`/v1/documents/${encodeURIComponent(docId)}/pages`));
  try {
    return await state.pages.get(docId);
  } catch (err) {
    state.pages.delete(docId);
    throw err;
  }
}

async function toggleDetail(row, doc, button) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("detail")) {
    next.remove();
    button.setAttribute("aria-expanded", "false");
    return;
  }
  button.setAttribute("aria-expanded", "true");
  const p = doc.profile || {};
  const facts = [
    ["id", doc.id], ["path", doc.path], ["collection", doc.collection], ["ingested", doc.ingested_at],
    ["title", p.title], ["kind", p.kind], ["period", p.period], ["organisations", (p.organizations || []).join(", ")],
    ["language", p.language], ["aliases", (doc.aliases || []).join(", ")],
  ].filter(([, v]) => v);
  const dl = el("dl");
  for (const [k, v] of facts) dl.append(el("dt", { text: k }), el("dd", { text: v }));
  const cell = el("td", { colspan: "5" }, dl);
  if (doc.error) cell.append(el("p", { class: "error", text: `failed: ${doc.error}` }));
  const notes = el("ul", { class: "failures" });
  cell.append(notes);
  const actions = el("div", { class: "actions" });
  const view = el("button", { type: "button", text: "View pages", disabled: true });
  const remove = el("button", { type: "button", text: "Delete" });
  actions.append(view, remove);
  cell.append(actions);
  row.after(el("tr", { class: "detail" }, cell));
  remove.addEventListener("click", () => deleteDocument(doc));
  try {
    const pages = await documentPages(doc.id);
    for (const page of pages.pages) {
      const where = page.label || `page ${page.n}`;
      if (page.error) notes.append(el("li", { class: "error", text: `${where}: ${page.error}` }));
      if (page.warning) notes.append(el("li", { class: "warn", text: `${where}: ${page.warning}` }));
    }
    if (!notes.children.length) notes.append(el("li", { class: "quiet", text: "no page warnings" }));
    view.disabled = !pages.images;
    view.title = pages.images ? "" : pages.reason;
    view.addEventListener("click", () => openViewer({ docId: doc.id, name: doc.name, page: 1 }, view));
  } catch (err) {
    notes.append(el("li", { class: "error", text: explain(err) }));
  }
}

async function deleteDocument(doc) {
  if (!window.confirm(`Delete ${doc.name} from ${doc.collection}?`)) return;
  try {
    await call(`/v1/documents/${encodeURIComponent(doc.id)}`, { method: "DELETE" });
    state.pages.delete(doc.id);
    notice(`${doc.name} deleted`, "info");
  } catch (err) {
    notice(explain(err));
  }
  await loadDocuments();
}

async function loadFailures() {
  const jobs = await getJson("/v1/jobs?limit=20").catch(() => []);
  const list = $("failure-list");
  list.replaceChildren();
  for (const job of jobs) {
    for (const f of job.files || []) {
      if (f.status === "failed") list.append(el("li", { class: "error", text: `${f.name}: ${f.reason}` }));
    }
    if (job.error) list.append(el("li", { class: "error", text: `job ${job.id}: ${job.error}` }));
  }
  $("failures").hidden = list.children.length === 0;
}

$("collection").addEventListener("change", () => {
  renderDocuments();
  const c = selectedCollection();
  if (c) $("upload-collection").value = c;
});

// ---- uploads -----------------------------------------------------------------------------------------------------

const drop = $("drop");
drop.addEventListener("click", () => $("files").click());
drop.addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    $("files").click();
  }
});
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  uploadAll([...e.dataTransfer.files]);
});
$("files").addEventListener("change", (e) => {
  uploadAll([...e.target.files]);
  e.target.value = "";
});

async function uploadAll(files) {
  // One request (one job) per file: a file the API refuses (unsupported, too large) fails alone with its message.
  const collection = $("upload-collection").value.trim() || "default";
  const items = files.map((file) => uploadRow(file));
  for (const item of items) {
    const job = await send(item, collection);
    if (job) followJob(item, job);
  }
}

function uploadRow(file) {
  const status = el("span", { class: "status", text: "waiting" });
  const bar = el("progress", { max: "1", value: "0" });
  const li = el("li", { "data-file": file.name }, el("div", { class: "name", text: file.name }), status, bar);
  $("uploads").prepend(li);
  return { file, li, status, bar };
}

function setStatus(item, text, cls = "") {
  item.status.textContent = text;
  item.status.className = `status ${cls}`;
}

function send(item, collection) {
  // XMLHttpRequest rather than fetch: it reports upload progress.
  return new Promise((resolve) => {
    const form = new FormData();
    form.append("files", item.file, item.file.name);
    form.append("collection", collection);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/documents");
    if (state.key) xhr.setRequestHeader("Authorization", `Bearer ${state.key}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) item.bar.value = (0.5 * e.loaded) / e.total;
      setStatus(item, "uploading");
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (_) { /* not JSON */ }
      if (xhr.status === 202 && body) {
        setStatus(item, "queued");
        resolve(body);
        return;
      }
      const detail = (body && body.detail) || `${xhr.status} ${xhr.statusText}`;
      setStatus(item, `refused: ${detail}`, "state-failed error");
      item.bar.remove();
      if (xhr.status === 401) signedOut(detail);
      resolve(null);
    };
    xhr.onerror = () => {
      setStatus(item, "refused: the server broke off the upload (a file larger than the server allows?)", "state-failed error");
      item.bar.remove();
      resolve(null);
    };
    setStatus(item, "uploading");
    xhr.send(form);
  });
}

async function followJob(item, job) {
  const path = `/v1/jobs/${encodeURIComponent(job.id)}`;
  for (;;) {
    const file = (job.files || [])[0];
    if (file) {
      const detail = file.status === "failed" ? `failed: ${file.reason}` : file.status;
      const counts = file.pages ? ` · ${file.pages} pages` : "";
      setStatus(item, `${detail}${counts}`, `state-${file.status}`);
      item.bar.value = file.status === "running" ? 0.75 : file.status === "queued" ? 0.5 : 1;
    }
    if (TERMINAL.has(job.state)) break;
    await sleep(JOB_POLL_MS);
    try {
      job = await getJson(path);
    } catch (err) {
      setStatus(item, explain(err), "error");
      return;
    }
  }
  item.li.dataset.state = job.state;
  if (job.error) setStatus(item, `failed: ${job.error}`, "state-failed");
  item.bar.remove();
  await Promise.all([loadDocuments(), loadFailures()]);
}

// ---- asking ------------------------------------------------------------------------------------------------------

$("question").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    $("ask").requestSubmit();
  }
});

$("ask").addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question || state.asking) return;
  const mode = document.querySelector("input[name=mode]:checked").value;
  state.asking = true;
  $("ask-button").disabled = true;
  $("question").value = "";
  try {
    const ok = await ask(question, mode);
    if (!ok && !$("question").value) $("question").value = question; // to retry (busy, unreachable)
  } finally {
    state.asking = false;
    $("ask-button").disabled = false;
  }
});

async function ask(question, mode) {
  const view = $("answer-template").content.firstElementChild.cloneNode(true);
  view.querySelector(".question").textContent = question;
  const text = view.querySelector(".text");
  text.classList.add("streaming");
  $("answers").prepend(view);
  const t0 = performance.now();
  let firstToken = null;
  let draft = "";
  const body = { question, mode, stream: true };
  const collection = selectedCollection();
  if (collection) body.collection = collection;
  // The conversation (issue 20) will send its id and show the rewritten question (".rewritten") here.
  try {
    const resp = await call("/v1/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
    await readEvents(resp, (event, data) => {
      if (event === "token") {
        if (firstToken === null) {
          firstToken = performance.now() - t0;
          view.dataset.firstTokenMs = firstToken.toFixed(1);
        }
        draft += data.text;
        text.textContent = draft;
      } else if (event === "answer") {
        view.dataset.answerMs = (performance.now() - t0).toFixed(1);
        const served = (data.timings_ms || {}).first_token_ms; // the service's own: retrieval + the model's first piece
        if (served !== undefined) view.dataset.serverFirstTokenMs = String(served);
        showAnswer(view, data, firstToken);
      } else if (event === "error") {
        throw new ApiError(data.status, data.detail, null);
      }
    });
  } catch (err) {
    text.textContent = explain(err);
    text.classList.add("error");
    view.dataset.error = err instanceof ApiError ? String(err.status) : "network";
    return false;
  } finally {
    text.classList.remove("streaming");
    text.removeAttribute("aria-busy");
  }
  return true;
}

async function readEvents(resp, handle) {
  // Server-sent events over a POST (EventSource can only GET): frames split at blank lines.
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) handle(event, JSON.parse(data.join("\n")));
    }
  }
}

function docIdOf(answer, citation) {
  const hit = (answer.hits || []).find((h) => h.chunk_id === citation.chunk_id) || (answer.hits || []).find((h) => h.doc === citation.doc);
  return hit ? hit.doc_id : null;
}

function showAnswer(view, answer, firstToken) {
  const text = view.querySelector(".text");
  const byN = new Map(answer.citations.map((c) => [c.n, c]));
  text.replaceChildren();
  text.classList.toggle("refused", answer.refused);
  view.dataset.refused = String(answer.refused);
  // The answer's [n] markers become buttons that open the cited page; everything else stays plain text.
  const parts = answer.answer.split(/(\[\d+\])/);
  for (const part of parts) {
    const m = /^\[(\d+)\]$/.exec(part);
    const c = m && byN.get(Number(m[1]));
    if (c) {
      const target = { docId: docIdOf(answer, c), name: c.doc, page: c.page, bbox: c.bbox, quote: c.quote };
      const b = el("button", {
        type: "button",
        class: "cite",
        "data-n": String(c.n),
        "data-doc": c.doc,
        "data-page": String(c.page),
        "data-bbox": JSON.stringify(c.bbox || []),
        "aria-label": `source ${c.n}: ${c.doc}, page ${c.page}`,
        text: part,
      });
      b.addEventListener("click", () => openViewer(target, b));
      text.append(b);
    } else {
      text.append(part);
    }
  }
  if (answer.summary) text.append(el("p", { class: "summary", text: answer.summary }));
  const list = view.querySelector(".citations");
  for (const c of answer.citations) {
    const target = { docId: docIdOf(answer, c), name: c.doc, page: c.page, bbox: c.bbox, quote: c.quote };
    const b = el(
      "button",
      { type: "button", "data-n": String(c.n) },
      el("span", { class: "where", text: `${c.doc}, page ${c.page}` }),
      " ",
      el("q", { text: c.quote }),
    );
    b.addEventListener("click", () => openViewer(target, b));
    list.append(el("li", { value: String(c.n) }, b));
  }
  if (answer.refused && answer.hits && answer.hits.length) {
    const closest = view.querySelector(".closest");
    closest.hidden = false;
    const ol = closest.querySelector("ol");
    for (const h of answer.hits) {
      const target = { docId: h.doc_id, name: h.doc, page: h.page, bbox: h.bbox, quote: "" };
      const b = el(
        "button",
        { type: "button" },
        el("span", { class: "where", text: `${h.doc}, page ${h.page}` }),
        " ",
        el("span", { class: "passage", text: h.text.length > 240 ? `${h.text.slice(0, 240)}…` : h.text }),
      );
      b.addEventListener("click", () => openViewer(target, b));
      ol.append(el("li", {}, b));
    }
  }
  const model = answer.model ? answer.model.version || answer.model.name : "";
  const t = answer.timings_ms || {};
  const parts2 = [
    model,
    answer.mode === "extract" ? "extract mode" : "",
    firstToken !== null ? `first token ${Math.round(firstToken)} ms` : "",
    t.retrieval_ms !== undefined ? `retrieval ${Math.round(t.retrieval_ms)} ms` : "",
    t.total_ms !== undefined ? `total ${(t.total_ms / 1000).toFixed(1)} s` : "",
  ].filter(Boolean);
  view.querySelector(".meta").textContent = parts2.join(" · ");
  // Feedback (issue 20): buttons for this answer are added to view.querySelector(".answer-actions") here.
}

// ---- the page viewer ---------------------------------------------------------------------------------------------

async function openViewer(target, opener) {
  if (!target.docId) {
    notice(`the document of this citation (${target.name}) is not among the answer's sources`);
    return;
  }
  state.viewer = { ...target, highlightPage: target.page, opener, total: 0 };
  const viewer = $("viewer");
  viewer.hidden = false;
  $("viewer-close").focus();
  await showPage(target.page);
}

function closeViewer() {
  const v = state.viewer;
  $("viewer").hidden = true;
  const img = $("page-image");
  if (img.src) URL.revokeObjectURL(img.src);
  img.removeAttribute("src");
  state.viewer = null;
  if (v && v.opener) v.opener.focus();
}

async function showPage(n) {
  const v = state.viewer;
  if (!v) return;
  v.page = n;
  const img = $("page-image");
  const overlay = $("overlay");
  const note = $("viewer-note");
  const text = $("viewer-text");
  overlay.replaceChildren();
  note.textContent = "";
  text.hidden = true;
  $("viewer-title").textContent = `${v.name} · page ${n}`;
  let pages;
  try {
    pages = await documentPages(v.docId);
  } catch (err) {
    note.textContent = explain(err);
    return;
  }
  v.total = pages.pages.length;
  $("viewer-title").textContent = `${v.name} · page ${n} of ${v.total}`;
  $("viewer-prev").disabled = n <= 1;
  $("viewer-next").disabled = n >= v.total;
  const info = pages.pages.find((p) => p.n === n);
  const highlighted = n === v.highlightPage;
  if (!pages.images) {
    // An office, web or text document: no page image; its cited passage is shown as text.
    $("page").hidden = true;
    note.textContent = pages.reason;
    if (highlighted && v.quote) {
      text.textContent = v.quote;
      text.hidden = false;
    }
    return;
  }
  $("page").hidden = false;
  if (info && (info.warning || info.error)) note.textContent = info.error || info.warning;
  const dpi = Math.min(220, Math.round(96 * (window.devicePixelRatio || 1) * 1.15));
  try {
    const resp = await call(`/v1/documents/${encodeURIComponent(v.docId)}/pages/${n}.png?dpi=${dpi}`);
    const blob = await resp.blob();
    if (state.viewer !== v || v.page !== n) return; // another page was asked for meanwhile
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(blob);
    img.alt = `${v.name}, page ${n}`;
    img.dataset.page = String(n);
  } catch (err) {
    note.textContent = explain(err);
    return;
  }
  if (!highlighted || !info || !info.width || !info.height) return;
  if (v.bbox && v.bbox.length === 4) overlay.append(box("box", v.bbox, info));
  if (v.quote && info.source === "text") {
    try {
      const located = await getJson(`/v1/documents/${encodeURIComponent(v.docId)}/pages/${n}?quote=${encodeURIComponent(v.quote)}`);
      if (state.viewer !== v || v.page !== n) return;
      for (const q of located.quote_boxes) overlay.append(box("line", q, info));
    } catch (_) { /* the chunk's box is shown; the quote's lines are a bonus */ }
  }
}

function box(kind, [x0, y0, x1, y1], page) {
  // Page units (PDF points or image pixels, origin top-left) as percentages of the page: right at any zoom.
  const pct = (v, of) => `${((100 * v) / of).toFixed(4)}%`;
  const b = el("div", { class: kind });
  b.style.left = pct(x0, page.width);
  b.style.top = pct(y0, page.height);
  b.style.width = pct(x1 - x0, page.width);
  b.style.height = pct(y1 - y0, page.height);
  return b;
}

$("viewer-close").addEventListener("click", closeViewer);
$("viewer-prev").addEventListener("click", () => state.viewer && showPage(state.viewer.page - 1));
$("viewer-next").addEventListener("click", () => state.viewer && showPage(state.viewer.page + 1));
document.addEventListener("keydown", (e) => {
  const v = state.viewer;
  if (!v) return;
  if (e.key === "Escape") closeViewer();
  else if (e.key === "ArrowLeft" && v.page > 1) showPage(v.page - 1);
  else if (e.key === "ArrowRight" && v.page < v.total) showPage(v.page + 1);
});

start();
