// What every part of the new-dossier page shares: its configuration and strings (JSON data blocks in
// the page), formatters, the form, and the draft (step and every value, in localStorage under
// "draft:<email>"; photos live in IndexedDB, see files.js).
import { $, csrfToken, readData } from "../lib/dom.js";
import { formatters } from "../lib/format.js";
import { pageLanguage, translator } from "../lib/i18n.js";
import { readJson, writeJson } from "../lib/storage.js";

export const CFG = readData("nd-config");
export const T = readData("nd-i18n");
export const t = translator(T);
export const { lang: LANG, locale: LOCALE } = pageLanguage(CFG);
export const CSRF = csrfToken();
export const fmt = formatters(LOCALE);
export const form = $("nd-form");
export const DRAFT_KEY = "draft:" + CFG.user;
export const QUEUE_KEY = "queue:" + CFG.user;
// Per language (the checklist in the page's language). v3: procedures carry fee_note_vi; older copies are dropped.
export const CATALOGUE_KEY = "catalogue:v3:" + LANG;
export const OLD_CATALOGUE_KEYS = ["catalogue:v1", "catalogue:v2:vi", "catalogue:v2:en"];
export const LAST_STEP = 6;
export const TEXT_FIELDS = ["q", "full_name", "cccd", "phone", "email", "address", "geo_address", "choice_reason",
  "delivery_address", "outside_hanoi_reason"];

export function emptyDraft() {
  return { v: 1, step: 1, procedure: null, docs: [], fields: { delivery: "collect" }, location: null,
    lookupFailed: false, outside: null, routing: null, files: [], idemKey: null };
}

export let draft = readJson(DRAFT_KEY);
if (!draft || draft.v !== 1) draft = emptyDraft();

export function setDraft(value) { draft = value; }

export function save() {
  draft.savedAt = Date.now();
  writeJson(DRAFT_KEY, draft);
}

export function fieldValue(name) { return (draft.fields[name] || "").trim(); }

export function isBlank() {
  const f = draft.fields;
  return !draft.procedure && !draft.location && !draft.files.length &&
    !["full_name", "cccd", "phone", "email", "address", "delivery_address"].some((k) => (f[k] || "").trim());
}

export function procName(p) { return LANG === "en" && p.name_en ? p.name_en : p.name; }
// The fee note in the page's language; none rather than the other language's.
export function feeNote(p) { return (LANG === "en" ? p.fee_note : p.fee_note_vi) || ""; }
const PLURAL = new Intl.PluralRules(LANG); // CLDR's rules, as Babel's on the server
export function days(n) { return t(PLURAL.select(n) === "one" ? "days_one" : "days_other", { n: n }); }
export const fill = (template, number) => template.replace("{number}", encodeURIComponent(number));
