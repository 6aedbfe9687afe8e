// The page's checks (the server's rules, lib/validate.js), their messages, and focus on the first wrong field.
import { $ } from "../lib/dom.js";
import { cccdError, emailError, phoneError } from "../lib/validate.js";
import { CFG, draft, fieldValue, form, t } from "./context.js";

const PROVINCES = new Set(CFG.cccdProvinces);
export const REASON_MIN_WORDS = 3; // a reason to register a place outside Hanoi: a few words, not "ok"
const words = (text) => text.split(/\s+/).filter(Boolean).length;
const message = (key) => (key ? t(key) : "");

export const VALIDATORS = {
  procedure: () => (draft.procedure ? "" : t("procedure_required")),
  full_name: () => (fieldValue("full_name") ? "" : t("required")),
  cccd: () => message(cccdError(draft.fields.cccd, PROVINCES)),
  phone: () => message(phoneError(draft.fields.phone)),
  email: () => message(emailError(draft.fields.email)),
  address: () => "",
  // A failed lookup leaves no location behind: the step waits until one is set again.
  location: () => {
    if (draft.outside) return draft.outside.confirmed ? "" : t("outside_refused");
    if (draft.location) return "";
    if (draft.lookupFailed) return t("location_failed");
    return fieldValue("address") ? "" : t("location_required");
  },
  outside_hanoi_reason: () => (draft.outside && draft.outside.open &&
    words(fieldValue("outside_hanoi_reason")) < REASON_MIN_WORDS ? t("outside_reason_short", { n: REASON_MIN_WORDS }) : ""),
  choice_reason: () => (draft.fields.point && !fieldValue("choice_reason") ? t("reason_required") : ""),
  delivery_address: () =>
    (draft.fields.delivery === "courier" && !fieldValue("delivery_address") ? t("courier_address") : ""),
};
export const STEP_FIELDS = { 1: ["procedure"], 2: ["full_name", "cccd", "phone", "email"], 3: ["location", "outside_hanoi_reason",
  "choice_reason"],
  4: [], 5: ["delivery_address"], 6: [] };
export const STEP_OF_FIELD = { procedure: 1, full_name: 2, cccd: 2, phone: 2, email: 2, address: 2, location: 3,
  point: 3, choice_reason: 3, outside_hanoi_reason: 3, delivery_address: 5, general: 6 };
// Server field names (422 problem "errors[].field") → our fields.
export const SERVER_FIELDS = {
  procedure_code: "procedure", citizen: "full_name", "citizen.full_name": "full_name", "citizen.cccd": "cccd",
  "citizen.phone": "phone", "citizen.email": "email", "citizen.address": "address", location: "location",
  "location.lat": "location", "location.lon": "location", "location.source": "location",
  service_point_code: "point", choice_reason: "choice_reason", delivery: "delivery_address",
  "delivery.address": "delivery_address", "delivery.method": "delivery_address",
  outside_hanoi_reason: "outside_hanoi_reason",
};
// Errors with no input of their own: what the agent uses to put them right.
const FOCUS_TARGET = { procedure: "nd-q", location: "nd-gps", point: "nd-alt-list" };

export function setError(name, text) {
  const box = $("err-" + name);
  if (box) { box.textContent = text || ""; box.hidden = !text; }
  const input = form.elements[name];
  if (input && input.setAttribute) {
    input.setAttribute("aria-invalid", text ? "true" : "false");
    const field = input.closest(".field");
    if (field) field.classList.toggle("invalid", Boolean(text));
  }
}

export function validateField(name) {
  const text = VALIDATORS[name] ? VALIDATORS[name]() : "";
  setError(name, text);
  return text;
}

// Every field of the step is checked (all messages show); the first wrong one is returned.
export function validateStep(step) {
  let first = null;
  STEP_FIELDS[step].forEach((name) => { if (validateField(name) && !first) first = name; });
  return first;
}

export function focusField(name) {
  const input = form.elements[name];
  let target = FOCUS_TARGET[name] ? $(FOCUS_TARGET[name]) : input && input.focus ? input : null;
  // Refused as outside Hanoi with the override open: what puts it right is the reason.
  if (name === "location" && draft.outside && draft.outside.open) target = form.elements.outside_hanoi_reason;
  if (target && target.id === "nd-alt-list") target = target.querySelector("input:checked") || target.querySelector("input");
  if (!target) {
    target = $("err-" + name);
    if (target) target.setAttribute("tabindex", "-1");
  }
  if (target) {
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "center" });
  }
}
