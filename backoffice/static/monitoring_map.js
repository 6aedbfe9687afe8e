// The network map today: Hanoi's outline (the coverage page's /coverage.geojson) and every service point,
// coloured by today's load against its daily capacity, ringed by its overdue dossiers. Leaflet is served by
// this app (XStatic-Leaflet), no CDN; without MAP_TILE_URL the outline alone keeps the map readable.
(function () {
  var el = document.getElementById("network-map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { preferCanvas: true }).setView([21.03, 105.85], 10);
  var tileUrl = el.dataset.tileUrl || "";
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
  }
  // The band comes from the server (backoffice.monitoring_views.load_band), the same as the table's.
  var COLOURS = { high: "#c0392b", mid: "#d9822b", low: "#2e8540", none: "#6c757d" };
  var drawn = { high: 0, mid: 0, low: 0, none: 0 };
  // Leaflet gives (NaN, NaN) for a container no larger than the padding (not laid out yet, or being
  // closed): fit once it has a size.
  function fitTo(bounds) {
    map.invalidateSize(false);
    var size = map.getSize();
    if (size.x > 20 && size.y > 20) { map.fitBounds(bounds, { padding: [10, 10] }); }
    else { map.once("resize", function () { fitTo(bounds); }); }
  }
  // The outline in a pane of its own under the points: arriving after them, it must not veil them.
  map.createPane("outline");
  map.getPane("outline").style.zIndex = 350;
  fetch(el.dataset.outline, { headers: { Accept: "application/geo+json" } })
    .then(function (r) { return r.ok ? r.json() : { features: [] }; })
    .then(function (data) {
      var boundary = { type: "FeatureCollection", features: (data.features || []).filter(function (f) {
        return f.properties && f.properties.kind === "boundary"; }) };
      var outline = L.geoJSON(boundary, { interactive: false, pane: "outline",
        style: { color: "#52606d", weight: 2, fillColor: "#ffffff", fillOpacity: tileUrl ? 0 : 0.7 } }).addTo(map);
      if (outline.getLayers().length) { fitTo(outline.getBounds()); }
    })
    .catch(function () { /* the points still show */ });
  fetch(el.dataset.points, { headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (points) {
      points.forEach(function (p) {
        var marker = L.circleMarker([p.lat, p.lon], {
          radius: p.tier === "branch" ? 9 : (p.tier === "district_point" ? 7 : 5),
          color: p.overdue > 0 ? "#5a2d82" : "#ffffff", weight: p.overdue > 0 ? Math.min(2 + p.overdue, 6) : 1,
          fillColor: COLOURS[p.band] || COLOURS.none, fillOpacity: 0.9 });
        drawn[p.band in drawn ? p.band : "none"] += 1;
        marker.bindPopup(p.popup);
        marker.addTo(map);
      });
      el.dataset.bands = JSON.stringify(drawn);
      el.dataset.ready = String(points.length);
    });
}());
