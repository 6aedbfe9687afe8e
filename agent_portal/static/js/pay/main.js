// Taking a dossier's fees on the agents' tablet: card (the sandbox's test cards in the embedded
// default), VietQR transfer or cash; then the e-receipt. Hand-written ES modules, no framework.
//
// A card attempt has one key, created and kept in sessionStorage before its first request and
// sent again when the same attempt is retried after a lost answer, so the gateway charges it at
// most once. The page follows the payment by polling ``…/payment?refresh=true`` while something
// outside it decides (3-D Secure, a bank transfer), and only while it is visible. Text from the
// server is set with textContent.
import { $, csrfToken, el, readData } from "../lib/dom.js";
import { formatters, safeUrl } from "../lib/format.js";
import { problemText, sendJson, sleep } from "../lib/http.js";
import { pageLanguage, translator } from "../lib/i18n.js";
import { readJson, removeKey, uuid, writeJson } from "../lib/storage.js";
import { BANKS, importSvg } from "./qr.js";

const CFG = readData("pay-config");
const t = translator(readData("pay-i18n"));
const { lang: LANG, locale: LOCALE } = pageLanguage(CFG);
const CSRF = csrfToken();
const ATTEMPT_KEY = "pay-attempt:" + CFG.number;
const OPEN = ["awaiting", "requires_action", "processing"];
const SETTLED = ["paid", "partially_refunded", "refunded"];
const POLL_FAST_MS = 3000;
const POLL_SLOW_MS = 10000;
const POLL_FAST_FOR_MS = 60000;
const fmt = formatters(LOCALE);
const money = fmt.money;
const when = fmt.when;

let payment = CFG.payment; // the last PaymentSchema the server sent
let chosen = null; // the open panel: "card" | "vietqr" | "cash" | null
let busy = false;
let version = 0; // bumped by every change the agent makes; an older poll answer is then dropped
let pollTimer = null;
let pollSince = 0;
let shownQr = null;
let memoryAttempt = null; // when sessionStorage is unavailable
let returning = null; // "succeeded" | "failed": the gateway's word on the way back from 3-D Secure

const isOpen = (p) => Boolean(p) && OPEN.includes(p.status);
const isSettled = (p) => Boolean(p) && SETTLED.includes(p.status);
function readAttempt() {
  try { return readJson(ATTEMPT_KEY, sessionStorage) || null; } catch (e) { return memoryAttempt; }
}
function writeAttempt(attempt) {
  memoryAttempt = attempt;
  try {
    if (attempt) writeJson(ATTEMPT_KEY, attempt, sessionStorage); else removeKey(ATTEMPT_KEY, sessionStorage);
  } catch (e) { /* kept in memory for this page */ }
}
const call = (method, url, body) => sendJson(method, url, body, { csrf: CSRF, lang: LANG });

// ---------------------------------------------------------------- the API
// The same request again after a lost answer (the card attempt keeps its key), a few times.
async function withRetries(request) {
  const delays = [1000, 2000, 4000];
  for (let attempt = 0; ; attempt++) {
    const result = await request();
    if (!result.network || attempt >= delays.length || !navigator.onLine) return result;
    setStatus(t("retrying", { n: attempt + 1 }));
    await sleep(delays[attempt]);
  }
}
function errorText(result) {
  if (result.network) return t("no_answer");
  if (result.status === 401 || result.status === 400) return t("session");
  return problemText(result.body, result.status, LANG);
}
// A PaymentSchema answer becomes the page's state; anything else is shown as an error.
function accept(result) {
  if (result.ok && result.body && result.body.status) {
    const before = payment ? payment.status : null;
    payment = result.body;
    if (isSettled(payment)) chosen = null;
    render(before);
    return true;
  }
  showError(errorText(result));
  return false;
}

