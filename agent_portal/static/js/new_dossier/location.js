// Step 3: where the citizen is (GPS, an address, a pin on the map) and the service point it routes to.
// A failed lookup clears the location and the route: the step waits until a location is set again
// (or, outside Hanoi, until the agent registers it anyway with a reason: outside.js).
import { $, el } from "../lib/dom.js";
import { roundEven } from "../lib/format.js";
import { getJson, problemText } from "../lib/http.js";
import { CFG, draft, fieldValue, fmt, form, LANG, save, t } from "./context.js";
import { clearOutside, outsideReason, refuseOutside } from "./outside.js";
import { setError } from "./validation.js";

const HANOI_BOUNDS = [[20.56, 105.28], [21.39, 106.02]];
const TIER_COLOURS = { branch: "#1a56db", district_point: "#c2410c", commune_point: "#7e3af2" };
const WAYS = ["nd-gps", "nd-by-address", "nd-by-pin"];
let map = null;
let pin = null;
let chosenRing = null;
let leaflet = null;
let routeAbort = null;
const pointsByCode = {};

export function initLocation() {
  $("nd-gps").addEventListener("click", useGps);
  $("nd-by-address").addEventListener("click", () => {
    pressed("nd-by-address");
    $("nd-addr-box").hidden = false;
    if (fieldValue("geo_address")) locateAddress(); else form.elements.geo_address.focus();
  });
  $("nd-geo-go").addEventListener("click", locateAddress);
  $("nd-by-pin").addEventListener("click", openMap);
}

export function locStatus(text, bad) {
  const box = $("nd-loc");
  box.textContent = text || "";
  box.className = bad ? "located warn" : "located";
}
export function routeStatus(text, bad) {
  const box = $("nd-route-status");
  box.textContent = text || "";
  box.className = bad ? "warn" : "hint";
}
function pressed(id) { WAYS.forEach((b) => $(b).setAttribute("aria-pressed", String(b === id))); }

export function resetLocationUi() {
  locStatus("");
  routeStatus("");
  WAYS.forEach((b) => $(b).removeAttribute("aria-pressed"));
  $("nd-addr-box").hidden = true;
  $("nd-map-box").hidden = true;
  if (pin) { pin.remove(); pin = null; }
}

export function enterLocation() {
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
  draft.lookupFailed = false;
  save();
  clearOutside();
  setError("location", "");
  renderLocation();
  placePin();
  route();
}

// The lookup failed (not found, or somewhere no point serves): nothing of the old place remains
// (a place refused as outside Hanoi is kept aside by outside.js, for an override with a reason).
function lookupFailed(text, keepOutside) {
  if (!keepOutside) clearOutside();
  if (routeAbort) routeAbort.abort();
  draft.location = null;
  draft.routing = null;
  draft.fields.point = "";
  draft.lookupFailed = true;
  save();
  if (pin) { pin.remove(); pin = null; }
  renderRouting();
  locStatus(text, true);
  setError("location", text);
}

export function renderLocation() {
  const loc = draft.location;
  if (!loc) { locStatus(""); return; }
  pressed({ gps: "nd-gps", address: "nd-by-address", pin: "nd-by-pin" }[loc.source]);
  if (loc.source === "address") {
    $("nd-addr-box").hidden = false;
    locStatus(t("loc_address", { label: loc.label }) + (loc.approximate ? " — " + t("loc_approximate") : ""));
  } else if (loc.source === "gps") {
    locStatus(t("loc_gps", { lat: fmt.dec5.format(loc.lat), lon: fmt.dec5.format(loc.lon),
      acc: fmt.whole.format(loc.accuracy || 0) }));
  } else {
    locStatus(t("loc_pin", { lat: fmt.dec5.format(loc.lat), lon: fmt.dec5.format(loc.lon) }));
  }
}

