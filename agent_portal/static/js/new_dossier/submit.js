// Registering the dossier: one Idempotency-Key per draft, kept before the first attempt, so a retry
// after a lost answer (or from the outbox) registers it exactly once.
import { $ } from "../lib/dom.js";
import { problemText, sleep } from "../lib/http.js";
import { uuid } from "../lib/storage.js";
import { CFG, CSRF, draft, fieldValue, LANG, LAST_STEP, procName, save, t } from "./context.js";
import { refuseOutside } from "./outside.js";
import { registered, toOutbox } from "./panels.js";
import { show, stopAtFirstError } from "./steps.js";
import { buildBody } from "./summary.js";
import { focusField, SERVER_FIELDS, setError, STEP_OF_FIELD } from "./validation.js";

// One attempt. Resolves with {status, body, replayed}; rejects with {network: true} when no answer came.
export async function postDossier(item) {
  let response;
  try {
    response = await fetch(CFG.urls.dossiers, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(item.body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": CSRF,
        "Idempotency-Key": item.key },
    });
  } catch (e) {
    throw { network: true };
  }
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (response.status >= 500) throw { network: true, status: response.status };
  return { status: response.status, body: body, replayed: response.headers.get("Idempotent-Replayed") === "true" };
}

function setBusy(busy) {
  $("nd-next").disabled = busy;
  $("nd-back").disabled = busy;
}
export function submitStatus(text) { $("nd-submit-status").textContent = text || ""; }
export function generalError(text) {
  const box = $("err-general");
  box.textContent = text || "";
  box.hidden = !text;
}

let submitting = false;
export async function submit() {
  if (submitting) return;
  generalError("");
  if (stopAtFirstError(LAST_STEP)) return;
  if (draft.files.some((f) => f.shrinking)) return;
  if (!draft.idemKey) { draft.idemKey = uuid(); save(); } // kept before the first attempt
  const item = { key: draft.idemKey, body: buildBody(), files: draft.files.map((f) => ({ id: f.id, name: f.name,
    type: f.type, kind: f.kind, state: "pending" })), label: fieldValue("full_name") + " · " + procName(draft.procedure),
  queuedAt: Date.now(), draft: JSON.parse(JSON.stringify(draft)) };
  if (!navigator.onLine) { toOutbox(item); return; }
  submitting = true;
  setBusy(true);
  submitStatus(t("sending"));
  const delays = [1000, 2000, 4000];
  let result = null;
  for (let attempt = 0; ; attempt++) {
    try {
      result = await postDossier(item);
      break;
    } catch (e) {
      if (attempt < delays.length && navigator.onLine) {
        submitStatus(t("retrying", { n: attempt + 1 }));
        await sleep(delays[attempt]);
        continue;
      }
      break;
    }
  }
  submitting = false;
  setBusy(false);
  submitStatus("");
  if (!result) { toOutbox(item); return; }
  if (result.status === 200 || result.status === 201) { registered(item, result.body); return; }
  if (result.status === 422 && result.body && result.body.code === "outside_hanoi") {
    // The citizen's address, located by the server (the tablet had no answer), is outside Hanoi.
    refuseOutside(draft.location);
    show(3, true);
    setError("location", problemText(result.body, result.status, LANG));
    focusField("location");
    return;
  }
  if (result.status === 422 && result.body && result.body.errors && result.body.code !== "idempotency_key_reused") {
    showServerErrors(result.body.errors);
    return;
  }
  if (result.status === 401 || result.status === 400) { generalError(t("session")); return; }
  generalError(problemText(result.body, result.status, LANG));
}

export function showServerErrors(errors) {
  let first = null;
  errors.forEach((e) => {
    const name = SERVER_FIELDS[e.field] || "general";
    const message = e["message_" + LANG] || e.message;
    if (name === "general") generalError(e.field + ": " + message); else setError(name, message);
    if (!first || STEP_OF_FIELD[name] < STEP_OF_FIELD[first]) first = name;
  });
  if (!first) return;
  show(STEP_OF_FIELD[first], true);
  if (first !== "general") focusField(first);
  else generalError($("err-general").textContent || t("check_fields"));
}
