// New-dossier flow of the agents' tablet portal: procedure, citizen, location and routing, documents,
// delivery, confirm. Hand-written ES modules, no framework, no build step; each step has its module.
//
// Nothing is lost: the draft lives in localStorage, the photos in IndexedDB; a dossier that cannot be
// sent waits in the outbox and goes out, with the same Idempotency-Key, when the link returns. The
// service worker (/portal/sw.js) keeps this page and its modules so it also reloads with no connection.
import { $ } from "../lib/dom.js";
import { CFG, draft, fieldValue, form, isBlank, TEXT_FIELDS, save, t } from "./context.js";
import { initDelivery, renderDelivery } from "./delivery.js";
import { deleteFile, initFiles, openDb, showFileError, sweepFiles } from "./files.js";
import { fillForm } from "./fill.js";
import { initLocation, locateAddress, renderChoice } from "./location.js";
import { flushQueue, initOutbox, renderQueue } from "./outbox.js";
import { initOutside } from "./outside.js";
import { clearDraft, foreground, goToPayment, showPanel } from "./panels.js";
import { initProcedure, refreshCatalogue, search } from "./procedure.js";
import { readQueue } from "./queue.js";
import { initSteps, show } from "./steps.js";
import { submit } from "./submit.js";
import { dropFile, setUploadHooks, uploadAll } from "./uploads.js";
import { validateField, VALIDATORS } from "./validation.js";

function onEdit(event) {
  const target = event.target;
  const name = target.name;
  if (!name) return;
  if (target.type === "checkbox" && name === "doc") {
    draft.docs = Array.from(form.querySelectorAll('input[name="doc"]:checked'), (c) => Number(c.value));
  } else if (name === "point") {
    draft.fields.point = form.elements.point.value;
    renderChoice();
  } else if (name === "delivery") {
    draft.fields.delivery = form.elements.delivery.value;
    renderDelivery();
  } else if (name.startsWith("kind-")) {
    const file = draft.files.find((f) => "kind-" + f.id === name);
    if (file) file.kind = target.value;
  } else if (TEXT_FIELDS.indexOf(name) >= 0) {
    draft.fields[name] = target.value;
    const error = $("err-" + name);
    if (error && !error.hidden) validateField(name);
  }
  save();
}

// Enter in the search box searches, in the address box locates; elsewhere it moves on.
function onEnterInField(active) {
  if (active === form.elements.q) { search(true); return true; }
  if (active === form.elements.geo_address) { locateAddress(); return true; }
  return false;
}

async function retryUpload(key, id) {
  const item = readQueue().find((q) => q.key === key);
  if (!item || foreground.has(key)) return;
  foreground.add(key);
  item.files.forEach((f) => { if (f.id === id) f.state = "pending"; });
  const ok = await uploadAll(item, true, id);
  foreground.delete(key);
  renderQueue();
  if (ok || item.files.every((f) => f.state === "done")) goToPayment();
}

function onDrop(key, id) {
  const item = dropFile(key, id);
  renderQueue();
  if (item && item.files.every((f) => f.state === "done")) goToPayment();
}

// Two taps discard a draft that has content (no blocking dialog on a tablet).
function initReset() {
  const resetButton = $("nd-reset");
  const resetLabel = resetButton.textContent;
  let armed = null;
  const disarm = () => { clearTimeout(armed); armed = null; resetButton.textContent = resetLabel; };
  resetButton.addEventListener("click", () => {
    if (!isBlank() && !armed) {
      resetButton.textContent = t("discard");
      armed = setTimeout(disarm, 4000);
      return;
    }
    disarm();
    const queued = new Set();
    readQueue().forEach((q) => q.files.forEach((f) => queued.add(f.id)));
    draft.files.forEach((f) => { if (!queued.has(f.id)) deleteFile(f.id); });
    clearDraft();
    showPanel(null);
    show(1, true);
  });
  document.querySelectorAll(".nd-again").forEach((b) => b.addEventListener("click", () => {
    $("nd-done-status").textContent = "";
    $("nd-uploads").textContent = "";
    showPanel(null);
    show(1, true);
  }));
}

function registerServiceWorker() {
  if (!CFG.serviceWorker || !("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(CFG.serviceWorker, { scope: CFG.serviceWorkerScope }).then((registration) => {
    // A tablet keeps this page open all day: look for a deploy now and then, so its files are
    // cached before the next load asks for them.
    const update = () => { if (navigator.onLine) registration.update().catch(() => {}); };
    setInterval(update, 15 * 60 * 1000);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) update(); });
  }).catch(() => { /* no offline reload, everything else works */ });
}

form.addEventListener("input", onEdit);
form.addEventListener("change", onEdit);
form.addEventListener("focusout", (event) => {
  const name = event.target.name;
  if (VALIDATORS[name] && (fieldValue(name) || event.target.required)) validateField(name);
});
initSteps(submit, onEnterInField);
initProcedure();
initLocation();
initOutside();
initFiles();
initDelivery();
initOutbox();
initReset();
setUploadHooks({ onRetry: retryUpload, onDrop: onDrop });

// Files whose blob never reached storage (the page closed while shrinking) are dropped.
draft.files = draft.files.filter((f) => !f.shrinking);
form.hidden = false;
fillForm();
show(draft.step || 1, false);
if (draft.procedure === null) {
  form.elements.q.focus({ preventScroll: true });
  if (fieldValue("q")) search();
}
renderQueue();
window.portalReady = performance.now(); // read by bench/bench_portal.py
openDb().then((db) => {
  if (!db && draft.files.length) { showFileError(t("no_storage")); return; }
  const kept = new Set(draft.files.map((f) => f.id));
  readQueue().forEach((q) => q.files.forEach((f) => kept.add(f.id)));
  sweepFiles(kept);
});
if (navigator.onLine) { flushQueue(); refreshCatalogue(); }
registerServiceWorker();
