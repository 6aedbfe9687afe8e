// After "Confirm": the done panel (number, deadline, point, uploads, then on to the fees) or, with no
// connection, the "saved on this tablet" panel, which becomes the done panel once the dossier is sent.
import { $ } from "../lib/dom.js";
import { CFG, emptyDraft, fill, fmt, save, setDraft, t, TEXT_FIELDS } from "./context.js";
import { forgetThumbnails } from "./files.js";
import { fillForm } from "./fill.js";
import { resetLocationUi } from "./location.js";
import { renderQueue } from "./outbox.js";
import { clearResults } from "./procedure.js";
import { upsertItem } from "./queue.js";
import { generalError, submitStatus } from "./submit.js";
import { uploadAll } from "./uploads.js";
import { setError } from "./validation.js";

export const foreground = new Set(); // outbox items this page is sending in view (the outbox leaves them alone)
let queuedKey = null; // the item the "saved on this tablet" panel is about

export function clearDraft() {
  setDraft(emptyDraft());
  save();
  forgetThumbnails();
  fillForm();
  TEXT_FIELDS.concat(["procedure", "location", "point"]).forEach((n) => setError(n, ""));
  generalError("");
  submitStatus("");
  resetLocationUi();
  clearResults();
}

export function showPanel(id) {
  $("nd-form").hidden = Boolean(id);
  $("nd-steps").hidden = Boolean(id);
  $("nd-done").hidden = id !== "nd-done";
  $("nd-queued").hidden = id !== "nd-queued";
  if (id !== "nd-queued") queuedKey = null;
  if (id) { $(id).querySelector("h2").focus(); window.scrollTo(0, 0); }
}

export function toOutbox(item) {
  upsertItem(item);
  clearDraft();
  showPanel("nd-queued");
  queuedKey = item.key;
  renderQueue();
}

// True when the "saved on this tablet" panel is showing this item: its registration then shows as usual.
export const waitingInView = (key) => queuedKey === key && !$("nd-queued").hidden;

let leaving = null;
export function goToPayment() {
  $("nd-done-status").textContent = t("opening_payment");
  clearTimeout(leaving);
  leaving = setTimeout(() => { if (!$("nd-done").hidden) window.location.assign($("nd-pay").href); }, CFG.receiptDelayMs);
}

export async function registered(item, dossier) {
  foreground.add(item.key);
  item.number = dossier.number;
  if (item.files.length) upsertItem(item);
  if (queuedKey !== item.key) clearDraft();
  $("nd-done-number").textContent = dossier.number;
  $("nd-done-deadline").textContent = fmt.deadline.format(new Date(dossier.deadline_at));
  const point = dossier.service_point || {};
  $("nd-done-point").textContent = point.service_point_name ? point.service_point_name + " (" + point.service_point_code + ")" : "—";
  $("nd-receipt").href = fill(CFG.urls.receipt, dossier.number);
  $("nd-pay").href = fill(CFG.urls.pay, dossier.number);
  $("nd-done-status").textContent = "";
  showPanel("nd-done");
  renderQueue();
  const ok = await uploadAll(item, true);
  foreground.delete(item.key);
  renderQueue();
  if (ok) goToPayment(); // the receipt link stays here and on the payment page
  else $("nd-done-status").textContent = t("uploads_failed");
}