function useGps() {
  pressed("nd-gps");
  if (!navigator.geolocation) { locStatus(t("gps_unavailable"), true); return; }
  locStatus(t("gps_locating"));
  navigator.geolocation.getCurrentPosition(
    (pos) => setLocation({ lat: pos.coords.latitude, lon: pos.coords.longitude, source: "gps",
      accuracy: Math.round(pos.coords.accuracy || 0) }),
    (err) => locStatus(err.code === 1 ? t("gps_denied") : err.code === 3 ? t("gps_timeout") : t("gps_unavailable"), true),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

export async function locateAddress() {
  const text = fieldValue("geo_address");
  if (text.length < 3) { locStatus(t("geo_short"), true); form.elements.geo_address.focus(); return; }
  locStatus(t("geo_locating"));
  let r;
  try {
    r = await getJson(CFG.urls.geocode + "?address=" + encodeURIComponent(text));
  } catch (e) {
    r = null;
  }
  if (r && r.status === 422) { lookupFailed(t("geo_not_found")); return; }
  if (r && r.ok) {
    setLocation({ lat: r.body.lat, lon: r.body.lon, source: "address", label: r.body.label,
      approximate: Boolean(r.body.approximate) });
    return;
  }
  // No answer: the citizen's address is located when the dossier is sent.
  locStatus(t("geo_offline"), true);
  if (!fieldValue("address")) { draft.fields.address = text; form.elements.address.value = text; save(); }
}

function loadAsset(tag, attrs) {
  return new Promise((resolve, reject) => {
    const node = el(tag, attrs);
    node.onload = resolve;
    node.onerror = reject;
    document.head.appendChild(node);
  });
}
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
  const L = window.L;
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

export function placePin() {
  const loc = draft.location;
  if (!map || !loc) return;
  if (!pin) {
    pin = window.L.marker([loc.lat, loc.lon], { draggable: true, autoPan: true }).addTo(map);
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
  const p = pointsByCode[draft.fields.point || draft.routing.chosen.service_point_code];
  if (!p) return;
  if (chosenRing) chosenRing.setLatLng([p.lat, p.lon]);
  else chosenRing = window.L.circleMarker([p.lat, p.lon], { radius: 13, color: "#0b5394", weight: 4, fill: false }).addTo(map);
}

export async function route() {
  const p = draft.procedure;
  const loc = draft.location;
  if (!p || !loc) { renderRouting(); return; }
  const reason = outsideReason();
  const key = p.code + "@" + loc.lat + "," + loc.lon + (reason ? "!outside" : "");
  if (draft.routing && draft.routing.key === key) { renderRouting(); return; }
  if (routeAbort) routeAbort.abort();
  routeAbort = new AbortController();
  draft.routing = null;
  renderRouting();
  routeStatus(t("routing"));
  try {
    const r = await getJson(CFG.urls.routing + "?lat=" + loc.lat + "&lon=" + loc.lon + "&procedure=" +
      encodeURIComponent(p.code) + (reason ? "&outside_hanoi_reason=" + encodeURIComponent(reason) : ""),
    routeAbort.signal);
    if (!r.ok) {
      const bad = r.body && r.body.errors && r.body.errors[0];
      const text = bad ? bad["message_" + LANG] || bad.message : problemText(r.body, r.status, LANG);
      routeStatus(t("routing_failed", { msg: text }), true);
      if (r.status === 422) { // e.g. outside Hanoi: no point serves it, unless registered anyway with a reason
        const outside = r.body && r.body.code === "outside_hanoi" && !reason;
        lookupFailed(text, outside);
        if (outside) refuseOutside(loc);
      }
      return;
    }
    const d = r.body;
    draft.routing = { key: key, chosen: d.chosen, alternatives: (d.alternatives || []).slice(0, 3),
      explanation_vi: d.explanation_vi, explanation_en: d.explanation_en, outside: d.outside_service_radius,
      outside_hanoi: Boolean(d.outside_hanoi) };
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
  return t("tier_" + o.tier) + " · " + t("km_min", { km: fmt.dec1.format(o.distance_km), min: roundEven(o.travel_minutes) });
}

export function renderRouting() {
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

export function renderChoice() {
  const chosenOther = Boolean(draft.fields.point);
  $("nd-reason-box").hidden = !chosenOther;
  if (!chosenOther) setError("choice_reason", "");
  setError("point", "");
  highlightChosen();
}

export function chosenOption() {
  const r = draft.routing;
  if (!r || !r.chosen) return null;
  return draft.fields.point ? r.alternatives.find((a) => a.service_point_code === draft.fields.point) || null : r.chosen;
}
