// A plan's page: timeline bars placed from data attributes and the routes on a Leaflet
// map. Loaded as a file (the CSP forbids inline script); names only via textContent.
(function () {
  "use strict";
  document.querySelectorAll("[data-left][data-width]").forEach(function (el) {
    el.style.left = parseFloat(el.getAttribute("data-left")) + "%";
    el.style.width = parseFloat(el.getAttribute("data-width")) + "%";
  });

  var el = document.getElementById("plan-map");
  var source = document.getElementById("plan-map-data");
  if (!el || !source || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  var map = L.map(el, { zoomControl: true });
  var tileUrl = el.getAttribute("data-tile-url");
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: el.getAttribute("data-tile-attribution") || "" }).addTo(map);
  }
  map.setView([31.23, 121.47], 9);
  var palette = ["#0d6efd", "#198754", "#d63384", "#fd7e14", "#6f42c1", "#20c997", "#dc3545", "#0dcaf0"];
  var points = [];

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value;
    return span;
  }

  (data.routes || []).forEach(function (route, i) {
    var colour = palette[i % palette.length];
    if (route.line && route.line.length > 1) {
      L.polyline(route.line, { color: colour, weight: 3, opacity: 0.8 }).bindPopup(text(route.engineer)).addTo(map);
    }
    (route.stops || []).forEach(function (stop) {
      L.circleMarker([stop.lat, stop.lng], { radius: 6, color: colour, weight: 2, fillColor: colour, fillOpacity: 0.7 })
        .bindPopup(text(route.engineer + " · " + stop.label)).addTo(map);
      points.push([stop.lat, stop.lng]);
    });
    (route.line || []).forEach(function (p) { points.push(p); });
  });
  (data.left_out || []).forEach(function (o) {
    L.circleMarker([o.lat, o.lng], { radius: 6, color: "#6c757d", weight: 2, dashArray: "2 3", fillOpacity: 0 })
      .bindPopup(text(o.label)).addTo(map);
    points.push([o.lat, o.lng]);
  });
  if (points.length === 1) { map.setView(points[0], 12); }
  else if (points.length > 1) { map.fitBounds(points, { padding: [20, 20], maxZoom: 13 }); }
  el.setAttribute("data-markers", String(points.length));
})();
