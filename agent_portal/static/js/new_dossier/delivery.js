// Step 5: collecting the result at the point, or a courier to an address.
import { $ } from "../lib/dom.js";
import { draft, fieldValue, form, save } from "./context.js";
import { setError, validateField } from "./validation.js";

export function initDelivery() {
  $("nd-same-address").addEventListener("click", () => {
    draft.fields.delivery_address = draft.fields.address || "";
    form.elements.delivery_address.value = draft.fields.delivery_address;
    save();
    validateField("delivery_address");
  });
}

export function renderDelivery() {
  const courier = draft.fields.delivery === "courier";
  $("nd-courier-box").hidden = !courier;
  if (courier && !fieldValue("delivery_address") && fieldValue("address")) {
    draft.fields.delivery_address = draft.fields.address;
    form.elements.delivery_address.value = draft.fields.address;
    save();
  }
  if (!courier) setError("delivery_address", "");
}
