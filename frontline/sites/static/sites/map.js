// The site map: Leaflet markers for the sites the user can see.
// Loaded as a file (the CSP forbids inline script). Site text is only ever set with
// textContent, never as HTML, so a site named "<script>…" stays text.
(function () {
  "use strict";
  var el = document.getElementById("site-map");
  if (!el || !window.L) { return; }

  var map = L.map(el, { zoomControl: true });
  var tileUrl = el.getAttribute("data-tile-url");
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: el.getAttribute("data-tile-attribution") || "" }).addTo(map);
  }
  map.setView([31.23, 121.47], 4);
  var markers = {};

  function isLocalPath(url) {
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/";
  }

  function popupContent(site) {
    var box = document.createElement("div");
    var title = document.createElement(isLocalPath(site.url) ? "a" : "strong");
    title.textContent = site.name;
    if (isLocalPath(site.url)) { title.href = site.url; }
    box.appendChild(title);
    var meta = document.createElement("div");
    meta.className = "small text-muted";
    meta.textContent = [site.customer, site.city].filter(Boolean).join(" · ");
    box.appendChild(meta);
    if (site.address) {
      var address = document.createElement("div");
      address.className = "small";
      address.textContent = site.address;
      box.appendChild(address);
    }
    return box;
  }

  function showError() {
    var note = document.createElement("div");
    note.className = "alert alert-warning m-2";
    note.setAttribute("role", "alert");
    note.textContent = el.getAttribute("data-error-text") || "";
    el.parentNode.insertBefore(note, el);
  }

  fetch(el.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) {
      var points = [];
      (data.sites || []).forEach(function (site) {
        if (typeof site.lat !== "number" || typeof site.lng !== "number") { return; }
        var marker = L.circleMarker([site.lat, site.lng], {
          radius: 8, color: "#d9480f", weight: 2, fillColor: "#d9480f", fillOpacity: 0.5
        });
        marker.bindPopup(popupContent(site));
        marker.addTo(map);
        markers[String(site.id)] = marker;
        points.push([site.lat, site.lng]);
      });
      if (points.length === 1) {
        map.setView(points[0], 13);
      } else if (points.length > 1) {
        map.fitBounds(points, { padding: [24, 24], maxZoom: 14 });
      }
      el.setAttribute("data-markers", String(points.length));
    })
    .catch(showError);

  // Pointing at a site in the list beside the map opens its marker's popup.
  document.querySelectorAll("[data-site-id]").forEach(function (item) {
    function open() {
      var marker = markers[item.getAttribute("data-site-id")];
      if (marker) { marker.openPopup(); }
    }
    item.addEventListener("mouseenter", open);
    item.addEventListener("focus", open);
  });
})();
