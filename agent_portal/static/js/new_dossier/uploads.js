// Sending a registered dossier's files. A file the server refuses for good (its content, its size) is
// marked refused: no "Retry" is offered for it, only dropping it. A file that met no connection waits.
import { $, el } from "../lib/dom.js";
import { getJson, problemText } from "../lib/http.js";
import { CFG, CSRF, fill, LANG, t } from "./context.js";
import { deleteFile, getFile, thumbnail } from "./files.js";
import { readQueue, removeFromQueue, updateItem } from "./queue.js";

function uploadOne(number, meta, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", fill(CFG.urls.documents, number));
    xhr.setRequestHeader("X-CSRFToken", CSRF);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.timeout = 180000;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 201) resolve(body);
      else reject({ network: xhr.status >= 500, status: xhr.status, message: problemText(body, xhr.status, LANG) });
    };
    xhr.onerror = xhr.ontimeout = xhr.onabort = () => reject({ network: true });
    const data = new FormData();
    data.append("kind", meta.kind || "other");
    data.append("file", blob, meta.name);
    xhr.send(data);
  });
}

async function sha256Hex(blob) {
  if (!window.crypto || !crypto.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (x) => x.toString(16).padStart(2, "0")).join("");
}
// After an attempt whose answer was lost, the file may be on the server already: ask first.
async function alreadyThere(number, blob) {
  try {
    const hex = await sha256Hex(blob);
    if (!hex) return false;
    const r = await getJson(fill(CFG.urls.dossier, number));
    return r.ok && (r.body.documents || []).some((d) => d.sha256 === hex);
  } catch (e) { return false; }
}

function uploadRow(meta) {
  const bar = el("progress", { max: "1", value: "0", "aria-label": meta.name });
  const state = el("div", { className: "state", text: t("pending") });
  const row = el("li", { className: "file" }, [
    el("div", { className: "thumb", "aria-hidden": "true", text: meta.type === "application/pdf" ? "PDF" : "" }),
    el("div", {}, [el("div", { className: "name", text: meta.name }), state]),
    el("div", { className: "tools" }, [bar]),
  ]);
  thumbnail(meta, row.firstChild);
  return { row: row, bar: bar, state: state };
}

// hooks: {onRetry(key, id), onDrop(key, id)} for the buttons of a failed row.
let hooks = { onRetry: () => {}, onDrop: () => {} };
export function setUploadHooks(value) { hooks = value; }

// Sends the item's waiting files; true when all are on the server. visible: progress rows on the done panel.
export async function uploadAll(item, visible, only) {
  const list = $("nd-uploads");
  if (visible && !only) list.textContent = "";
  let allOk = true;
  for (const meta of item.files) {
    if (meta.state === "done") continue;
    if (meta.state === "refused" || (only && meta.id !== only)) { allOk = false; continue; }
    let ui = null;
    if (visible) {
      ui = uploadRow(meta);
      const old = list.querySelector('[data-id="' + meta.id + '"]');
      ui.row.dataset.id = meta.id;
      if (old) old.replaceWith(ui.row); else list.appendChild(ui.row);
      ui.state.textContent = t("uploading");
    }
    const record = await getFile(meta.id);
    let outcome;
    if (!record) {
      outcome = { state: "refused", error: t("no_storage") };
    } else if (meta.tries && await alreadyThere(item.number, record.blob)) {
      outcome = { state: "done" };
    } else {
      meta.tries = (meta.tries || 0) + 1;
      updateItem(item);
      try {
        await uploadOne(item.number, meta, record.blob, ui ? (f) => { ui.bar.value = f; } : null);
        outcome = { state: "done" };
      } catch (e) {
        outcome = e.network ? { state: "pending", error: t("upload_waiting") } : { state: "refused", error: e.message };
      }
    }
    meta.state = outcome.state;
    meta.error = outcome.error || null;
    updateItem(item);
    if (outcome.state === "done") {
      deleteFile(meta.id);
      if (ui) { ui.bar.value = 1; ui.state.textContent = t("uploaded"); ui.row.classList.add("ok"); }
    } else {
      allOk = false;
      if (ui) showFailure(ui, item.key, meta);
      if (outcome.state === "pending") break; // no connection: the rest waits too
    }
  }
  if (item.files.every((f) => f.state === "done")) removeFromQueue(item.key);
  return allOk && item.files.every((f) => f.state === "done");
}

function showFailure(ui, key, meta) {
  ui.row.classList.add("bad");
  const tools = ui.row.querySelector(".tools");
  if (meta.state === "pending") {
    ui.state.textContent = t("upload_waiting");
    tools.appendChild(el("button", { type: "button", className: "secondary", text: t("retry"),
      onclick: () => hooks.onRetry(key, meta.id) }));
  } else { // refused for good: trying again cannot help
    ui.state.textContent = t("upload_refused", { msg: String(meta.error || "").replace(/[.\s]+$/, "") });
    tools.textContent = "";
    tools.appendChild(el("button", { type: "button", className: "secondary", text: t("drop_file"),
      "aria-label": t("drop_file") + ": " + meta.name, onclick: () => hooks.onDrop(key, meta.id) }));
  }
}

// The agent drops a refused file: the dossier goes on without it.
export function dropFile(key, id) {
  const item = readQueue().find((q) => q.key === key);
  if (!item) return null;
  item.files = item.files.filter((f) => f.id !== id);
  deleteFile(id);
  const row = $("nd-uploads").querySelector('[data-id="' + id + '"]');
  if (row) row.remove();
  if (item.files.every((f) => f.state === "done")) removeFromQueue(key); else updateItem(item);
  return item;
}
