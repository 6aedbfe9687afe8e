// Putting the draft back into the form (on load, after "start again", after editing a queued item).
import { draft, form, TEXT_FIELDS } from "./context.js";
import { renderDelivery } from "./delivery.js";
import { renderFiles } from "./files.js";
import { renderLocation, renderRouting } from "./location.js";
import { renderOutside } from "./outside.js";
import { renderProcedure } from "./procedure.js";

export function fillForm() {
  TEXT_FIELDS.forEach((name) => { form.elements[name].value = draft.fields[name] || ""; });
  form.elements.delivery.value = draft.fields.delivery || "collect";
  renderProcedure();
  renderLocation();
  renderRouting();
  renderOutside();
  renderFiles();
  renderDelivery();
}
