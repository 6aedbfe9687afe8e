// Coverage map: draws /coverage.geojson (outline, gaps, commune centres, service points) with Leaflet.
// Hand-written, no build step, no CDN. Text from the data is always set with textContent.
(function () {
  "use strict";

  var el = document.getElementById("map");
  var tileUrl = el.dataset.tileUrl || "";
  var TIER_COLOURS = { branch: "#1a56db", district_point: "#ff8a00", commune_point: "#7e3af2" };
  var TIER_WORDS = {
    branch: "Chi nhánh / branch",
    district_point: "Điểm tiếp nhận / reception point",
    commune_point: "Điểm cấp xã / commune point",
  };

  var map = L.map(el, { preferCanvas: true, zoomSnap: 0.25 });
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
  }
  map.setView([21.0, 105.7], 9);
  // Leaflet gives (NaN, NaN) for a container no larger than the padding (not laid out yet, or being
  // closed): fit once it has a size.
  function fitTo(bounds) {
    map.invalidateSize(false);
    var size = map.getSize();
    if (size.x > 20 && size.y > 20) { map.fitBounds(bounds, { padding: [10, 10] }); }
    else { map.once("resize", function () { fitTo(bounds); }); }
  }

  function vi(n, digits) {
    return Number(n).toLocaleString("vi-VN", { maximumFractionDigits: digits });
  }
  function en(n, digits) {
    return Number(n).toLocaleString("en-GB", { maximumFractionDigits: digits });
  }

  // A popup body built from DOM nodes: [label, value] rows under a title.
  function popup(title, rows) {
    var box = document.createElement("div");
    var head = document.createElement("strong");
    head.textContent = title;
    box.appendChild(head);
    rows.forEach(function (row) {
      var line = document.createElement("div");
      line.textContent = row[0] + ": " + row[1];
      box.appendChild(line);
    });
    return box;
  }

  function pointPopup(p) {
    return popup(p.name + " (" + p.code + ")", [
      ["Loại / tier", TIER_WORDS[p.tier] || p.tier],
      ["Vùng phục vụ / catchment", vi(p.catchment_km2, 1) + " km²"],
      ["Trong quy tắc / within the rule", vi(p.within_km2, 1) + " km²"],
      ["Ngoài quy tắc / outside the rule", vi(p.outside_km2, 1) + " km²"],
    ]);
  }

  function communePopup(p) {
    return popup(p.name + " (" + p.unit_code + ")", [
      ["Điểm gần nhất / nearest point", p.nearest_name ? p.nearest_name + " (" + p.nearest_code + ")" : "—"],
      ["Khoảng cách / distance", p.distance_km === null ? "—" : vi(p.distance_km, 1) + " km"],
      ["Thời gian / travel", p.minutes === null ? "—" : vi(p.minutes, 0) + " phút / min"],
      ["Trong quy tắc / within the rule", p.within ? "có / yes" : "không / no"],
    ]);
  }

  function gapPopup(p) {
    return popup("Vùng ngoài quy tắc / gap #" + p.id, [["Diện tích / area", vi(p.area_km2, 1) + " km²"]]);
  }

  function byKind(data, kind) {
    return { type: "FeatureCollection", features: data.features.filter(function (f) {
      return f.properties.kind === kind;
    }) };
  }

  function showSummary(s) {
    var share = s.share_within * 100;
    var text = document.getElementById("summary");
    text.textContent = "";
    var main = document.createElement("span");
    main.textContent = vi(share, 1) + "% diện tích (" + vi(s.km2_within, 0) + " / " + vi(s.km2_total, 0) +
      " km²) trong quy tắc; " + s.gaps + " vùng ngoài quy tắc (" + vi(s.km2_outside, 0) + " km²); " +
      s.communes_outside + "/" + s.communes + " trung tâm xã/phường ngoài quy tắc. ";
    var second = document.createElement("span");
    second.className = "en";
    second.lang = "en";
    second.textContent = "/ " + en(share, 1) + "% of the area (" + en(s.km2_within, 0) + " of " +
      en(s.km2_total, 0) + " km²) within the rule; " + s.gaps + " gaps (" + en(s.km2_outside, 0) +
      " km²); " + s.communes_outside + " of " + s.communes + " commune centres outside the rule.";
    text.appendChild(main);
    text.appendChild(second);
  }

  function showWorst(data) {
    var communes = byKind(data, "commune").features.map(function (f) { return f.properties; });
    communes.sort(function (a, b) { return (b.distance_km || 0) - (a.distance_km || 0); });
    var body = document.querySelector("#worst tbody");
    communes.slice(0, 5).forEach(function (c) {
      var tr = document.createElement("tr");
      [c.name + " (" + c.unit_code + ")", c.nearest_name || "—",
        c.distance_km === null ? "—" : vi(c.distance_km, 1),
        c.minutes === null ? "—" : vi(c.minutes, 0)].forEach(function (value) {
        var td = document.createElement("td");
        td.textContent = value;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function draw(data) {
    var outline = L.geoJSON(byKind(data, "boundary"), {
      interactive: false,
      style: { color: "#52606d", weight: 2, fillColor: "#ffffff", fillOpacity: tileUrl ? 0 : 0.7 },
    }).addTo(map);
    L.geoJSON(byKind(data, "gap"), {
      style: { color: "#b91c1c", weight: 1, fillColor: "#e02424", fillOpacity: 0.45 },
      onEachFeature: function (f, layer) { layer.bindPopup(gapPopup(f.properties)); },
    }).addTo(map);
    L.geoJSON(byKind(data, "commune"), {
      pointToLayer: function (f, latlng) {
        var colour = f.properties.within ? "#0e9f6e" : "#e02424";
        return L.circleMarker(latlng, { radius: 3.5, color: colour, weight: 1, fillColor: colour, fillOpacity: 0.9 });
      },
      onEachFeature: function (f, layer) { layer.bindPopup(communePopup(f.properties)); },
    }).addTo(map);
    L.geoJSON(byKind(data, "point"), {
      pointToLayer: function (f, latlng) {
        var colour = f.properties.candidate ? "#111827" : (TIER_COLOURS[f.properties.tier] || "#111827");
        return L.circleMarker(latlng, { radius: 7, color: "#ffffff", weight: 1.5, fillColor: colour, fillOpacity: 1 });
      },
      onEachFeature: function (f, layer) { layer.bindPopup(pointPopup(f.properties)); },
    }).addTo(map);
    if (outline.getLayers().length) {
      fitTo(outline.getBounds());
    }
    showSummary(data.summary);
    showWorst(data);
  }

  fetch(el.dataset.geojson, { headers: { Accept: "application/geo+json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(draw)
    .catch(function (err) {
      document.getElementById("summary").textContent =
        "Không tải được dữ liệu độ phủ / Could not load the coverage data (" + err.message + ")";
    });
})();
