// An engineer's home base and last known position on a small Leaflet map.
// Loaded as a file (the CSP forbids inline script); the points come from json_script.
(function () {
  "use strict";
  var el = document.getElementById("engineer-map");
  var source = document.getElementById("engineer-map-data");
  if (!el || !source || !window.L) { return; }
  var data;
  try { data = JSON.parse(source.textContent); } catch (e) { return; }

  function point(value) {
    return Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "number"
      ? value : null;
  }

  var map = L.map(el, { zoomControl: true });
  var tileUrl = el.getAttribute("data-tile-url");
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: el.getAttribute("data-tile-attribution") || "" }).addTo(map);
  }
  var points = [];
  var home = point(data.home);
  var last = point(data.last);
  if (home) {
    L.circleMarker(home, { radius: 8, color: "#0d6efd", weight: 2, fillOpacity: 0.4 })
      .bindTooltip(el.getAttribute("data-home-label") || "").addTo(map);
    points.push(home);
  }
  if (last) {
    L.circleMarker(last, { radius: 8, color: "#d9480f", weight: 2, fillOpacity: 0.6 })
      .bindTooltip(el.getAttribute("data-last-label") || "").addTo(map);
    points.push(last);
  }
  if (points.length > 1) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 14 });
  } else if (points.length === 1) {
    map.setView(points[0], 12);
  } else {
    map.setView([31.23, 121.47], 4);
  }
})();
