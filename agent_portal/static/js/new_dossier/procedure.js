// Step 1: finding the procedure (online, or in the copy of the catalogue kept on the tablet).
import { $, el } from "../lib/dom.js";
import { fold } from "../lib/format.js";
import { getJson } from "../lib/http.js";
import { readJson, removeKey, writeJson } from "../lib/storage.js";
import { CATALOGUE_KEY, CFG, days, draft, feeNote, fmt, form, LANG, OLD_CATALOGUE_KEYS, procName, save, t } from "./context.js";
import { setError } from "./validation.js";

let searchTimer = null;
let searchAbort = null;
const results = () => $("nd-results");

export function initProcedure() {
  form.elements.q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 200);
  });
}

function searchStatus(text) { $("nd-search-status").textContent = text || ""; }

export function clearResults() { results().textContent = ""; }

export async function search(now) {
  clearTimeout(searchTimer);
  const text = form.elements.q.value.trim();
  if (searchAbort) searchAbort.abort();
  if (text.length < 2) { clearResults(); searchStatus(now ? t("type_more") : ""); return; }
  searchAbort = new AbortController();
  searchStatus(t("searching"));
  try {
    const r = await getJson(CFG.urls.procedures + "?limit=8&q=" + encodeURIComponent(text), searchAbort.signal);
    if (!r.ok) throw new Error("HTTP " + r.status);
    renderResults(r.body, "");
  } catch (e) {
    if (e.name === "AbortError") return;
    const saved = offlineSearch(readJson(CATALOGUE_KEY), text);
    renderResults(saved, saved === null ? t("search_failed") : t("offline_search"));
  }
}

// Pure: the saved procedures matching every word, accents and case aside (null with no saved copy).
export function offlineSearch(cache, text) {
  if (!cache || !cache.items) return null;
  const words = fold(text).split(/\s+/).filter(Boolean);
  return cache.items.filter((p) => {
    const hay = fold(p.name + " " + (p.name_en || "") + " " + p.code + " " + p.sector);
    return words.every((w) => hay.indexOf(w) >= 0);
  }).slice(0, 8);
}

export async function refreshCatalogue() {
  OLD_CATALOGUE_KEYS.forEach((key) => removeKey(key));
  const cache = readJson(CATALOGUE_KEY);
  if (cache && Date.now() - cache.at < 12 * 3600 * 1000) return;
  try {
    const r = await getJson(CFG.urls.procedures + "?limit=2000");  // the whole catalogue (the API's most)
    if (r.ok) writeJson(CATALOGUE_KEY, { at: Date.now(), items: r.body.map(slimProcedure) });
  } catch (e) { /* offline: keep the old copy */ }
}

function slimProcedure(p) {
  return { code: p.code, name: p.name, name_en: p.name_en, level: p.level, sector: p.sector, fee_vnd: p.fee_vnd,
    fee_note: p.fee_note, fee_note_vi: p.fee_note_vi, processing_days: p.processing_days,
    // The English checklist where the catalogue has one (same items, same order), else the Vietnamese.
    required_documents: (LANG === "en" && p.required_documents_en) || p.required_documents || [] };
}

function procedureMeta(p) {
  return [t("level_" + p.level), t("fee") + ": " + fmt.money.format(p.fee_vnd), days(p.processing_days)].join(" · ");
}

function renderResults(list, note) {
  clearResults();
  searchStatus(note || (list && !list.length ? t("no_match") : ""));
  (list || []).forEach((p) => {
    results().appendChild(el("li", {}, [el("button", { type: "button", className: "result", onclick: () => pickProcedure(p) }, [
      el("strong", { text: p.name }),
      LANG === "en" && p.name_en ? el("small", { text: p.name_en, lang: "en" }) : null,
      el("small", { text: procedureMeta(p) }),
    ])]));
  });
}

function pickProcedure(p) {
  const changed = !draft.procedure || draft.procedure.code !== p.code;
  draft.procedure = slimProcedure(p);
  if (changed) { draft.docs = []; draft.routing = null; draft.fields.point = ""; }
  clearResults();
  searchStatus("");
  save();
  renderProcedure();
  setError("procedure", "");
  $("nd-proc").scrollIntoView({ block: "nearest" });
}

export function renderProcedure() {
  const p = draft.procedure;
  $("nd-proc").hidden = !p;
  const box = $("nd-docs");
  box.textContent = "";
  if (!p) return;
  $("nd-proc-name").textContent = procName(p);
  const note = feeNote(p);
  $("nd-proc-meta").textContent = procedureMeta(p) + (note ? " (" + note + ")" : "");
  p.required_documents.forEach((doc, i) => {
    box.appendChild(el("label", { className: "check" }, [
      el("input", { type: "checkbox", name: "doc", value: String(i), checked: draft.docs.indexOf(i) >= 0 }),
      el("span", { text: doc }),
    ]));
  });
}
