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

  // ------------------------------------------------------------ offline (sync/outbox.js)
  //
  // Online, the job's forms post as always. Offline — or while earlier steps of this job
  // still wait in the outbox, so that nothing overtakes them — a step is queued with the
  // phone's time and the page moves on by itself: the page already holds every later
  // step's markup (hidden), so the next one is shown as the server would render it.

  var NEXT_STATUS = {
    accept: "accepted", reject: "rejected", start_travel: "en_route", check_in: "on_site", complete: "completed"
  };
  var WORK_ORDER_KINDS = ["accept", "reject", "start_travel", "check_in", "checklist", "sign", "complete"];
  var CHOICE_COLOUR = { ok: "success", failed: "danger", not_applicable: "secondary" };

  function fmt(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (_, key) {
      return values && values[key] !== undefined ? String(values[key]) : "";
    });
  }

  function setupOfflineJob(outbox) {
    var summary = document.querySelector("[data-offline-job]");
    if (!summary) { return; }
    var jobId = Number(summary.getAttribute("data-offline-job"));
    var serverStatus = summary.getAttribute("data-status");
    var queued = [];
    var flash = document.querySelector("[data-offline-flash]");

    function say(text) {
      if (!flash) { return; }
      flash.textContent = text;
      flash.hidden = !text;
      if (text) { flash.scrollIntoView({ block: "start" }); }
    }

    function showStatus(status) {
      document.querySelectorAll("[data-when]").forEach(function (node) {
        node.hidden = node.getAttribute("data-when").split(" ").indexOf(status) === -1;
      });
      document.body.setAttribute("data-job-status", status);
    }

    function showAnswer(item, result) {
      item.setAttribute("data-result", result);
      item.querySelectorAll("button[name=result]").forEach(function (button) {
        var colour = CHOICE_COLOUR[button.value] || "secondary";
        var on = button.value === result;
        button.classList.toggle("btn-" + colour, on);
        button.classList.toggle("btn-outline-" + colour, !on);
        if (on) { button.setAttribute("aria-pressed", "true"); } else { button.removeAttribute("aria-pressed"); }
      });
    }

    function openItems() {
      return document.querySelectorAll("[data-testid=checklist-item][data-result=pending]").length;
    }

    function apply() {
      var status = serverStatus;
      var completed = null;
      queued.forEach(function (row) {
        if (NEXT_STATUS[row.kind]) { status = NEXT_STATUS[row.kind]; }
        if (row.kind === "complete") { completed = row; }
        if (row.kind === "checklist") {
          var item = document.querySelector("[data-testid=checklist-item][data-item-id='" + row.data.item + "']");
          if (item) { showAnswer(item, row.data.result); }
        }
      });
      showStatus(status);
      var open = document.querySelector("[data-testid=checklist-open]");
      if (open) { open.textContent = fmt(open.getAttribute("data-msg-open"), { n: openItems() }); }
      var hint = document.querySelector("[data-open-hint]");
      if (hint && queued.length) {
        hint.hidden = openItems() === 0;
        hint.textContent = hint.getAttribute("data-msg-open-hint");
      }
      if (completed) {
        var at = new Date(completed.device_at);
        var when = document.querySelector("[data-completed-at]");
        if (when) { when.textContent = ("0" + (at.getMonth() + 1)).slice(-2) + "-" + ("0" + at.getDate()).slice(-2) + " " + ("0" + at.getHours()).slice(-2) + ":" + ("0" + at.getMinutes()).slice(-2); }
        var done = document.querySelector("[data-done-summary]");
        if (done) { done.textContent = completed.data.resolution_code || ""; }
      }
      var waiting = document.querySelector("[data-job-waiting]");
      if (waiting) {
        waiting.hidden = !queued.length;
        waiting.textContent = fmt(waiting.getAttribute("data-msg"), { n: queued.length });
      }
    }

    function refresh() {
      return outbox.pending(function (row) {
        return row.target === jobId && WORK_ORDER_KINDS.indexOf(row.kind) !== -1;
      }).then(function (rows) { queued = rows; apply(); });
    }

    function value(form, name) {
      var field = form.querySelector("[name='" + name + "']");
      return field ? String(field.value || "").trim() : "";
    }

    function position(form, data) {
      var lat = value(form, "latitude");
      var lon = value(form, "longitude");
      if (lat && lon) { data.latitude = lat; data.longitude = lon; }
      return data;
    }

    // The step's data as the sync endpoint takes it (the online verb's fields); null
    // when the form still needs something (the reason is shown).
    function collect(form, kind, submitter) {
      if (kind === "accept") { return {}; }
      if (kind === "reject") {
        var reason = value(form, "reject-reason");
        if (!reason) { say(summary.getAttribute("data-msg-reason-needed")); return null; }
        return { reason: reason };
      }
      if (kind === "start_travel") { return position(form, {}); }
      if (kind === "check_in") { return position(form, {}); }
      if (kind === "checklist") {
        if (!submitter || submitter.name !== "result") { return null; }
        var answer = { item: Number(value(form, "item")), result: submitter.value };
        if (value(form, "note")) { answer.note = value(form, "note"); }
        return answer;
      }
      if (kind === "sign") {
        var name = value(form, "signed_by");
        if (!name) { say(summary.getAttribute("data-msg-name-needed")); return null; }
        return { signature: value(form, "signature"), signed_by: name };
      }
      if (kind === "complete") {
        if (openItems()) {
          var hint = document.querySelector("[data-open-hint]");
          if (hint) { hint.hidden = false; hint.textContent = hint.getAttribute("data-msg-open-hint"); }
          return null;
        }
        var ftf = value(form, "first_time_fix");
        return position(form, {
          resolution_code: value(form, "resolution_code"),
          resolution_notes: value(form, "resolution_notes"),
          parts_used: value(form, "parts_used"),
          first_time_fix: ftf === "yes" ? true : ftf === "no" ? false : null
        });
      }
      return null;
    }

    function queuePhoto(form) {
      var input = form.querySelector("input[type=file]");
      var file = input && input.files && input.files[0];
      if (!file) { return; }
      var last = queued.length ? queued[queued.length - 1].client_id : null;
      outbox.queueUpload({
        purpose: "work_order_photo", target: { work_order: jobId }, blob: file, filename: file.name,
        label: form.getAttribute("data-offline-label"), after: last
      }).then(function () {
        form.reset();
        say(summary.getAttribute("data-msg-photo-queued"));
      });
    }

    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (event.defaultPrevented) { return; }
      if (form.hasAttribute("data-online-only") && outbox.isOffline()) {
        event.preventDefault();
        say(form.getAttribute("data-msg-online-only"));
        return;
      }
      var kind = form.getAttribute("data-offline-kind");
      if (!kind || (!outbox.isOffline() && !queued.length)) { return; }
      event.preventDefault();
      if (kind === "photo") { queuePhoto(form); return; }
      var data = collect(form, kind, event.submitter);
      if (data === null) { return; }
      outbox.queue({ kind: kind, target: jobId, data: data, label: form.getAttribute("data-offline-label") })
        .then(refresh)
        .then(function () { say(summary.getAttribute("data-msg-queued")); });
    });

    outbox.onChange(function (event) {
      // All sent and applied: show what the server now says. A refusal keeps the page as
      // it is, the reason listed in the outbox bar, until the engineer dismisses it.
      if (event.type === "synced" && queued.length && !outbox.isOffline()) {
        outbox.kept(function (row) { return row.target === jobId && WORK_ORDER_KINDS.indexOf(row.kind) !== -1; }).then(function (rows) {
          if (!rows.length) { window.location.reload(); }
        });
      }
    });
    refresh();
  }

  function setupOfflineToday(outbox) {
    var list = document.querySelector("ol[data-msg-waiting]");
    if (!list) { return; }
    function show() {
      outbox.pending().then(function (rows) {
        list.querySelectorAll("[data-job-id]").forEach(function (card) {
          var id = Number(card.getAttribute("data-job-id"));
          var n = rows.filter(function (row) { return row.target === id && WORK_ORDER_KINDS.indexOf(row.kind) !== -1; }).length;
          var badge = card.querySelector("[data-job-pending]");
          if (!badge) {
            badge = document.createElement("div");
            badge.className = "small text-primary px-3 pb-2";
            badge.setAttribute("data-job-pending", "");
            badge.setAttribute("data-testid", "job-pending");
            card.insertBefore(badge, card.querySelector(".card-footer"));
          }
          badge.hidden = !n;
          badge.textContent = fmt(list.getAttribute("data-msg-waiting"), { n: n });
        });
      });
    }
    outbox.onChange(show);
    show();
  }

  // ------------------------------------------------------------ wiring

  document.querySelectorAll("form[data-geo]").forEach(setupGeoForm);
  document.querySelectorAll("form[data-signature-form]").forEach(setupSignature);
  document.querySelectorAll("input[data-client-id]").forEach(function (input) {
    if (!input.value) { input.value = uuid4(); }
  });
  setupPings();
  if (window.FrontlineOutbox) {
    setupOfflineJob(window.FrontlineOutbox);
    setupOfflineToday(window.FrontlineOutbox);
  }

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
