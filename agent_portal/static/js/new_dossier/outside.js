// Step 3, a location outside Hanoi: the routing refuses it (422 "outside_hanoi") and the step waits,
// unless the agent registers it anyway with a reason. The refused location is kept aside in
// draft.outside = { location, open, confirmed }; once a reason is confirmed the location comes back,
// the routing is asked again with the reason, and the dossier is sent with it (outside_hanoi_reason).
import { $ } from "../lib/dom.js";
import { draft, fieldValue, form, save, t } from "./context.js";
import { placePin, renderLocation, renderRouting, route } from "./location.js";
import { setError, validateField } from "./validation.js";

export function initOutside() {
  $("nd-outside-go").addEventListener("click", toggle);
  $("nd-outside-use").addEventListener("click", confirm);
}

// The reason of a confirmed override ("" when there is none).
export function outsideReason() {
  return draft.outside && draft.outside.confirmed ? fieldValue("outside_hanoi_reason") : "";
}

// The routing refused this location as outside Hanoi (the location itself was cleared by lookupFailed),
// or the server did when the dossier was sent (location null: the citizen's address, located there).
export function refuseOutside(location) {
  draft.outside = { location: location, open: Boolean(draft.outside && draft.outside.open), confirmed: false };
  save();
  renderOutside();
}

// A new location, or a lookup that failed for another reason: nothing of the override remains.
export function clearOutside() {
  if (!draft.outside) return;
  draft.outside = null;
  save();
  renderOutside();
}

function toggle() {
  const o = draft.outside;
  if (!o) return;
  o.open = !o.open;
  if (!o.open && o.confirmed) {
    // Taking the override back: the location is refused again.
    o.confirmed = false;
    draft.location = null;
    draft.routing = null;
    draft.fields.point = "";
    draft.lookupFailed = true;
    renderLocation();
    renderRouting();
    setError("location", t("outside_refused"));
  }
  if (!o.open) setError("outside_hanoi_reason", "");
  save();
  renderOutside();
  if (o.open) form.elements.outside_hanoi_reason.focus();
}

function confirm() {
  const o = draft.outside;
  if (!o) return;
  if (validateField("outside_hanoi_reason")) { form.elements.outside_hanoi_reason.focus(); return; }
  o.confirmed = true;
  draft.location = o.location;
  draft.lookupFailed = false;
  save();
  setError("location", "");
  renderOutside();
  renderLocation();
  placePin();
  route();
}

export function renderOutside() {
  const o = draft.outside;
  $("nd-outside").hidden = !o;
  const open = Boolean(o && o.open);
  $("nd-outside-go").setAttribute("aria-expanded", String(open));
  $("nd-outside-box").hidden = !open;
  $("nd-outside-status").textContent = o && o.confirmed ? t("outside_kept") : "";
  // After a reload the refusal's message is gone: say why the step waits.
  if (o && !o.confirmed && !$("err-location").textContent) setError("location", t("outside_refused"));
}
