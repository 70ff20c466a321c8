// The engineer's phone view. Loaded as a file (the CSP forbids inline script).
// - forms with data-geo get the browser's position in their hidden latitude/longitude;
//   data-geo="required" forms (check-in) wait for it, say why when it fails, and retry;
// - photo forms get a client id (a UUID) so that a retried upload is stored once;
// - the signature pad draws with pointer events (mouse, pen, finger) and posts a PNG;
// - while a job is en route the position is posted every few minutes (data-ping-url);
//   when that endpoint is missing or refuses, pinging stops quietly.
(function () {
  "use strict";

  function uuid4() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  var GEO_OPTIONS = { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 };

  function locate(onFound, onFailed) {
    if (!navigator.geolocation) { onFailed("unsupported"); return; }
    navigator.geolocation.getCurrentPosition(
      function (pos) { onFound(pos.coords); },
      function (err) { onFailed(err && err.code === 1 ? "denied" : "unavailable"); },
      GEO_OPTIONS
    );
  }

  // ------------------------------------------------------------ position in forms

  function setupGeoForm(form) {
    var lat = form.querySelector("[data-geo-lat]");
    var lon = form.querySelector("[data-geo-lon]");
    var status = form.querySelector("[data-geo-status]");
    var retry = form.querySelector("[data-geo-retry]");
    var required = form.getAttribute("data-geo") === "required";
    var pendingSubmitter = null;
    if (!lat || !lon) { return; }

    function say(key, accuracy) {
      if (!status) { return; }
      var text = status.getAttribute("data-msg-" + key) || "";
      status.textContent = text.replace("%(m)s", String(Math.round(accuracy || 0)));
      status.classList.toggle("text-danger", key === "denied" || key === "unavailable" ||
        key === "unsupported" || key === "needed");
      form.setAttribute("data-geo-state", key);
    }

    function run() {
      say("locating");
      if (retry) { retry.classList.add("d-none"); }
      locate(function (coords) {
        lat.value = coords.latitude.toFixed(6);
        lon.value = coords.longitude.toFixed(6);
        say("found", coords.accuracy);
        if (pendingSubmitter !== null) {
          var submitter = pendingSubmitter;
          pendingSubmitter = null;
          if (form.requestSubmit) { form.requestSubmit(submitter || undefined); } else { form.submit(); }
        }
      }, function (reason) {
        pendingSubmitter = null;
        say(reason);
        if (retry) { retry.classList.remove("d-none"); }
      });
    }

    if (retry) { retry.addEventListener("click", run); }
    form.addEventListener("submit", function (event) {
      if (!required || lat.value) { return; }
      // Check-in needs a position: wait for it, then submit once it is there.
      event.preventDefault();
      pendingSubmitter = event.submitter || false;
      say("needed");
      run();
    });
    run();
  }

  // ------------------------------------------------------------ signature pad

  function setupSignature(form) {
    var canvas = form.querySelector("[data-signature-pad]");
    var input = form.querySelector("input[name=signature]");
    var clear = form.querySelector("[data-signature-clear]");
    var msg = form.querySelector("[data-signature-msg]");
    if (!canvas || !input || !canvas.getContext) { return; }
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var strokes = 0;
    var last = null;

    function fit() {
      var ratio = window.devicePixelRatio || 1;
      var rect = canvas.getBoundingClientRect();
      canvas.width = Math.max(1, Math.round(rect.width * ratio));
      canvas.height = Math.max(1, Math.round(rect.height * ratio));
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      strokes = 0;
      canvas.classList.remove("is-signed");
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    function lineTo(p) {
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      strokes += 1;
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      if (!events.length) { events = [event]; }
      events.forEach(function (e) { lineTo(point(e)); });
      if (strokes > 2) {
        canvas.classList.add("is-signed");
        if (msg) { msg.textContent = ""; }
      }
    });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; last = null; });
    });
    if (clear) {
      clear.addEventListener("click", function () {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        fit();
        input.value = "";
      });
    }
    window.addEventListener("resize", function () { if (!strokes) { fit(); } });
    form.addEventListener("submit", function (event) {
      if (strokes < 3) {
        event.preventDefault();
        if (msg) { msg.textContent = msg.getAttribute("data-msg-empty") || ""; }
        return;
      }
      input.value = canvas.toDataURL("image/png");
    });
    fit();
  }

  // ------------------------------------------------------------ position pings

  function setupPings() {
    var body = document.body;
    var url = body.getAttribute("data-ping-url");
    if (!url || !navigator.geolocation || !window.fetch) { return; }
    var seconds = parseInt(body.getAttribute("data-ping-seconds"), 10) || 180;
    var status = document.querySelector("[data-ping-status]");
    var timer = null;

    function show(on) {
      if (!status) { return; }
      status.textContent = status.getAttribute(on ? "data-msg-on" : "data-msg-off") || "";
      status.setAttribute("data-ping-state", on ? "on" : "off");
    }

    function stop() {
      if (timer !== null) { window.clearInterval(timer); timer = null; }
      show(false);
    }

    function ping() {
      locate(function (coords) {
        window.fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({
            latitude: Number(coords.latitude.toFixed(6)),
            longitude: Number(coords.longitude.toFixed(6)),
            accuracy_m: Math.round(coords.accuracy || 0),
            client_id: uuid4()
          })
        }).then(function (response) {
          // Missing (not deployed yet), not allowed or signed out: stop quietly.
          if ([401, 403, 404, 405, 501].indexOf(response.status) !== -1) { stop(); return; }
          show(response.ok);
        }).catch(function () { /* offline: try again at the next tick */ });
      }, function () { show(false); });
    }

    ping();
    timer = window.setInterval(ping, seconds * 1000);
  }

  // ------------------------------------------------------------ wiring

  document.querySelectorAll("form[data-geo]").forEach(setupGeoForm);
  document.querySelectorAll("form[data-signature-form]").forEach(setupSignature);
  document.querySelectorAll("input[data-client-id]").forEach(function (input) {
    if (!input.value) { input.value = uuid4(); }
  });
  setupPings();

  // One submit per tap: registered last, so it sees what the checks above prevented.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented) { return; }
    if (form.hasAttribute("data-submitting")) { event.preventDefault(); return; }
    form.setAttribute("data-submitting", "");
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
    });
  });
})();
