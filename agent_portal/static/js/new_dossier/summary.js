// Step 6: what will be sent, as the agent reads it back to the citizen, and the request body.
import { $, el } from "../lib/dom.js";
import { digits, mask } from "../lib/format.js";
import { days, draft, fieldValue, fmt, procName, t } from "./context.js";
import { chosenOption } from "./location.js";
import { outsideReason } from "./outside.js";

export function renderSummary() {
  const p = draft.procedure;
  const f = draft.fields;
  const point = chosenOption();
  const rows = [];
  if (p) {
    rows.push([t("s_procedure"), procName(p) + " (" + p.code + ")"]);
    rows.push([t("s_fee"), fmt.money.format(p.fee_vnd)]);
    rows.push([t("s_time"), days(p.processing_days)]);
    rows.push([t("s_documents"), t("n_of_m", { n: draft.docs.length, m: p.required_documents.length })]);
  }
  rows.push([t("s_citizen"), fieldValue("full_name")]);
  rows.push([t("s_cccd"), mask(digits(f.cccd))]);
  rows.push([t("s_phone"), mask(digits(f.phone))]);
  if (fieldValue("email")) rows.push([t("s_email"), fieldValue("email")]);
  if (fieldValue("address")) rows.push([t("s_address"), fieldValue("address")]);
  rows.push([t("s_location"), draft.location ? $("nd-loc").textContent : t("s_by_address")]);
  if (outsideReason()) rows.push([t("s_outside_reason"), outsideReason()]);
  rows.push([t("s_point"), point ? point.service_point_name + " (" + point.service_point_code + ")" : t("s_to_route")]);
  if (f.point) rows.push([t("s_reason"), fieldValue("choice_reason")]);
  rows.push([t("s_delivery"), f.delivery === "courier" ? t("courier_to", { address: fieldValue("delivery_address") }) : t("collect")]);
  rows.push([t("s_files"), String(draft.files.length)]);
  const dl = $("nd-summary");
  dl.textContent = "";
  rows.forEach((row) => dl.appendChild(el("div", {}, [el("dt", { text: row[0] }), el("dd", { text: row[1] || "—" })])));
}

export function buildBody() {
  const f = draft.fields;
  const p = draft.procedure;
  const loc = draft.location;
  const courier = f.delivery === "courier";
  const brought = draft.docs.map((i) => p.required_documents[i]).filter(Boolean);
  return {
    procedure_code: p.code,
    citizen: { full_name: fieldValue("full_name"), cccd: digits(f.cccd), phone: fieldValue("phone"),
      email: fieldValue("email") || null, address: fieldValue("address") || null },
    location: loc ? { lat: loc.lat, lon: loc.lon, source: loc.source } : null,
    delivery: { method: courier ? "courier" : "collect", address: courier ? fieldValue("delivery_address") : null },
    service_point_code: f.point || null,
    choice_reason: f.point ? fieldValue("choice_reason") : null,
    outside_hanoi_reason: outsideReason() || null,
    note: brought.length ? (t("note_documents") + ": " + brought.join("; ")).slice(0, 2000) : null,
  };
}
