// Dispatch board: timeline bars placed from data attributes, and a Leaflet map of the
// queue and the engineers. Loaded as a file (the CSP forbids inline script); text from
// the data (titles, names) is only ever set with textContent.
(function () {
  "use strict";

  function place(root) {
    (root || document).querySelectorAll("[data-left][data-width]").forEach(function (el) {
      el.style.left = parseFloat(el.getAttribute("data-left")) + "%";
      el.style.width = parseFloat(el.getAttribute("data-width")) + "%";
    });
  }
  place(document);
  document.addEventListener("htmx:afterSwap", function (event) { place(event.target); });
  // The picked order stays highlighted in the queue while its suggestions show.
  document.addEventListener("click", function (event) {
    var item = event.target.closest("[data-order-id]");
    if (!item) { return; }
    document.querySelectorAll("[data-order-id].active").forEach(function (el) { el.classList.remove("active"); });
    item.classList.add("active");
  });

  var el = document.getElementById("board-map");
  var source = document.getElementById("board-map-data");
  if (!el || !source || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  var map = L.map(el, { zoomControl: true });
  var tileUrl = el.getAttribute("data-tile-url");
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: el.getAttribute("data-tile-attribution") || "" }).addTo(map);
  }
  map.setView([31.23, 121.47], 9);
  var colours = { urgent: "#dc3545", high: "#fd7e14", normal: "#0d6efd", low: "#6c757d" };
  var points = [];

  function label(lines) {
    var box = document.createElement("div");
    lines.forEach(function (text, i) {
      var line = document.createElement(i === 0 ? "strong" : "div");
      line.textContent = text;
      box.appendChild(line);
    });
    return box;
  }

  (data.orders || []).forEach(function (o) {
    if (typeof o.lat !== "number" || typeof o.lng !== "number") { return; }
    var c = colours[o.priority] || colours.normal;
    var marker = L.circleMarker([o.lat, o.lng], { radius: 7, color: c, weight: 2, fillColor: c, fillOpacity: 0.6 });
    marker.bindPopup(label([o.number, o.title]));
    marker.on("click", function () {
      var item = document.querySelector('[data-order-id="' + String(o.id) + '"]');
      if (item) { item.click(); }
    });
    marker.addTo(map);
    points.push([o.lat, o.lng]);
  });
  (data.engineers || []).forEach(function (e) {
    if (typeof e.lat !== "number" || typeof e.lng !== "number") { return; }
    var marker = L.circleMarker([e.lat, e.lng], { radius: 6, color: "#198754", weight: 3, fillColor: "#fff", fillOpacity: 1 });
    marker.bindPopup(label([e.name]));
    marker.addTo(map);
    points.push([e.lat, e.lng]);
  });
  if (points.length === 1) { map.setView(points[0], 12); }
  else if (points.length > 1) { map.fitBounds(points, { padding: [20, 20], maxZoom: 13 }); }
  el.setAttribute("data-markers", String(points.length));
})();
