// The six steps: showing one, moving on only past valid steps.
import { $ } from "../lib/dom.js";
import { draft, form, LAST_STEP, save, t, T } from "./context.js";
import { renderFiles } from "./files.js";
import { enterLocation } from "./location.js";
import { renderSummary } from "./summary.js";
import { focusField, validateStep } from "./validation.js";

let sections = [];
let stepButtons = [];

export function initSteps(onSubmitLast, onEnterInField) {
  sections = Array.from(form.querySelectorAll(".step"));
  stepButtons = Array.from(document.querySelectorAll("#nd-steps [data-goto]"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (onEnterInField(document.activeElement)) return;
    if (draft.step < LAST_STEP) goTo(draft.step + 1); else onSubmitLast();
  });
  $("nd-back").addEventListener("click", () => show(Math.max(1, draft.step - 1), true));
  stepButtons.forEach((b) => b.addEventListener("click", () => {
    const n = Number(b.dataset.goto);
    if (n < draft.step) show(n, true); else goTo(n);
  }));
}

export function show(step, focusHeading) {
  draft.step = step;
  save();
  sections.forEach((s) => { s.hidden = Number(s.dataset.step) !== step; });
  stepButtons.forEach((b) => {
    const n = Number(b.dataset.goto);
    if (n === step) b.setAttribute("aria-current", "step"); else b.removeAttribute("aria-current");
    b.classList.toggle("passed", n < step);
    b.setAttribute("aria-label", t("step_of", { n: n, total: LAST_STEP, label: T.steps[n - 1] }));
  });
  $("nd-back").hidden = step === 1;
  $("nd-next").textContent = step === LAST_STEP ? t("confirm") : t("next");
  if (step === 3) enterLocation();
  if (step === 4) renderFiles();
  if (step === LAST_STEP) renderSummary();
  if (focusHeading) {
    $("nd-h" + step).focus({ preventScroll: true });
    window.scrollTo(0, Math.max(0, $("nd-steps").getBoundingClientRect().top + window.scrollY - 8));
  }
}

// The first wrong field of the steps on the way gets the focus (after its step's heading).
export function stopAtFirstError(upTo) {
  for (let s = 1; s < upTo; s++) {
    const bad = validateStep(s);
    if (bad) { show(s, true); focusField(bad); return true; }
  }
  return false;
}

export function goTo(step) {
  for (let s = draft.step; s < step; s++) {
    const bad = validateStep(s);
    if (bad) { show(s, true); focusField(bad); return; }
  }
  show(step, true);
}
