// New-dossier flow of the agents' tablet portal: procedure, citizen, location and routing,
// documents, delivery, confirm. Hand-written ES2017, no framework, no build step.
//
// Nothing is lost: the draft (step and every value) lives in localStorage under
// "draft:<email>", the photos in IndexedDB. Registering uses one Idempotency-Key per draft,
// stored before the first attempt; a dossier that cannot be sent waits in an outbox
// ("queue:<email>") and goes out, with the same key, when the link returns, so the server
// registers it exactly once however often it is sent. Text from the server or the user is
// always set with textContent.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const CFG = JSON.parse($("nd-config").textContent);
  const T = JSON.parse($("nd-i18n").textContent);
  const LANG = CFG.lang === "en" ? "en" : "vi";
  const LOCALE = LANG === "vi" ? "vi-VN" : "en-US";
  const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const DRAFT_KEY = "draft:" + CFG.user;
  const QUEUE_KEY = "queue:" + CFG.user;
  const CATALOGUE_KEY = "catalogue:v1";
  const LAST_STEP = 6;
  const PROVINCES = new Set(CFG.cccdProvinces);
  // libphonenumber's Vietnamese mobile numbers (national number, without the leading 0), as the server checks.
  const VN_MOBILE = /^(?:121[0-3]\d{5}|(?:1[46]0|(?:3\d|7[06-9])\d|5(?:[1689]\d|2[238]|59)|8(?:[1-8]\d|9[6-9])|9(?:[0-8]\d|9[013-9]))\d{6})$/;
  const VN_FIXED = /^2\d{9}$/;
  const HANOI_BOUNDS = [[20.56, 105.28], [21.39, 106.02]];
  const TIER_COLOURS = { branch: "#1a56db", district_point: "#c2410c", commune_point: "#7e3af2" };
  const TEXT_FIELDS = ["q", "full_name", "cccd", "phone", "email", "address", "geo_address", "choice_reason",
    "delivery_address"];
  const STEP_OF_FIELD = { procedure: 1, full_name: 2, cccd: 2, phone: 2, email: 2, address: 2, location: 3,
    point: 3, choice_reason: 3, delivery_address: 5, general: 6 };
  // Server field names (422 problem "errors[].field") → our fields.
  const SERVER_FIELDS = {
    procedure_code: "procedure", citizen: "full_name", "citizen.full_name": "full_name", "citizen.cccd": "cccd",
    "citizen.phone": "phone", "citizen.email": "email", "citizen.address": "address", location: "location",
    "location.lat": "location", "location.lon": "location", "location.source": "location",
    service_point_code: "point", choice_reason: "choice_reason", delivery: "delivery_address",
    "delivery.address": "delivery_address", "delivery.method": "delivery_address",
  };

  const form = $("nd-form");
  const money = new Intl.NumberFormat(LOCALE, { style: "currency", currency: "VND" });
  const dec1 = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
  const dec5 = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 5 });
  const whole = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
  const deadlineFormat = new Intl.DateTimeFormat(LOCALE, {
    timeZone: "Asia/Ho_Chi_Minh", weekday: "long", day: "numeric", month: "long", year: "numeric",
    hour: "2-digit", minute: "2-digit",
  });

  // ---------------------------------------------------------------- small helpers
  function t(key, vars) {
    let text = T[key] === undefined ? key : T[key];
    if (vars) Object.keys(vars).forEach((k) => { text = text.split("{" + k + "}").join(String(vars[k])); });
    return text;
  }
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach((k) => {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach((c) => c && node.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
    return node;
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  function readJson(key) {
    try { return JSON.parse(localStorage.getItem(key)); } catch (e) { return null; }
  }
  function writeJson(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs HTTPS; this does not
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }
  const digits = (v) => String(v || "").replace(/\s+/g, "");
  const mask = (v) => (v && v.length > 6 ? v.slice(0, 3) + "*".repeat(v.length - 6) + v.slice(-3) : v || "—");
  function bytes(n) {
    return n >= 1048576 ? dec1.format(n / 1048576) + " MB" : whole.format(Math.max(1, n / 1024)) + " KB";
  }
  // Python's round() (half to even), so the minutes match the server's explanation.
  function roundEven(x) {
    const r = Math.round(x);
    return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }
  const PLURAL = new Intl.PluralRules(LANG);  // CLDR's rules, as Babel's on the server
  function days(n) { return t(PLURAL.select(n) === "one" ? "days_one" : "days_other", { n: n }); }
  function procName(p) { return LANG === "en" && p.name_en ? p.name_en : p.name; }
  function problemText(problem, status) {
    if (!problem) return "HTTP " + status;
    return problem["detail_" + LANG] || problem["title_" + LANG] || problem.detail || problem.title || "HTTP " + status;
  }
  async function getJson(url, signal) {
    const response = await fetch(url, { signal: signal, credentials: "same-origin", headers: { Accept: "application/json" } });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    return { status: response.status, ok: response.ok, body: body };
  }

  // ---------------------------------------------------------------- the draft
  function emptyDraft() {
    return { v: 1, step: 1, procedure: null, docs: [], fields: { delivery: "collect" }, location: null,
      routing: null, files: [], idemKey: null };
  }
  let draft = readJson(DRAFT_KEY);
  if (!draft || draft.v !== 1) draft = emptyDraft();
  function save() {
    draft.savedAt = Date.now();
    writeJson(DRAFT_KEY, draft);
  }
  function isBlank() {
    const f = draft.fields;
    return !draft.procedure && !draft.location && !draft.files.length &&
      !["full_name", "cccd", "phone", "email", "address", "delivery_address"].some((k) => (f[k] || "").trim());
  }
  function fieldValue(name) { return (draft.fields[name] || "").trim(); }

  function fillForm() {
    TEXT_FIELDS.forEach((name) => { form.elements[name].value = draft.fields[name] || ""; });
    form.elements.delivery.value = draft.fields.delivery || "collect";
    renderProcedure();
    renderLocation();
    renderRouting();
    renderFiles();
    renderDelivery();
  }

  form.addEventListener("input", onEdit);
  form.addEventListener("change", onEdit);
  function onEdit(event) {
    const target = event.target;
    const name = target.name;
    if (!name) return;
    if (target.type === "checkbox" && name === "doc") {
      draft.docs = Array.from(form.querySelectorAll('input[name="doc"]:checked'), (c) => Number(c.value));
    } else if (name === "point") {
      draft.fields.point = form.elements.point.value;
      renderChoice();
    } else if (name === "delivery") {
      draft.fields.delivery = form.elements.delivery.value;
      renderDelivery();
    } else if (name.startsWith("kind-")) {
      const file = draft.files.find((f) => "kind-" + f.id === name);
      if (file) file.kind = target.value;
    } else if (TEXT_FIELDS.indexOf(name) >= 0) {
      draft.fields[name] = target.value;
      const error = $("err-" + name);
      if (error && !error.hidden) validateField(name);
    }
    save();
  }
  form.addEventListener("focusout", (event) => {
    const name = event.target.name;
    if (VALIDATORS[name] && (fieldValue(name) || event.target.required)) validateField(name);
  });

  // ---------------------------------------------------------------- validation (the server's rules)
  function phoneError(raw) {
    let v = String(raw || "").replace(/[\s.\-()]/g, "");
    if (!v) return t("required");
    if (v.startsWith("+84")) v = v.slice(3);
    else if (v.startsWith("0084")) v = v.slice(4);
    else if (v.startsWith("84") && v.length === 11) v = v.slice(2);
    else if (v.startsWith("0")) v = v.slice(1);
    if (!/^\d+$/.test(v)) return t("phone_invalid");
    if (VN_MOBILE.test(v)) return "";
    return VN_FIXED.test(v) ? t("phone_mobile") : t("phone_invalid");
  }
  const VALIDATORS = {
    procedure: () => (draft.procedure ? "" : t("procedure_required")),
    full_name: () => (fieldValue("full_name") ? "" : t("required")),
    cccd: () => {
      const v = digits(draft.fields.cccd);
      if (!v) return t("required");
      if (!/^\d{12}$/.test(v)) return t("cccd_digits");
      return PROVINCES.has(v.slice(0, 3)) ? "" : t("cccd_province");
    },
    phone: () => phoneError(draft.fields.phone),
    email: () => {
      const v = fieldValue("email");
      return !v || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? "" : t("email_invalid");
    },
    address: () => "",
    location: () => (draft.location || fieldValue("address") ? "" : t("location_required")),
    choice_reason: () => (draft.fields.point && !fieldValue("choice_reason") ? t("reason_required") : ""),
    delivery_address: () =>
      (draft.fields.delivery === "courier" && !fieldValue("delivery_address") ? t("courier_address") : ""),
  };
  const STEP_FIELDS = { 1: ["procedure"], 2: ["full_name", "cccd", "phone", "email"], 3: ["location", "choice_reason"],
    4: [], 5: ["delivery_address"], 6: [] };

  function setError(name, message) {
    const box = $("err-" + name);
    if (box) { box.textContent = message || ""; box.hidden = !message; }
    const input = form.elements[name];
    if (input && input.setAttribute) {
      input.setAttribute("aria-invalid", message ? "true" : "false");
      const field = input.closest(".field");
      if (field) field.classList.toggle("invalid", Boolean(message));
    }
  }
  function validateField(name) {
    const message = VALIDATORS[name] ? VALIDATORS[name]() : "";
    setError(name, message);
    return message;
  }
  function validateStep(step) {
    let first = null;
    STEP_FIELDS[step].forEach((name) => { if (validateField(name) && !first) first = name; });
    return first;
  }
  function focusField(name) {
    const input = form.elements[name];
    const target = input && input.focus ? input : $("err-" + name);
    if (target) {
      if (!input) target.setAttribute("tabindex", "-1");
      target.focus();
      target.scrollIntoView({ block: "center" });
    }
  }

  // ---------------------------------------------------------------- steps
  const sections = Array.from(form.querySelectorAll(".step"));
  const stepButtons = Array.from(document.querySelectorAll("#nd-steps [data-goto]"));
  function show(step, focusHeading) {
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
      const heading = $("nd-h" + step);
      heading.focus({ preventScroll: true });
      window.scrollTo(0, Math.max(0, $("nd-steps").getBoundingClientRect().top + window.scrollY - 8));
    }
  }
  function goTo(step) {
    for (let s = draft.step; s < step; s++) {
      const bad = validateStep(s);
      if (bad) { show(s, true); focusField(bad); return; }
    }
    show(step, true);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (document.activeElement === form.elements.q) { search(true); return; }
    if (document.activeElement === form.elements.geo_address) { locateAddress(); return; }
    if (draft.step < LAST_STEP) goTo(draft.step + 1); else submit();
  });
  $("nd-back").addEventListener("click", () => show(Math.max(1, draft.step - 1), true));
  stepButtons.forEach((b) => b.addEventListener("click", () => {
    const n = Number(b.dataset.goto);
    if (n < draft.step) show(n, true); else goTo(n);
  }));

  // ---------------------------------------------------------------- 1. procedure
  let searchTimer = null;
  let searchAbort = null;
  const results = $("nd-results");
  form.elements.q.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 200);
  });
  function searchStatus(text) { $("nd-search-status").textContent = text || ""; }
  async function search(now) {
    clearTimeout(searchTimer);
    const text = form.elements.q.value.trim();
    if (searchAbort) searchAbort.abort();
    if (text.length < 2) { results.textContent = ""; searchStatus(now ? t("type_more") : ""); return; }
    searchAbort = new AbortController();
    searchStatus(t("searching"));
    try {
      const r = await getJson(CFG.urls.procedures + "?limit=8&q=" + encodeURIComponent(text), searchAbort.signal);
      if (!r.ok) throw new Error("HTTP " + r.status);
      renderResults(r.body, "");
    } catch (e) {
      if (e.name === "AbortError") return;
      const saved = offlineSearch(text);
      renderResults(saved, saved === null ? t("search_failed") : t("offline_search"));
    }
  }
  function offlineSearch(text) {
    const cache = readJson(CATALOGUE_KEY);
    if (!cache || !cache.items) return null;
    const words = fold(text).split(/\s+/).filter(Boolean);
    return cache.items.filter((p) => {
      const hay = fold(p.name + " " + (p.name_en || "") + " " + p.code + " " + p.sector);
      return words.every((w) => hay.indexOf(w) >= 0);
    }).slice(0, 8);
  }
  async function refreshCatalogue() {
    const cache = readJson(CATALOGUE_KEY);
    if (cache && Date.now() - cache.at < 12 * 3600 * 1000) return;
    try {
      const r = await getJson(CFG.urls.procedures + "?limit=100");
      if (r.ok) writeJson(CATALOGUE_KEY, { at: Date.now(), items: r.body.map(slimProcedure) });
    } catch (e) { /* offline: keep the old copy */ }
  }
  function slimProcedure(p) {
    return { code: p.code, name: p.name, name_en: p.name_en, level: p.level, sector: p.sector, fee_vnd: p.fee_vnd,
      fee_note: p.fee_note, processing_days: p.processing_days, required_documents: p.required_documents || [] };
  }
  function procedureMeta(p) {
    return [t("level_" + p.level), t("fee") + ": " + money.format(p.fee_vnd), days(p.processing_days)].join(" · ");
  }
  function renderResults(list, note) {
    results.textContent = "";
    searchStatus(note || (list && !list.length ? t("no_match") : ""));
    (list || []).forEach((p) => {
      const pick = () => pickProcedure(p);
      results.appendChild(el("li", {}, [el("button", { type: "button", className: "result", onclick: pick }, [
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
    results.textContent = "";
    searchStatus("");
    save();
    renderProcedure();
    setError("procedure", "");
    $("nd-proc").scrollIntoView({ block: "nearest" });
  }
  function renderProcedure() {
    const p = draft.procedure;
    $("nd-proc").hidden = !p;
    const box = $("nd-docs");
    box.textContent = "";
    if (!p) return;
    $("nd-proc-name").textContent = procName(p);
    $("nd-proc-meta").textContent = procedureMeta(p) + (p.fee_note ? " (" + p.fee_note + ")" : "");
    p.required_documents.forEach((doc, i) => {
      box.appendChild(el("label", { className: "check" }, [
        el("input", { type: "checkbox", name: "doc", value: String(i), checked: draft.docs.indexOf(i) >= 0 }),
        el("span", { text: doc }),
      ]));
    });
  }

  // ---------------------------------------------------------------- 3. location and routing
  let map = null;
  let pin = null;
  let chosenRing = null;
  let pointsByCode = {};
  function locStatus(text, bad) {
    const box = $("nd-loc");
    box.textContent = text || "";
    box.className = bad ? "located warn" : "located";
  }
  function pressed(id) {
    ["nd-gps", "nd-by-address", "nd-by-pin"].forEach((b) => $(b).setAttribute("aria-pressed", String(b === id)));
  }
  function enterLocation() {
    if (!fieldValue("geo_address") && fieldValue("address")) {
      draft.fields.geo_address = draft.fields.address;
      form.elements.geo_address.value = draft.fields.address;
    }
    if (draft.location) route();
    if (map) setTimeout(() => map.invalidateSize(), 0);
  }
  function setLocation(loc) {
    loc.lat = Math.round(loc.lat * 1e6) / 1e6;
    loc.lon = Math.round(loc.lon * 1e6) / 1e6;
    draft.location = loc;
    save();
    setError("location", "");
    renderLocation();
    placePin();
    route();
  }
  function renderLocation() {
    const loc = draft.location;
    if (!loc) { locStatus(""); return; }
    pressed({ gps: "nd-gps", address: "nd-by-address", pin: "nd-by-pin" }[loc.source]);
    if (loc.source === "address") {
      $("nd-addr-box").hidden = false;
      locStatus(t("loc_address", { label: loc.label }) + (loc.approximate ? " — " + t("loc_approximate") : ""));
    } else if (loc.source === "gps") {
      locStatus(t("loc_gps", { lat: dec5.format(loc.lat), lon: dec5.format(loc.lon), acc: whole.format(loc.accuracy || 0) }));
    } else {
      locStatus(t("loc_pin", { lat: dec5.format(loc.lat), lon: dec5.format(loc.lon) }));
    }
  }
  $("nd-gps").addEventListener("click", () => {
    pressed("nd-gps");
    if (!navigator.geolocation) { locStatus(t("gps_unavailable"), true); return; }
    locStatus(t("gps_locating"));
    navigator.geolocation.getCurrentPosition(
      (pos) => setLocation({ lat: pos.coords.latitude, lon: pos.coords.longitude, source: "gps",
        accuracy: Math.round(pos.coords.accuracy || 0) }),
      (err) => locStatus(err.code === 1 ? t("gps_denied") : err.code === 3 ? t("gps_timeout") : t("gps_unavailable"), true),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
  $("nd-by-address").addEventListener("click", () => {
    pressed("nd-by-address");
    $("nd-addr-box").hidden = false;
    if (fieldValue("geo_address")) locateAddress(); else form.elements.geo_address.focus();
  });
  $("nd-geo-go").addEventListener("click", locateAddress);
  async function locateAddress() {
    const text = fieldValue("geo_address");
    if (text.length < 3) { locStatus(t("geo_short"), true); form.elements.geo_address.focus(); return; }
    locStatus(t("geo_locating"));
    try {
      const r = await getJson(CFG.urls.geocode + "?address=" + encodeURIComponent(text));
      if (r.status === 422) { locStatus(t("geo_not_found"), true); return; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      setLocation({ lat: r.body.lat, lon: r.body.lon, source: "address", label: r.body.label,
        approximate: Boolean(r.body.approximate) });
    } catch (e) {
      locStatus(t("geo_offline"), true);
      if (!fieldValue("address")) { draft.fields.address = text; form.elements.address.value = text; save(); }
    }
  }
  $("nd-by-pin").addEventListener("click", openMap);

  function loadAsset(tag, attrs) {
    return new Promise((resolve, reject) => {
      const node = el(tag, attrs);
      node.onload = resolve;
      node.onerror = reject;
      document.head.appendChild(node);
    });
  }
  let leaflet = null;
  function loadLeaflet() {
    if (!leaflet) {
      leaflet = Promise.all([
        loadAsset("link", { rel: "stylesheet", href: CFG.urls.leafletCss }),
        loadAsset("script", { src: CFG.urls.leafletJs }),
      ]).catch((e) => { leaflet = null; throw e; });
    }
    return leaflet;
  }
  async function openMap() {
    pressed("nd-by-pin");
    $("nd-map-box").hidden = false;
    if (map) { map.invalidateSize(); return; }
    locStatus(t("map_loading"));
    try { await loadLeaflet(); } catch (e) { locStatus(t("map_failed"), true); return; }
    if (map) return;
    map = L.map("nd-map", { preferCanvas: true, zoomSnap: 0.5 });
    if (CFG.tileUrl) L.tileLayer(CFG.tileUrl, { maxZoom: 19, attribution: CFG.tileAttribution }).addTo(map);
    map.fitBounds(HANOI_BOUNDS);
    map.on("click", (e) => setLocation({ lat: e.latlng.lat, lon: e.latlng.lng, source: "pin" }));
    renderLocation();
    placePin();
    getJson(CFG.urls.outline).then((r) => {
      if (r.ok) {
        L.geoJSON(r.body, { interactive: false, style: { color: "#52606d", weight: 2, fillColor: "#ffffff", fillOpacity: 0.7 } })
          .addTo(map).bringToBack();
      }
    }).catch(() => {});
    getJson(CFG.urls.servicePoints).then((r) => {
      if (!r.ok) return;
      r.body.forEach((p) => {
        pointsByCode[p.code] = p;
        L.circleMarker([p.lat, p.lon], { radius: p.tier === "branch" ? 7 : 5, color: "#fff", weight: 1,
          fillColor: TIER_COLOURS[p.tier] || "#333", fillOpacity: 0.9 }).bindTooltip(p.name).addTo(map);
      });
      highlightChosen();
    }).catch(() => {});
  }
  function placePin() {
    if (!map) return;
    const loc = draft.location;
    if (!loc) return;
    if (!pin) {
      pin = L.marker([loc.lat, loc.lon], { draggable: true, autoPan: true }).addTo(map);
      pin.on("dragend", () => {
        const at = pin.getLatLng();
        setLocation({ lat: at.lat, lon: at.lng, source: "pin" });
      });
    } else {
      pin.setLatLng([loc.lat, loc.lon]);
    }
    if (loc.source !== "pin") map.setView([loc.lat, loc.lon], 14);
  }
  function highlightChosen() {
    if (!map || !draft.routing || !draft.routing.chosen) return;
    const code = draft.fields.point || draft.routing.chosen.service_point_code;
    const p = pointsByCode[code];
    if (!p) return;
    if (chosenRing) chosenRing.setLatLng([p.lat, p.lon]);
    else chosenRing = L.circleMarker([p.lat, p.lon], { radius: 13, color: "#0b5394", weight: 4, fill: false }).addTo(map);
  }

  let routeAbort = null;
  function routeStatus(text, bad) {
    const box = $("nd-route-status");
    box.textContent = text || "";
    box.className = bad ? "warn" : "hint";
  }
  async function route() {
    const p = draft.procedure;
    const loc = draft.location;
    if (!p || !loc) { renderRouting(); return; }
    const key = p.code + "@" + loc.lat + "," + loc.lon;
    if (draft.routing && draft.routing.key === key) { renderRouting(); return; }
    if (routeAbort) routeAbort.abort();
    routeAbort = new AbortController();
    draft.routing = null;
    renderRouting();
    routeStatus(t("routing"));
    try {
      const r = await getJson(CFG.urls.routing + "?lat=" + loc.lat + "&lon=" + loc.lon + "&procedure=" +
        encodeURIComponent(p.code), routeAbort.signal);
      if (!r.ok) {
        const bad = r.body && r.body.errors && r.body.errors[0];
        const message = bad ? bad["message_" + LANG] : problemText(r.body, r.status);
        if (r.status === 422) setError("location", message);
        routeStatus(t("routing_failed", { msg: message }), true);
        return;
      }
      const d = r.body;
      draft.routing = { key: key, chosen: d.chosen, alternatives: (d.alternatives || []).slice(0, 3),
        explanation_vi: d.explanation_vi, explanation_en: d.explanation_en, outside: d.outside_service_radius };
      if (draft.fields.point && !draft.routing.alternatives.some((a) => a.service_point_code === draft.fields.point)) {
        draft.fields.point = "";
      }
      save();
      routeStatus("");
      renderRouting();
    } catch (e) {
      if (e.name !== "AbortError") routeStatus(t("routing_offline"));
    }
  }
  function optionMeta(o) {
    return t("tier_" + o.tier) + " · " + t("km_min", { km: dec1.format(o.distance_km), min: roundEven(o.travel_minutes) });
  }
  function renderRouting() {
    const r = draft.routing;
    $("nd-route").hidden = !r || !r.chosen;
    if (!r || !r.chosen) return;
    $("nd-route-name").textContent = r.chosen.service_point_name + " (" + r.chosen.service_point_code + ")";
    $("nd-route-meta").textContent = t("tier_" + r.chosen.tier);
    const why = $("nd-route-why");
    why.textContent = r["explanation_" + LANG] || r.explanation_vi;
    if (r.outside) why.appendChild(el("span", { className: "warn", text: " " + t("outside") }));
    const list = $("nd-alt-list");
    list.textContent = "";
    $("nd-alts").hidden = !r.alternatives.length;
    const current = draft.fields.point || "";
    const option = (value, title, meta) => el("label", { className: "choice" }, [
      el("input", { type: "radio", name: "point", value: value, checked: current === value }),
      el("span", {}, [title, meta ? el("small", { text: meta }) : null]),
    ]);
    list.appendChild(option("", t("keep_router"), null));
    r.alternatives.forEach((a) => list.appendChild(
      option(a.service_point_code, a.service_point_name + " (" + a.service_point_code + ")", optionMeta(a))));
    renderChoice();
  }
  function renderChoice() {
    const chosenOther = Boolean(draft.fields.point);
    $("nd-reason-box").hidden = !chosenOther;
    if (!chosenOther) setError("choice_reason", "");
    setError("point", "");
    highlightChosen();
  }

  // ---------------------------------------------------------------- 4. documents
  // Files live in IndexedDB (blobs survive a reload and wait there for the outbox); a Map
  // stands in when IndexedDB is unavailable (private mode), and the page says so.
  const memoryFiles = new Map();
  const thumbs = new Map();
  let database = null;
  function openDb() {
    if (!database) {
      database = new Promise((resolve) => {
        try {
          const request = indexedDB.open("new-dossier-files", 1);
          request.onupgradeneeded = () => request.result.createObjectStore("files", { keyPath: "id" });
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => resolve(null);
        } catch (e) { resolve(null); }
      });
    }
    return database;
  }
  async function store(mode, action) {
    const db = await openDb();
    if (!db) throw new Error("IndexedDB is not available");
    return new Promise((resolve, reject) => {
      const tx = db.transaction("files", mode);
      const request = action(tx.objectStore("files"));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }
  async function putFile(record) {
    memoryFiles.set(record.id, record);
    try { await store("readwrite", (s) => s.put(record)); memoryFiles.delete(record.id); } catch (e) { showFileError(t("no_storage")); }
  }
  async function getFile(id) {
    if (memoryFiles.has(id)) return memoryFiles.get(id);
    try { return await store("readonly", (s) => s.get(id)); } catch (e) { return undefined; }
  }
  async function deleteFile(id) {
    memoryFiles.delete(id);
    if (thumbs.has(id)) { URL.revokeObjectURL(thumbs.get(id)); thumbs.delete(id); }
    try { await store("readwrite", (s) => s.delete(id)); } catch (e) { /* already gone */ }
  }
  function showFileError(text) {
    const box = $("err-files");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function canvasBlob(canvas, type, quality) {
    return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
  }
  // Photos longer than maxImagePx are redrawn at that size as JPEG before they are kept.
  async function shrink(file) {
    const original = { blob: file, name: file.name || "photo" };
    if (!/^image\/(jpeg|png|webp|gif|bmp)$/.test(file.type) || !window.createImageBitmap) return original;
    let bitmap;
    try { bitmap = await createImageBitmap(file); } catch (e) { return original; }
    const long = Math.max(bitmap.width, bitmap.height);
    if (long <= CFG.maxImagePx) { bitmap.close(); return original; }
    const scale = CFG.maxImagePx / long;
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    const g = canvas.getContext("2d");
    g.fillStyle = "#fff"; // transparent PNG areas become white, not black
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.imageSmoothingQuality = "high";
    g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await canvasBlob(canvas, "image/jpeg", CFG.jpegQuality);
    if (!blob) return original;
    return { blob: blob, name: original.name.replace(/\.[^.]+$/, "") + ".jpg" };
  }
  async function addFiles(input) {
    const list = Array.from(input.files || []);
    input.value = "";
    showFileError("");
    for (const file of list) {
      const meta = { id: uuid(), name: file.name, type: file.type, size: file.size, origSize: file.size,
        kind: defaultKind(), shrinking: true };
      draft.files.push(meta);
      renderFiles();
      const out = await shrink(file).catch(() => ({ blob: file, name: file.name }));
      if (out.blob.size > CFG.maxBytes) {
        draft.files = draft.files.filter((f) => f.id !== meta.id);
        showFileError(t("too_large", { name: file.name, mb: Math.floor(CFG.maxBytes / 1048576) }));
        renderFiles();
        continue;
      }
      meta.name = out.name;
      meta.type = out.blob.type || file.type;
      meta.size = out.blob.size;
      delete meta.shrinking;
      await putFile({ id: meta.id, owner: CFG.user, blob: out.blob });
      save();
      renderFiles();
    }
  }
  $("nd-camera").addEventListener("change", (e) => addFiles(e.target));
  $("nd-pick").addEventListener("change", (e) => addFiles(e.target));
  function kinds() {
    const docs = draft.procedure ? draft.procedure.required_documents : [];
    return docs.map((d) => [d.slice(0, 64), d]).concat([["other", t("kind_other")]]);
  }
  function defaultKind() {
    const docs = draft.procedure ? draft.procedure.required_documents : [];
    const used = draft.files.map((f) => f.kind);
    const next = docs.find((d) => used.indexOf(d.slice(0, 64)) < 0);
    return next ? next.slice(0, 64) : "other";
  }
  async function thumbnail(meta, box) {
    if (!/^image\/(jpeg|png|webp|gif)$/.test(meta.type)) {
      box.textContent = meta.type === "application/pdf" ? "PDF" : (meta.name.split(".").pop() || "?").toUpperCase();
      return;
    }
    let url = thumbs.get(meta.id);
    if (!url) {
      const record = await getFile(meta.id);
      if (!record) return;
      url = URL.createObjectURL(record.blob);
      thumbs.set(meta.id, url);
    }
    box.replaceWith(el("img", { className: "thumb", src: url, alt: "" }));
  }
  function renderFiles() {
    const list = $("nd-files");
    list.textContent = "";
    draft.files.forEach((meta) => {
      const box = el("div", { className: "thumb", "aria-hidden": "true" });
      const select = el("select", { name: "kind-" + meta.id, "aria-label": t("kind") + ": " + meta.name },
        kinds().map((k) => el("option", { value: k[0], text: k[1], selected: k[0] === meta.kind })));
      const size = meta.shrinking ? t("shrinking")
        : meta.origSize > meta.size ? bytes(meta.origSize) + " → " + bytes(meta.size) : bytes(meta.size);
      list.appendChild(el("li", { className: "file" }, [
        box,
        el("div", {}, [el("div", { className: "name", text: meta.name }), el("div", { className: "size", text: size })]),
        el("div", { className: "tools" }, [select, el("button", { type: "button", className: "secondary",
          text: t("remove"), "aria-label": t("remove") + ": " + meta.name, onclick: () => removeFile(meta.id) })]),
      ]));
      if (!meta.shrinking) thumbnail(meta, box);
    });
  }
  function removeFile(id) {
    draft.files = draft.files.filter((f) => f.id !== id);
    save();
    deleteFile(id);
    renderFiles();
  }

  // ---------------------------------------------------------------- 5. delivery
  function renderDelivery() {
    const courier = draft.fields.delivery === "courier";
    $("nd-courier-box").hidden = !courier;
    if (courier && !fieldValue("delivery_address") && fieldValue("address")) {
      draft.fields.delivery_address = draft.fields.address;
      form.elements.delivery_address.value = draft.fields.address;
      save();
    }
    if (!courier) setError("delivery_address", "");
  }
  $("nd-same-address").addEventListener("click", () => {
    draft.fields.delivery_address = draft.fields.address || "";
    form.elements.delivery_address.value = draft.fields.delivery_address;
    save();
    validateField("delivery_address");
  });

  // ---------------------------------------------------------------- 6. summary and submission
  function chosenOption() {
    const r = draft.routing;
    if (!r || !r.chosen) return null;
    return draft.fields.point ? r.alternatives.find((a) => a.service_point_code === draft.fields.point) || null : r.chosen;
  }
  function renderSummary() {
    const p = draft.procedure;
    const f = draft.fields;
    const loc = draft.location;
    const point = chosenOption();
    const rows = [];
    if (p) {
      rows.push([t("s_procedure"), procName(p) + " (" + p.code + ")"]);
      rows.push([t("s_fee"), money.format(p.fee_vnd)]);
      rows.push([t("s_time"), days(p.processing_days)]);
      rows.push([t("s_documents"), t("n_of_m", { n: draft.docs.length, m: p.required_documents.length })]);
    }
    rows.push([t("s_citizen"), fieldValue("full_name")]);
    rows.push([t("s_cccd"), mask(digits(f.cccd))]);
    rows.push([t("s_phone"), mask(digits(f.phone))]);
    if (fieldValue("email")) rows.push([t("s_email"), fieldValue("email")]);
    if (fieldValue("address")) rows.push([t("s_address"), fieldValue("address")]);
    rows.push([t("s_location"), loc ? $("nd-loc").textContent : t("s_by_address")]);
    rows.push([t("s_point"), point ? point.service_point_name + " (" + point.service_point_code + ")" : t("s_to_route")]);
    if (f.point) rows.push([t("s_reason"), fieldValue("choice_reason")]);
    rows.push([t("s_delivery"), f.delivery === "courier" ? t("courier_to", { address: fieldValue("delivery_address") }) : t("collect")]);
    rows.push([t("s_files"), String(draft.files.length)]);
    const dl = $("nd-summary");
    dl.textContent = "";
    rows.forEach((row) => dl.appendChild(el("div", {}, [el("dt", { text: row[0] }), el("dd", { text: row[1] || "—" })])));
  }
  function buildBody() {
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
      note: brought.length ? (t("note_documents") + ": " + brought.join("; ")).slice(0, 2000) : null,
    };
  }
  // One attempt. Resolves with {status, body, replayed}; rejects with {network: true} when no answer came.
  async function postDossier(item) {
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
  function submitStatus(text) { $("nd-submit-status").textContent = text || ""; }
  function generalError(text) {
    const box = $("err-general");
    box.textContent = text || "";
    box.hidden = !text;
  }
  let submitting = false;
  async function submit() {
    if (submitting) return;
    generalError("");
    for (let s = 1; s < LAST_STEP; s++) {
      const bad = validateStep(s);
      if (bad) { show(s, true); focusField(bad); return; }
    }
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
    if (result.status === 422 && result.body && result.body.errors && result.body.code !== "idempotency_key_reused") {
      showServerErrors(result.body.errors);
      return;
    }
    if (result.status === 401 || result.status === 400) { generalError(t("session")); return; }
    generalError(problemText(result.body, result.status));
  }
  function showServerErrors(errors) {
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

  // ---------------------------------------------------------------- result
  function clearDraft() {
    draft = emptyDraft();
    save();
    thumbs.forEach((url) => URL.revokeObjectURL(url));
    thumbs.clear();
    fillForm();
    TEXT_FIELDS.concat(["procedure", "location", "point", "general"]).forEach((n) => setError(n, ""));
    locStatus("");
    routeStatus("");
    submitStatus("");
    ["nd-gps", "nd-by-address", "nd-by-pin"].forEach((b) => $(b).removeAttribute("aria-pressed"));
    $("nd-addr-box").hidden = true;
    $("nd-map-box").hidden = true;
    if (pin) { pin.remove(); pin = null; }
    results.textContent = "";
  }
  function showPanel(id) {
    form.hidden = Boolean(id);
    $("nd-steps").hidden = Boolean(id);
    $("nd-done").hidden = id !== "nd-done";
    $("nd-queued").hidden = id !== "nd-queued";
    if (id) { const h = $(id).querySelector("h2"); h.focus(); window.scrollTo(0, 0); }
  }
  function toOutbox(item) {
    const queue = readQueue();
    if (!queue.some((q) => q.key === item.key)) queue.push(item);
    writeQueue(queue);
    clearDraft();
    showPanel("nd-queued");
    renderQueue();
  }
  const foreground = new Set();
  async function registered(item, dossier) {
    foreground.add(item.key);
    item.number = dossier.number;
    if (item.files.length) { const queue = readQueue(); queue.push(item); writeQueue(queue); }
    clearDraft();
    $("nd-done-number").textContent = dossier.number;
    $("nd-done-deadline").textContent = deadlineFormat.format(new Date(dossier.deadline_at));
    const point = dossier.service_point || {};
    $("nd-done-point").textContent = point.service_point_name ? point.service_point_name + " (" + point.service_point_code + ")" : "—";
    const receipt = CFG.urls.receipt.replace("{number}", encodeURIComponent(dossier.number));
    const pay = CFG.urls.pay.replace("{number}", encodeURIComponent(dossier.number));
    $("nd-receipt").href = receipt;
    $("nd-pay").href = pay;
    showPanel("nd-done");
    const ok = await uploadAll(item, true);
    foreground.delete(item.key);
    renderQueue();
    if (ok) { // on to the fees; the receipt link stays here and on the payment page
      $("nd-done-status").textContent = t("opening_payment");
      setTimeout(() => { if (!$("nd-done").hidden) window.location.assign(pay); }, CFG.receiptDelayMs);
    } else {
      $("nd-done-status").textContent = t("uploads_failed");
    }
  }
  document.querySelectorAll(".nd-again").forEach((b) => b.addEventListener("click", () => {
    $("nd-done-status").textContent = "";
    $("nd-uploads").textContent = "";
    showPanel(null);
    show(1, true);
  }));

  // ---------------------------------------------------------------- uploads
  function uploadOne(number, meta, blob, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", CFG.urls.documents.replace("{number}", encodeURIComponent(number)));
      xhr.setRequestHeader("X-CSRFToken", CSRF);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.timeout = 180000;
      xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status === 201) resolve(body);
        else reject({ network: xhr.status >= 500, status: xhr.status, message: problemText(body, xhr.status) });
      };
      xhr.onerror = xhr.ontimeout = xhr.onabort = () => reject({ network: true });
      const data = new FormData();
      data.append("kind", meta.kind || "other");
      data.append("file", blob, meta.name);
      xhr.send(data);
    });
  }
  async function sha256Hex(blob) {
    if (!window.crypto || !crypto.subtle) return null;
    const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
    return Array.from(new Uint8Array(digest), (x) => x.toString(16).padStart(2, "0")).join("");
  }
  // After an attempt whose answer was lost, the file may be on the server already: ask first.
  async function alreadyThere(number, blob) {
    try {
      const hex = await sha256Hex(blob);
      if (!hex) return false;
      const r = await getJson(CFG.urls.dossier.replace("{number}", encodeURIComponent(number)));
      return r.ok && (r.body.documents || []).some((d) => d.sha256 === hex);
    } catch (e) { return false; }
  }
  function updateItem(item) {
    const queue = readQueue();
    const i = queue.findIndex((q) => q.key === item.key);
    if (i >= 0) { queue[i] = item; writeQueue(queue); }
  }
  function uploadRow(meta) {
    const bar = el("progress", { max: "1", value: "0", "aria-label": meta.name });
    const state = el("div", { className: "state", text: t("pending") });
    const row = el("li", { className: "file" }, [
      el("div", { className: "thumb", "aria-hidden": "true", text: meta.type === "application/pdf" ? "PDF" : "" }),
      el("div", {}, [el("div", { className: "name", text: meta.name }), state]),
      el("div", { className: "tools" }, [bar]),
    ]);
    if (/^image\//.test(meta.type)) thumbnail(meta, row.firstChild);
    return { row: row, bar: bar, state: state };
  }
  // Sends the item's pending files; true when all are on the server. Foreground: progress rows.
  async function uploadAll(item, visible, only) {
    const list = $("nd-uploads");
    if (visible && !only) list.textContent = "";
    let allOk = true;
    for (const meta of item.files) {
      if (meta.state === "done") continue;
      if (only && meta.id !== only) { allOk = false; continue; }
      let ui = null;
      if (visible) {
        ui = uploadRow(meta);
        const old = list.querySelector('[data-id="' + meta.id + '"]');
        ui.row.dataset.id = meta.id;
        if (old) old.replaceWith(ui.row); else list.appendChild(ui.row);
        ui.state.textContent = t("uploading");
      }
      const record = await getFile(meta.id);
      let outcome;
      if (!record) {
        outcome = { state: "failed", error: t("no_storage") };
      } else if (meta.tries && await alreadyThere(item.number, record.blob)) {
        outcome = { state: "done" };
      } else {
        meta.tries = (meta.tries || 0) + 1;
        updateItem(item);
        try {
          await uploadOne(item.number, meta, record.blob, ui ? (f) => { ui.bar.value = f; } : null);
          outcome = { state: "done" };
        } catch (e) {
          outcome = e.network ? { state: "pending", error: t("upload_waiting") }
            : { state: "failed", error: e.message, permanent: true };
        }
      }
      meta.state = outcome.state;
      meta.error = outcome.error || null;
      updateItem(item);
      if (outcome.state === "done") {
        deleteFile(meta.id);
        if (ui) { ui.bar.value = 1; ui.state.textContent = t("uploaded"); ui.row.classList.add("ok"); }
      } else {
        allOk = false;
        if (ui) {
          ui.row.classList.add("bad");
          ui.state.textContent = outcome.state === "pending" ? t("upload_waiting") : t("upload_failed", { msg: outcome.error });
          ui.row.querySelector(".tools").appendChild(el("button", { type: "button", className: "secondary", text: t("retry"),
            onclick: () => retryUpload(item.key, meta.id) }));
        }
        if (outcome.state === "pending") break; // no connection: the rest waits too
      }
    }
    if (item.files.every((f) => f.state === "done")) removeFromQueue(item.key);
    return allOk && item.files.every((f) => f.state === "done");
  }
  async function retryUpload(key, id) {
    const item = readQueue().find((q) => q.key === key);
    if (!item || foreground.has(key)) return;
    foreground.add(key);
    item.files.forEach((f) => { if (f.id === id) f.state = "pending"; });
    const ok = await uploadAll(item, true, id);
    foreground.delete(key);
    renderQueue();
    if (ok || item.files.every((f) => f.state === "done")) {
      $("nd-done-status").textContent = t("opening_payment");
      setTimeout(() => window.location.assign($("nd-pay").href), CFG.receiptDelayMs);
    }
  }

  // ---------------------------------------------------------------- the outbox
  function readQueue() { return readJson(QUEUE_KEY) || []; }
  function writeQueue(queue) { writeJson(QUEUE_KEY, queue); }
  function removeFromQueue(key) { writeQueue(readQueue().filter((q) => q.key !== key)); }
  function withLock(name, action) {
    // Two tabs of the same agent never send the same item at once (the key would still save us).
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request(name, { ifAvailable: true }, (lock) => (lock ? action() : null));
    }
    return action();
  }
  function queueError(text) {
    const box = $("nd-queue-error");
    box.textContent = text || "";
    box.hidden = !text;
  }
  function renderQueue() {
    const queue = readQueue().filter((q) => !foreground.has(q.key));
    const waiting = queue.filter((q) => !q.number);
    $("nd-queue").hidden = !queue.length;
    $("nd-queue-title").textContent = t("queue_title", { n: waiting.length });
    const list = $("nd-queue-list");
    list.textContent = "";
    queue.forEach((q) => {
      let state;
      if (q.error) state = t("queue_rejected", { msg: q.error });
      else if (q.number) {
        const done = q.files.filter((f) => f.state === "done").length;
        state = t("queue_docs", { number: q.number, done: done, total: q.files.length });
      } else state = navigator.onLine ? t("sending") : t("queue_offline");
      const li = el("li", {}, [el("strong", { text: q.label }), el("span", { text: state })]);
      if (q.error) {
        li.appendChild(el("button", { type: "button", className: "secondary", text: t("edit"), onclick: () => editItem(q.key) }));
      }
      if (q.error || q.number) {
        li.appendChild(el("button", { type: "button", className: "secondary", text: t("discard_item"),
          onclick: () => discardItem(q.key) }));
      }
      list.appendChild(li);
    });
    $("nd-offline").hidden = navigator.onLine;
    $("nd-queue-send").disabled = !navigator.onLine;
  }
  function editItem(key) {
    const item = readQueue().find((q) => q.key === key);
    if (!item) return;
    if (!isBlank()) { queueError(t("edit_busy")); return; }
    removeFromQueue(key);
    draft = item.draft;
    save();
    fillForm();
    showPanel(null);
    renderQueue();
    if (item.errors) showServerErrors(item.errors); else show(LAST_STEP, true);
  }
  function discardItem(key) {
    const item = readQueue().find((q) => q.key === key);
    if (!item) return;
    item.files.forEach((f) => deleteFile(f.id));
    removeFromQueue(key);
    renderQueue();
  }
  function addSent(number) {
    const link = el("a", { href: CFG.urls.receipt.replace("{number}", encodeURIComponent(number)), text: t("receipt") });
    $("nd-sent").appendChild(el("li", {}, [t("sent", { number: number }), link]));
  }
  let flushing = false;
  async function flushQueue() {
    if (flushing || !navigator.onLine) { renderQueue(); return; }
    flushing = true;
    queueError("");
    renderQueue();
    try {
      for (const key of readQueue().map((q) => q.key)) {
        if (foreground.has(key)) continue;
        const stop = await withLock("new-dossier:" + key, () => sendItem(key));
        if (stop === "stop") break;
      }
    } finally {
      flushing = false;
      renderQueue();
    }
  }
  async function sendItem(key) {
    const item = readQueue().find((q) => q.key === key); // re-read: another tab may have sent it
    if (!item || item.error) return null;
    if (!item.number) {
      let result;
      try { result = await postDossier(item); } catch (e) { return "stop"; }
      if (result.status === 200 || result.status === 201) {
        item.number = result.body.number;
        addSent(item.number);
        if (!item.files.length) { removeFromQueue(key); return null; }
        updateItem(item);
      } else if (result.status === 401 || result.status === 400) {
        queueError(t("session"));
        return "stop";
      } else {
        item.error = problemText(result.body, result.status);
        item.errors = result.body && result.body.errors;
        updateItem(item);
        return null;
      }
    }
    renderQueue();
    const ok = await uploadAll(item, false);
    return ok || item.files.every((f) => f.state !== "pending") ? null : "stop";
  }
  window.addEventListener("online", flushQueue);
  document.addEventListener("visibilitychange", () => { if (!document.hidden && readQueue().length) flushQueue(); });
  window.addEventListener("offline", renderQueue);
  $("nd-queue-send").addEventListener("click", () => {
    const queue = readQueue();
    queue.forEach((q) => q.files.forEach((f) => { if (f.state === "failed") f.state = "pending"; }));
    writeQueue(queue);
    flushQueue();
  });
  setInterval(() => { if (readQueue().length) flushQueue(); }, 30000);
  window.addEventListener("storage", (e) => { if (e.key === QUEUE_KEY) renderQueue(); });

  // ---------------------------------------------------------------- start a new dossier
  // Two taps discard a draft that has content (no blocking dialog on a tablet).
  const resetButton = $("nd-reset");
  const resetLabel = resetButton.textContent;
  let discardArmed = null;
  function disarm() {
    clearTimeout(discardArmed);
    discardArmed = null;
    resetButton.textContent = resetLabel;
  }
  resetButton.addEventListener("click", () => {
    if (!isBlank() && !discardArmed) {
      resetButton.textContent = t("discard");
      discardArmed = setTimeout(disarm, 4000);
      return;
    }
    disarm();
    const queued = new Set();
    readQueue().forEach((q) => q.files.forEach((f) => queued.add(f.id)));
    draft.files.forEach((f) => { if (!queued.has(f.id)) deleteFile(f.id); });
    clearDraft();
    showPanel(null);
    show(1, true);
  });

  // Blobs that neither the draft nor the outbox refers to any more (e.g. storage cleared by hand).
  async function sweepFiles() {
    const kept = new Set(draft.files.map((f) => f.id));
    readQueue().forEach((q) => q.files.forEach((f) => kept.add(f.id)));
    try {
      const keys = await store("readonly", (s) => s.getAllKeys());
      for (const id of keys || []) {
        const record = kept.has(id) ? null : await getFile(id);
        if (record && record.owner === CFG.user) await deleteFile(id);
      }
    } catch (e) { /* no IndexedDB: nothing kept */ }
  }

  // ---------------------------------------------------------------- start
  // Files whose blob never reached storage (the page closed while shrinking) are dropped.
  draft.files = draft.files.filter((f) => !f.shrinking);
  form.hidden = false;
  fillForm();
  show(draft.step || 1, false);
  if (draft.procedure === null) {
    form.elements.q.focus({ preventScroll: true });
    if (fieldValue("q")) search();
  }
  renderQueue();
  window.portalReady = performance.now(); // read by bench/bench_portal.py
  openDb().then((db) => { if (!db && draft.files.length) showFileError(t("no_storage")); else sweepFiles(); });
  if (navigator.onLine) { flushQueue(); refreshCatalogue(); }
})();