// ---------------------------------------------------------------- showing the state
function setStatus(text) {
  const box = $("pay-status");
  if (box.textContent !== text) box.textContent = text; // announced once per change (aria-live)
}
function showError(text) {
  const box = $("pay-error");
  box.textContent = text || "";
  box.hidden = !text;
}
function statusText() {
  if (!payment) return t("st_none");
  if (payment.provisional && payment.provisional.state === "provisional") {
    return t("st_provisional", { ref: payment.provisional.bank_reference });
  }
  if (isSettled(payment) || payment.status === "canceled") return t("st_" + payment.status);
  if (payment.status !== "awaiting") return t("st_" + payment.status);
  const method = chosen || payment.method;
  return chosen || payment.method === "vietqr" ? t("st_awaiting_" + method) : t("st_none");
}
function render(before) {
  const settled = isSettled(payment);
  $("pay-choose").hidden = settled;
  $("pay-done").hidden = !settled;
  $("pay-card").hidden = settled || chosen !== "card";
  $("pay-qr").hidden = settled || chosen !== "vietqr";
  $("pay-cash").hidden = settled || chosen !== "cash";
  document.querySelectorAll(".pay-method").forEach((button) => {
    button.setAttribute("aria-pressed", String(button.dataset.method === chosen));
    button.disabled = busy;
  });
  document.querySelectorAll(".pay-go").forEach((button) => { button.disabled = busy; });
  const action = payment && payment.status === "requires_action" ? safeUrl(payment.next_action_url) : null;
  $("pay-3ds").hidden = !(chosen === "card" && action);
  if (action) $("pay-3ds-link").href = action;
  if (chosen === "vietqr" && payment && payment.method === "vietqr" && payment.vietqr) showQr(payment);
  if (settled) {
    showDone(payment);
    if (before !== payment.status) { showError(""); $("pay-done-title").focus(); }
  }
  setStatus(statusText());
  schedulePoll();
}
function showDone(p) {
  $("pay-done-title").textContent = t("st_" + p.status);
  let meta = t("paid_by", { amount: money.format(p.amount_vnd), method: t("m_" + p.method) });
  if (p.paid_at) meta += " " + t("paid_at", { when: when.format(new Date(p.paid_at)) });
  $("pay-done-meta").textContent = meta;
  const list = $("pay-receipts");
  list.textContent = "";
  (p.receipts || []).forEach((r) => {
    // The state fee receipt and the service invoice are two documents; "combined": a receipt of before the split.
    const key = r.document && r.document !== "combined"
      ? r.document + (r.kind === "refund" ? "_refund" : "")
      : (r.kind === "refund" ? "refund_receipt" : "e_receipt");
    const label = t(key, { series: r.series, number: r.number });
    const page = safeUrl(r.url);
    const pdf = safeUrl(r.pdf_url);
    list.appendChild(el("li", {}, [
      page ? el("a", { href: page, className: "pay-receipt", text: label }) : label,
      pdf ? el("a", { href: pdf, className: "pay-pdf", text: t("pdf") }) : null,
    ]));
  });
}

function showQr(p) {
  const qr = p.vietqr;
  if (shownQr === qr.payload) return;
  const box = $("pay-qr-svg");
  box.textContent = "";
  const svg = importSvg(qr.svg);
  if (svg) box.appendChild(svg);
  $("pay-qr-bank").textContent = (BANKS[qr.bank_bin] ? BANKS[qr.bank_bin] + " · " : "") + "BIN " + qr.bank_bin;
  $("pay-qr-account").textContent = qr.account_number;
  $("pay-qr-name").textContent = qr.account_name;
  $("pay-qr-amount").textContent = money.format(p.amount_vnd);
  $("pay-qr-reference").textContent = qr.reference;
  shownQr = qr.payload;
}

// ---------------------------------------------------------------- polling
function shouldPoll() {
  if (!payment || !isOpen(payment)) return false;
  return payment.status !== "awaiting" || payment.method === "vietqr";
}
function schedulePoll(now) {
  clearTimeout(pollTimer);
  pollTimer = null;
  if (!shouldPoll()) { pollSince = 0; return; }
  if (document.hidden) return; // resumed by visibilitychange
  if (!pollSince) pollSince = Date.now();
  const delay = now ? 0 : (Date.now() - pollSince > POLL_FAST_FOR_MS ? POLL_SLOW_MS : POLL_FAST_MS);
  pollTimer = setTimeout(poll, delay);
}
async function poll() {
  pollTimer = null;
  if (busy) { schedulePoll(); return; }
  const asked = version;
  const result = await call("GET", CFG.urls.payment + "?refresh=true");
  if (asked !== version || busy) return; // the agent changed something meanwhile; that answer wins
  if (result.ok && result.body && result.body.status) {
    const before = payment ? payment.status : null;
    payment = result.body;
    if (isSettled(payment)) chosen = null;
    render(before);
    if (returning === "failed" && payment.status === "awaiting") showError(t("three_ds_failed"));
    returning = null;
  } else {
    schedulePoll();
  }
}
document.addEventListener("visibilitychange", () => {
  if (document.hidden) { clearTimeout(pollTimer); pollTimer = null; } else schedulePoll(true);
});

