// Step 4: photos and PDFs. Each file's real type is read from its first bytes before it is kept: a
// program renamed ".jpg" is refused here, in plain words, and never reaches the dossier. Photos are
// shrunk on the tablet; blobs live in IndexedDB (they survive a reload and wait there for the outbox);
// a Map stands in when IndexedDB is unavailable (private mode), and the page says so.
import { $, el } from "../lib/dom.js";
import { decide, sniffBlob } from "../lib/filetype.js";
import { bytes } from "../lib/format.js";
import { uuid } from "../lib/storage.js";
import { CFG, draft, fmt, save, t } from "./context.js";

const memoryFiles = new Map();
const thumbs = new Map();
let database = null;

export function initFiles() {
  $("nd-camera").addEventListener("change", (e) => addFiles(e.target));
  $("nd-pick").addEventListener("change", (e) => addFiles(e.target));
}

export function openDb() {
  if (!database) {
    database = new Promise((resolve) => {
      try {
        const request = indexedDB.open("new-dossier-files", 1);
        request.onupgradeneeded = () => request.result.createObjectStore("files", { keyPath: "id" });
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(null);
      } catch (e) { resolve(null); }
    });
  }
  return database;
}
export async function store(mode, action) {
  const db = await openDb();
  if (!db) throw new Error("IndexedDB is not available");
  return new Promise((resolve, reject) => {
    const tx = db.transaction("files", mode);
    const request = action(tx.objectStore("files"));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}
async function putFile(record) {
  memoryFiles.set(record.id, record);
  try { await store("readwrite", (s) => s.put(record)); memoryFiles.delete(record.id); } catch (e) { showFileError(t("no_storage")); }
}
export async function getFile(id) {
  if (memoryFiles.has(id)) return memoryFiles.get(id);
  try { return await store("readonly", (s) => s.get(id)); } catch (e) { return undefined; }
}
export async function deleteFile(id) {
  memoryFiles.delete(id);
  if (thumbs.has(id)) { URL.revokeObjectURL(thumbs.get(id)); thumbs.delete(id); }
  try { await store("readwrite", (s) => s.delete(id)); } catch (e) { /* already gone */ }
}
export function forgetThumbnails() {
  thumbs.forEach((url) => URL.revokeObjectURL(url));
  thumbs.clear();
}

export function showFileError(text) {
  const box = $("err-files");
  box.textContent = text || "";
  box.hidden = !text;
}

function canvasBlob(canvas, type, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}
// Photos longer than maxImagePx (or of a type the server refuses, when force) are redrawn as JPEG.
async function shrink(file, type, force) {
  const original = { blob: file, name: file.name || "photo", type: type };
  if (!/^image\/(jpeg|png|webp|gif|bmp)$/.test(type) || !window.createImageBitmap) return original;
  let bitmap;
  try { bitmap = await createImageBitmap(file); } catch (e) { return original; }
  const long = Math.max(bitmap.width, bitmap.height);
  if (long <= CFG.maxImagePx && !force) { bitmap.close(); return original; }
  const scale = Math.min(1, CFG.maxImagePx / long);
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  const g = canvas.getContext("2d");
  g.fillStyle = "#fff"; // transparent PNG areas become white, not black
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.imageSmoothingQuality = "high";
  g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await canvasBlob(canvas, "image/jpeg", CFG.jpegQuality);
  if (!blob) return original;
  return { blob: blob, name: original.name.replace(/\.[^.]+$/, "") + ".jpg", type: "image/jpeg" };
}

async function addFiles(input) {
  const list = Array.from(input.files || []);
  input.value = "";
  showFileError("");
  const refused = [];
  for (const file of list) {
    const real = await sniffBlob(file).catch(() => null);
    const action = decide(real, CFG.acceptedTypes);
    if (action === "refuse") { refused.push(t("not_a_document", { name: file.name })); continue; }
    const meta = { id: uuid(), name: file.name, type: real, size: file.size, origSize: file.size,
      kind: defaultKind(), shrinking: true };
    draft.files.push(meta);
    renderFiles();
    const out = await shrink(file, real, action === "convert").catch(() => ({ blob: file, name: file.name, type: real }));
    if (decide(out.type, CFG.acceptedTypes) !== "keep") { // a picture this browser cannot redraw
      draft.files = draft.files.filter((f) => f.id !== meta.id);
      refused.push(t("not_a_document", { name: file.name }));
      renderFiles();
      continue;
    }
    if (out.blob.size > CFG.maxBytes) {
      draft.files = draft.files.filter((f) => f.id !== meta.id);
      refused.push(t("too_large", { name: file.name, mb: Math.floor(CFG.maxBytes / 1048576) }));
      renderFiles();
      continue;
    }
    meta.name = out.name;
    meta.type = out.type;
    meta.size = out.blob.size;
    delete meta.shrinking;
    await putFile({ id: meta.id, owner: CFG.user, blob: out.blob });
    save();
    renderFiles();
  }
  if (refused.length) showFileError(refused.join(" "));
}

function kinds() {
  const docs = draft.procedure ? draft.procedure.required_documents : [];
  return docs.map((d) => [d.slice(0, 64), d]).concat([["other", t("kind_other")]]);
}
function defaultKind() {
  const docs = draft.procedure ? draft.procedure.required_documents : [];
  const used = draft.files.map((f) => f.kind);
  const next = docs.find((d) => used.indexOf(d.slice(0, 64)) < 0);
  return next ? next.slice(0, 64) : "other";
}

// A thumbnail for a photo; a label ("PDF", or the extension) for anything that does not draw.
export async function thumbnail(meta, box) {
  const label = () => { box.textContent = meta.type === "application/pdf" ? "PDF" : (meta.name.split(".").pop() || "?").toUpperCase(); };
  if (!/^image\/(jpeg|png|webp|gif)$/.test(meta.type)) { label(); return; }
  let url = thumbs.get(meta.id);
  if (!url) {
    const record = await getFile(meta.id);
    if (!record) { label(); return; }
    url = URL.createObjectURL(record.blob);
    thumbs.set(meta.id, url);
  }
  const img = el("img", { className: "thumb", src: url, alt: "" });
  img.addEventListener("error", () => { img.replaceWith(box); label(); });
  box.replaceWith(img);
}

export function renderFiles() {
  const list = $("nd-files");
  list.textContent = "";
  draft.files.forEach((meta) => {
    const box = el("div", { className: "thumb", "aria-hidden": "true" });
    const select = el("select", { name: "kind-" + meta.id, "aria-label": t("kind") + ": " + meta.name },
      kinds().map((k) => el("option", { value: k[0], text: k[1], selected: k[0] === meta.kind })));
    const size = meta.shrinking ? t("shrinking")
      : meta.origSize > meta.size ? bytes(meta.origSize, fmt) + " → " + bytes(meta.size, fmt) : bytes(meta.size, fmt);
    list.appendChild(el("li", { className: "file" }, [
      box,
      el("div", {}, [el("div", { className: "name", text: meta.name }), el("div", { className: "size", text: size })]),
      el("div", { className: "tools" }, [select, el("button", { type: "button", className: "secondary",
        text: t("remove"), "aria-label": t("remove") + ": " + meta.name, onclick: () => removeFile(meta.id) })]),
    ]));
    if (!meta.shrinking) thumbnail(meta, box);
  });
}

function removeFile(id) {
  draft.files = draft.files.filter((f) => f.id !== id);
  save();
  deleteFile(id);
  renderFiles();
}

// Blobs that neither the draft nor the outbox refers to any more (e.g. storage cleared by hand).
export async function sweepFiles(kept) {
  try {
    const keys = await store("readonly", (s) => s.getAllKeys());
    for (const id of keys || []) {
      const record = kept.has(id) ? null : await getFile(id);
      if (record && record.owner === CFG.user) await deleteFile(id);
    }
  } catch (e) { /* no IndexedDB: nothing kept */ }
}
