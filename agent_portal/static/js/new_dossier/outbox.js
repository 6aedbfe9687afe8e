// Sending what waits in the outbox when the link returns, each item under a lock (two tabs of the same
// agent never send the same item at once; its Idempotency-Key would still save us).
import { $, el } from "../lib/dom.js";
import { problemText } from "../lib/http.js";
import { CFG, fill, isBlank, LANG, LAST_STEP, save, setDraft, t } from "./context.js";
import { deleteFile } from "./files.js";
import { fillForm } from "./fill.js";
import { foreground, registered, showPanel, waitingInView } from "./panels.js";
import { readQueue, removeFromQueue, updateItem, waitingCount, writeQueue } from "./queue.js";
import { show } from "./steps.js";
import { postDossier, showServerErrors } from "./submit.js";
import { uploadAll } from "./uploads.js";

let flushing = false;

export function initOutbox() {
  window.addEventListener("online", flushQueue);
  window.addEventListener("offline", renderQueue);
  document.addEventListener("visibilitychange", () => { if (!document.hidden && readQueue().length) flushQueue(); });
  $("nd-queue-send").addEventListener("click", () => {
    const queue = readQueue();
    queue.forEach((q) => q.files.forEach((f) => { if (f.state === "failed") f.state = "pending"; }));
    writeQueue(queue);
    flushQueue();
  });
  setInterval(() => { if (readQueue().length) flushQueue(); }, 30000);
  window.addEventListener("storage", (e) => { if (e.key === "queue:" + CFG.user) renderQueue(); });
}

function withLock(name, action) {
  if (navigator.locks && navigator.locks.request) {
    return navigator.locks.request(name, { ifAvailable: true }, (lock) => (lock ? action() : null));
  }
  return action();
}

export function queueError(text) {
  const box = $("nd-queue-error");
  box.textContent = text || "";
  box.hidden = !text;
}

function itemState(q) {
  if (q.error) return t("queue_rejected", { msg: q.error });
  if (!q.number) return navigator.onLine ? t("sending") : t("queue_offline");
  const refused = q.files.filter((f) => f.state === "refused");
  if (refused.length) return t("queue_refused_files", { number: q.number, names: refused.map((f) => f.name).join(", ") });
  const done = q.files.filter((f) => f.state === "done").length;
  return t("queue_docs", { number: q.number, done: done, total: q.files.length });
}

export function renderQueue() {
  const queue = readQueue().filter((q) => !foreground.has(q.key));
  $("nd-queue").hidden = !queue.length;
  $("nd-queue-title").textContent = t("queue_title", { n: waitingCount(queue) });
  const list = $("nd-queue-list");
  list.textContent = "";
  queue.forEach((q) => {
    const li = el("li", {}, [el("strong", { text: q.label }), el("span", { text: itemState(q) })]);
    if (q.error) {
      li.appendChild(el("button", { type: "button", className: "secondary", text: t("edit"), onclick: () => editItem(q.key) }));
    }
    if (q.error || q.number) {
      li.appendChild(el("button", { type: "button", className: "secondary", text: t("discard_item"),
        onclick: () => discardItem(q.key) }));
    }
    list.appendChild(li);
  });
  $("nd-offline").hidden = navigator.onLine;
  $("nd-queue-send").disabled = !navigator.onLine;
}

function editItem(key) {
  const item = readQueue().find((q) => q.key === key);
  if (!item) return;
  if (!isBlank()) { queueError(t("edit_busy")); return; }
  removeFromQueue(key);
  setDraft(item.draft);
  save();
  fillForm();
  showPanel(null);
  renderQueue();
  if (item.errors) showServerErrors(item.errors); else show(LAST_STEP, true);
}

function discardItem(key) {
  const item = readQueue().find((q) => q.key === key);
  if (!item) return;
  item.files.forEach((f) => deleteFile(f.id));
  removeFromQueue(key);
  renderQueue();
}

function addSent(number) {
  const link = el("a", { href: fill(CFG.urls.receipt, number), text: t("receipt") });
  $("nd-sent").appendChild(el("li", {}, [t("sent", { number: number }), link]));
}

export async function flushQueue() {
  if (flushing || !navigator.onLine) { renderQueue(); return; }
  flushing = true;
  queueError("");
  renderQueue();
  try {
    for (const key of readQueue().map((q) => q.key)) {
      if (foreground.has(key)) continue;
      const stop = await withLock("new-dossier:" + key, () => sendItem(key));
      if (stop === "stop") break;
    }
  } finally {
    flushing = false;
    renderQueue();
  }
}

async function sendItem(key) {
  const item = readQueue().find((q) => q.key === key); // re-read: another tab may have sent it
  if (!item || item.error) return null;
  if (!item.number) {
    let result;
    try { result = await postDossier(item); } catch (e) { return "stop"; }
    if (result.status === 200 || result.status === 201) {
      if (waitingInView(key)) { await registered(item, result.body); return null; } // the usual done panel
      item.number = result.body.number;
      addSent(item.number);
      if (!item.files.length) { removeFromQueue(key); return null; }
      updateItem(item);
    } else if (result.status === 401 || result.status === 400) {
      queueError(t("session"));
      return "stop";
    } else {
      item.error = problemText(result.body, result.status, LANG);
      item.errors = result.body && result.body.errors;
      updateItem(item);
      return null;
    }
  }
  renderQueue();
  const ok = await uploadAll(item, false);
  return ok || item.files.every((f) => f.state !== "pending") ? null : "stop";
}