// ---------------------------------------------------------------- the agent's actions
function begin() {
  version++;
  busy = true;
  showError("");
  clearTimeout(pollTimer);
  pollTimer = null;
  pollSince = 0;
  render();
}
function end() {
  busy = false;
  render();
}
function focusPanel(id) {
  const heading = $(id).querySelector("h2");
  if (heading) heading.focus();
}
async function choose(method) {
  if (busy || isSettled(payment)) return;
  showError("");
  chosen = method;
  if (method === "vietqr" && !(payment && payment.method === "vietqr" && isOpen(payment) && payment.vietqr)) {
    begin();
    setStatus(t("preparing"));
    const result = await withRetries(() => call("POST", CFG.urls.payment, { method: "vietqr" }));
    end();
    if (!accept(result)) { chosen = null; render(); return; }
  } else {
    render();
  }
  if (!isSettled(payment)) focusPanel({ card: "pay-card", vietqr: "pay-qr", cash: "pay-cash" }[method]);
}
function returnUrl() {
  return window.location.origin + window.location.pathname;
}
async function payByCard(paymentMethod) {
  if (busy) return;
  begin();
  try {
    if (!payment || payment.method !== "card" || !isOpen(payment)) {
      setStatus(t("preparing"));
      if (!accept(await withRetries(() => call("POST", CFG.urls.payment, { method: "card" }))) || isSettled(payment)) return;
    }
    let attempt = readAttempt();
    if (!attempt || attempt.pm !== paymentMethod) {
      attempt = { key: uuid(), pm: paymentMethod };
      writeAttempt(attempt); // kept before the first request: a retry after a lost answer reuses it
    }
    setStatus(t("paying"));
    const result = await withRetries(() => call("POST", CFG.urls.card, { payment_method: paymentMethod,
      attempt_key: attempt.key, return_url: returnUrl() }));
    if (result.network || result.status >= 500) { showError(errorText(result)); return; } // same attempt next time
    writeAttempt(null); // answered: the next tap is a new attempt
    if (result.status === 402) { showError(errorText(result)); return; }
    if (!accept(result)) return;
    const action = payment.status === "requires_action" ? safeUrl(payment.next_action_url) : null;
    if (action) {
      setStatus(t("to_3ds"));
      window.location.assign(action); // the citizen completes it here; the gateway returns to this page
    }
  } finally {
    end();
  }
}
async function payInCash() {
  if (busy) return;
  begin();
  setStatus(t("recording_cash"));
  const result = await withRetries(() => call("POST", CFG.urls.cash));
  end();
  accept(result);
}

document.querySelectorAll(".pay-method").forEach((button) => {
  button.addEventListener("click", () => choose(button.dataset.method));
});
const cardForm = $("pay-card-form");
if (cardForm) {
  cardForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const picked = cardForm.querySelector("input[name=payment_method]:checked");
    if (picked) payByCard(picked.value);
  });
}
$("pay-cash-yes").addEventListener("click", payInCash);
$("pay-cash-no").addEventListener("click", () => {
  chosen = null;
  render();
  const first = document.querySelector(".pay-method");
  if (first) first.focus();
});

// ---------------------------------------------------------------- VietQR: the bank's confirmation shown
// Provisional only (the server books nothing); the statement import confirms it, and polling shows it.
const shownForm = $("pay-qr-shown-form");
if (shownForm) {
  shownForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reference = shownForm.elements.bank_reference.value.trim();
    if (reference.length < 4) { showError(t("bankref_short")); shownForm.elements.bank_reference.focus(); return; }
    if (busy) return;
    begin();
    const result = await withRetries(() => call("POST", CFG.urls.provisional, { bank_reference: reference }));
    end();
    accept(result);
  });
}

// ---------------------------------------------------------------- start
const query = new URLSearchParams(window.location.search);
const back = query.get("redirect_status"); // back from 3-D Secure
if (back) {
  query.delete("payment_intent");
  query.delete("payment_intent_client_secret");
  query.delete("redirect_status");
  const rest = query.toString();
  history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
}
if (isOpen(payment)) chosen = payment.method;
render();
if (back && isOpen(payment)) {
  returning = back;
  setStatus(t("checking"));
  schedulePoll(true);
}
