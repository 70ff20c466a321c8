// The engineer's round on the phone. Loaded as a file (the CSP forbids inline script);
// data and words come from json_script blocks rendered by the page.
//
// Fast path for a checkpoint with three numeric readings (counted in
// test_browser_round.py): tap the next checkpoint (or Scan its tag) → type, Enter →
// type, Enter → type, Enter (saves) = 4 taps; the next checkpoint then opens by itself,
// so from the second one on it is 3. Every change goes through the rounds API with the
// session cookie and the CSRF token; a visit carries a client-generated id, so a retry
// after a lost answer is stored once.
(function () {
  "use strict";

  // ------------------------------------------------------------ helpers

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
    if (meta && meta.getAttribute("content")) { return meta.getAttribute("content"); }
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function fmt(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (_, key) {
      return values && values[key] !== undefined ? String(values[key]) : "";
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "text") { node.textContent = value; } else { node.setAttribute(key, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  // POST to the API: JSON, or multipart when a FormData is given. Resolves with
  // {ok, status, body}; a network failure resolves with status 0.
  function post(url, payload) {
    var headers = { "X-CSRFToken": csrfToken(), "Accept": "application/json" };
    var body = payload;
    if (!(payload instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(payload || {});
    }
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: body })
      .then(function (response) {
        return response.text().then(function (text) {
          var parsed = null;
          try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
          return { ok: response.ok, status: response.status, body: parsed || {} };
        });
      }, function () { return { ok: false, status: 0, body: {} }; });
  }

  function sha256Hex(text) {
    if (!(window.crypto && window.crypto.subtle && window.TextEncoder)) { return Promise.resolve(""); }
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    });
  }

  function parseNumber(raw) {
    var text = String(raw || "").trim().replace(",", ".");
    if (text === "") { return null; }
    if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(text)) { return NaN; }
    return parseFloat(text);
  }

  // ------------------------------------------------------------ the offers list

  function setupClaimButtons() {
    var list = document.getElementById("offered-rounds");
    if (!list) { return; }
    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-claim-url]");
      if (!button) { return; }
      var card = button.closest("[data-round-id]");
      var error = card.querySelector("[data-claim-error]");
      button.disabled = true;
      post(button.getAttribute("data-claim-url"), {}).then(function (res) {
        if (res.ok) { window.location.assign(button.getAttribute("data-round-url")); return; }
        button.disabled = false;
        error.textContent = (res.body && res.body.detail) || list.getAttribute("data-msg-failed");
        if (res.status === 409) { button.classList.add("d-none"); }
      });
    });
  }

  // ------------------------------------------------------------ the round screen

  var ROUND_KINDS = ["start_round", "record_visit", "skip_point", "finish_round"];

  function outbox() { return window.FrontlineOutbox || null; }

  function RoundScreen(app, data, words) {
    this.app = app;
    this.queued = [];
    this.data = data;
    this.words = words;
    this.status = data.round.status;
    this.points = data.checkpoints;
    this.current = null;
    this.finishArmed = false;
    this.q = function (sel) { return app.querySelector(sel); };
    this.bar = document.querySelector("[data-action-bar]");
  }

  RoundScreen.prototype.init = function () {
    var self = this;
    document.addEventListener("click", function (event) {
      var action = event.target.closest("[data-action]");
      if (action && !action.disabled) { self.act(action.getAttribute("data-action"), action); }
      var pick = event.target.closest("[data-cp-id]");
      if (pick) { self.open(self.byId(Number(pick.getAttribute("data-cp-id"))), { scanned: false }); }
    });
    this.q("[data-code-form]").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = self.q("#code-input");
      self.openByCode(input.value, false);
      input.value = "";
    });
    this.q("[data-visit-form]").addEventListener("submit", function (event) {
      event.preventDefault();
      self.save();
    });
    this.renderList();
    this.syncState();
    if (this.status === "completed") { this.showResult(this.data.round); }
    this.loadQueued();
  };

  // ------------------------------------------------------------ offline (sync/outbox.js)
  //
  // Offline — or while earlier steps of this round still wait in the outbox, so nothing
  // overtakes them — start, visits, skips and finish are queued with the phone's time
  // and the visit's own client id; a visit's photos follow the data. A reload shows the
  // queued steps again on top of the page the phone kept.

  RoundScreen.prototype.viaOutbox = function () {
    var box = outbox();
    return !!box && (box.isOffline() || this.queued.length > 0);
  };

  RoundScreen.prototype.loadQueued = function () {
    var self = this;
    var box = outbox();
    if (!box) { return; }
    box.pending(function (row) {
      return row.target === self.data.round.id && ROUND_KINDS.indexOf(row.kind) !== -1;
    }).then(function (rows) {
      self.queued = rows;
      rows.forEach(function (row) { self.replay(row); });
      self.renderList();
      self.syncState();
      self.showWaiting();
    });
    box.onChange(function (event) {
      if (event.type !== "synced" || !self.queued.length || box.isOffline()) { return; }
      box.kept(function (row) { return row.target === self.data.round.id && ROUND_KINDS.indexOf(row.kind) !== -1; }).then(function (rows) {
        if (!rows.length) { window.location.reload(); }
      });
    });
  };

  // What a queued step changed, shown again.
  RoundScreen.prototype.replay = function (row) {
    if (row.kind === "start_round" && this.status === "scheduled") { this.status = "in_progress"; }
    if (row.kind === "record_visit" || row.kind === "skip_point") {
      var cp = this.byId(row.local && row.local.checkpoint);
      if (cp) { cp.done = { status: row.kind === "skip_point" ? "skipped" : "visited", recorded_at: row.device_at, queued: true }; }
      if (this.status === "scheduled") { this.status = "in_progress"; }
    }
    if (row.kind === "finish_round") {
      this.status = "completed";
      this.banner(this.words.finished_offline, "info");
    }
  };

  RoundScreen.prototype.showWaiting = function () {
    this.app.setAttribute("data-queued", String(this.queued.length));
  };

  RoundScreen.prototype.enqueue = function (kind, step) {
    var self = this;
    return outbox().queue({
      kind: kind, target: this.data.round.id, data: step.data, client_id: step.clientId,
      device_at: step.at, label: this.data.round.label + (step.cp ? " · " + step.cp.code : "") + " · " + (this.words["kind_" + kind] || kind),
      local: step.cp ? { checkpoint: step.cp.id } : null
    }).then(function (row) {
      var files = step.files || [];
      return Promise.all(files.map(function (f) {
        return outbox().queueUpload({
          purpose: "reading_photo", target: { round: self.data.round.id, checkpoint: step.cp.id, item: f.item },
          blob: f.file, filename: f.file.name, after: row.client_id, device_at: step.at,
          label: row.label
        });
      })).then(function () {
        self.queued.push(row);
        self.showWaiting();
        return { ok: true, queued: true, status: 202, body: {} };
      });
    });
  };

  // Online as before; offline (or when the request never reached the server) queued.
  RoundScreen.prototype.send = function (kind, url, body, step) {
    var self = this;
    if (this.viaOutbox()) { return this.enqueue(kind, step); }
    return post(url, body).then(function (res) {
      if (res.status !== 0 || !outbox()) { return res; }
      return self.enqueue(kind, step);
    });
  };

  function envelopeFree(payload) {
    var data = {};
    Object.keys(payload).forEach(function (key) {
      if (key !== "client_id" && key !== "recorded_at" && payload[key] !== null && payload[key] !== undefined) { data[key] = payload[key]; }
    });
    return data;
  }

  RoundScreen.prototype.byId = function (id) {
    for (var i = 0; i < this.points.length; i += 1) { if (this.points[i].id === id) { return this.points[i]; } }
    return null;
  };

  RoundScreen.prototype.remaining = function () {
    return this.points.filter(function (cp) { return !cp.done; });
  };

  RoundScreen.prototype.isOpen = function () {
    return this.status === "scheduled" || this.status === "in_progress";
  };

  RoundScreen.prototype.mayWork = function () {
    return this.isOpen() && !(this.data.round.offered && !this.data.round.assigned);
  };

  RoundScreen.prototype.banner = function (text, kind) {
    var box = this.q("[data-banner]");
    box.className = "alert alert-" + (kind || "danger") + (text ? "" : " d-none");
    box.setAttribute("data-kind", kind || "danger");
    box.textContent = text || "";
  };

  RoundScreen.prototype.syncState = function () {
    this.app.setAttribute("data-state", this.status);
    var offeredOnly = this.data.round.offered && !this.data.round.assigned;
    this.app.querySelector("[data-when=offered]").classList.toggle("d-none", !(offeredOnly && this.isOpen()));
    this.app.querySelector("[data-when=open]").classList.toggle("d-none", !this.mayWork());
    if (this.bar) {
      this.bar.classList.toggle("d-none", !this.mayWork());
      this.bar.querySelector("[data-action=start]").classList.toggle("d-none", this.status !== "scheduled");
      this.bar.querySelector("[data-action=finish]").classList.toggle("d-none", this.status !== "in_progress");
    }
    var done = this.points.length - this.remaining().length;
    this.q("[data-progress-done]").textContent = String(done);
  };

  // The list: the next expected checkpoint first (one tap opens it), then the others
  // still to do in route order, then those done.
  RoundScreen.prototype.renderList = function () {
    var list = this.q("[data-checkpoint-list]");
    var self = this;
    list.textContent = "";
    var todo = this.remaining();
    var done = this.points.filter(function (cp) { return cp.done; });
    todo.forEach(function (cp, index) {
      var next = index === 0 && self.mayWork();
      var button = el("button", {
        type: "button", "class": "list-group-item list-group-item-action d-flex align-items-center gap-2 py-3" + (next ? " checkpoint-next" : ""),
        "data-cp-id": String(cp.id), "data-testid": next ? "next-checkpoint" : "checkpoint", "data-code": cp.code,
        disabled: !self.mayWork()
      }, [
        next ? el("span", { "class": "badge text-bg-primary", text: self.words.next }) : null,
        el("span", { "class": "flex-grow-1 min-w-0 text-truncate" }, [
          el("code", { text: cp.code + " " }), document.createTextNode(cp.name)
        ]),
        el("i", { "class": "bi bi-chevron-right", "aria-hidden": "true" })
      ]);
      list.appendChild(el("li", { "class": "list-unstyled" }, [button]));
    });
    done.forEach(function (cp) {
      var skipped = cp.done.status === "skipped";
      list.appendChild(el("li", {
        "class": "list-group-item d-flex align-items-center gap-2 text-muted", "data-testid": "checkpoint-done",
        "data-code": cp.code, "data-status": cp.done.status, "data-queued": cp.done.queued ? "1" : null
      }, [
        el("i", { "class": "bi " + (skipped ? "bi-skip-forward text-warning" : "bi-check-circle-fill text-success"), "aria-hidden": "true" }),
        el("code", { text: cp.code }), document.createTextNode(cp.name),
        cp.done.queued ? el("i", { "class": "bi bi-cloud-arrow-up ms-auto text-primary", title: self.words.waiting, "aria-label": self.words.waiting }) : null
      ]));
    });
  };

  // ------------------------------------------------------------ opening a checkpoint

  RoundScreen.prototype.openByCode = function (raw, scanned) {
    var self = this;
    var code = String(raw || "").trim();
    if (!code) { return; }
    var upper = code.toUpperCase();
    var byCode = this.points.filter(function (cp) { return cp.code.toUpperCase() === upper; })[0];
    if (byCode && !scanned) { this.open(byCode, { scanned: false }); return; }
    sha256Hex(code).then(function (digest) {
      var match = self.points.filter(function (cp) { return digest && cp.qr === digest; })[0];
      if (match) { self.open(match, { scanned: scanned, qr: code }); return; }
      if (byCode) { self.open(byCode, { scanned: false }); return; }
      self.banner(fmt(self.words.unknown_code, { code: code.slice(0, 40) }), "warning");
    });
  };

  RoundScreen.prototype.open = function (cp, how) {
    if (!cp || !this.mayWork()) { return; }
    if (cp.done) { this.banner(fmt(this.words.already_done, { code: cp.code }), "info"); return; }
    how = how || {};
    var same = this.current && this.current.cp.id === cp.id;
    if (same && how.qr) {
      // Scanning the open checkpoint's tag after opening it from the list still counts.
      this.current.qr = how.qr;
      this.q("[data-cp-scanned]").classList.remove("d-none");
      return;
    }
    this.banner("");
    this.current = {
      cp: cp, clientId: uuid4(), qr: how.qr || null, skipId: uuid4(),
      // Opened by the engineer: they are there now. Opened by itself after the last
      // save: they arrive when they first touch it.
      startedAt: how.auto ? null : new Date().toISOString()
    };
    this.renderPanel(cp);
    var first = this.q("[data-visit-form] [data-entry]");
    if (first) { first.focus({ preventScroll: true }); }
    this.q("[data-checkpoint-panel]").scrollIntoView({ block: "start", behavior: "smooth" });
  };

  RoundScreen.prototype.touch = function () {
    if (this.current && !this.current.startedAt) { this.current.startedAt = new Date().toISOString(); }
  };

  RoundScreen.prototype.renderPanel = function (cp) {
    var panel = this.q("[data-checkpoint-panel]");
    var self = this;
    panel.classList.remove("d-none");
    panel.setAttribute("data-cp-code", cp.code);
    this.q("[data-cp-title]").textContent = cp.code + " " + cp.name;
    this.q("[data-cp-location]").textContent = cp.location || "";
    this.q("[data-cp-scanned]").classList.toggle("d-none", !this.current.qr);
    this.q("[data-visit-note]").value = "";
    this.q("[data-skip-reason]").value = "";
    this.q("[data-skip-note]").value = "";
    this.q("[data-skip-error]").textContent = "";
    this.q("[data-skip]").open = false;
    var box = this.q("[data-items]");
    box.textContent = "";
    cp.items.forEach(function (item) { box.appendChild(self.renderItem(item)); });
  };

  RoundScreen.prototype.renderItem = function (item) {
    var self = this;
    var id = "item-" + item.id;
    var range = rangeText(item, this.words);
    var wrap = el("div", {
      "class": "round-item", "data-item-id": String(item.id), "data-kind": item.kind, "data-testid": "item",
      "data-required": item.required ? "1" : "0"
    });
    wrap.appendChild(el("label", { "class": "form-label fw-semibold mb-1 d-flex justify-content-between gap-2", "for": id }, [
      el("span", { text: item.name + (item.unit ? " (" + item.unit + ")" : "") }),
      range ? el("span", { "class": "small text-muted fw-normal", "data-range": "", text: range }) : null
    ]));
    if (item.kind === "number" || item.kind === "text") {
      var input = el("input", {
        id: id, "class": "form-control form-control-lg", "data-entry": "", "data-testid": "item-input",
        type: "text", inputmode: item.kind === "number" ? "decimal" : null,
        enterkeyhint: "next", autocomplete: "off", maxlength: item.kind === "number" ? "24" : "500"
      });
      input.addEventListener("input", function () { self.touch(); self.checkRange(item, input, wrap); });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); self.advance(input); }
      });
      wrap.appendChild(input);
    } else if (item.kind === "yes_no" || item.kind === "choice") {
      var options = item.kind === "yes_no"
        ? [{ value: true, label: this.words.yes, bad: item.normal_answer !== true }, { value: false, label: this.words.no, bad: item.normal_answer !== false }]
        : item.choices.map(function (c) { return { value: c, label: c, bad: item.abnormal_choices.indexOf(c) >= 0 }; });
      var group = el("div", { "class": "d-flex flex-wrap gap-2 answer-buttons", role: "group", "aria-label": item.name });
      options.forEach(function (opt) {
        var button = el("button", {
          type: "button", "class": "btn btn-lg btn-outline-secondary flex-fill", "aria-pressed": "false",
          "data-answer": JSON.stringify(opt.value), "data-bad": opt.bad ? "1" : null, "data-testid": "answer", text: opt.label
        });
        button.addEventListener("click", function () { self.touch(); self.choose(wrap, button); });
        group.appendChild(button);
      });
      wrap.appendChild(group);
    }
    if (item.kind === "photo" || item.photo_required) {
      wrap.appendChild(el("input", {
        type: "file", accept: "image/*", capture: "environment", "class": "form-control mt-2",
        "data-photo": "", "data-testid": "item-photo", "aria-label": item.name
      }));
    }
    wrap.appendChild(el("div", { "class": "small mt-1", "data-item-hint": "" }));
    wrap.appendChild(el("div", { "class": "invalid-feedback d-block", "data-item-error": "", "data-testid": "item-error" }));
    return wrap;
  };

  function rangeText(item, words) {
    if (item.kind !== "number" || (item.min === null && item.max === null)) { return ""; }
    return words.normal + " " + (item.min === null ? "…" : item.min) + "–" + (item.max === null ? "…" : item.max);
  }

  // Out-of-range values turn red while typed; the server decides what is abnormal.
  RoundScreen.prototype.checkRange = function (item, input, wrap) {
    var hint = wrap.querySelector("[data-item-hint]");
    wrap.querySelector("[data-item-error]").textContent = "";
    input.classList.remove("is-invalid");
    var value = item.kind === "number" ? parseNumber(input.value) : null;
    var out = false;
    var text = "";
    if (item.kind === "number" && value !== null) {
      if (isNaN(value)) {
        out = true;
        text = this.words.not_a_number;
      } else if ((item.min !== null && value < parseFloat(item.min)) || (item.max !== null && value > parseFloat(item.max))) {
        out = true;
        text = this.words.out_of_range + " (" + rangeText(item, this.words) + ")";
      }
    }
    input.classList.toggle("reading-out", out);
    wrap.setAttribute("data-out", out ? "1" : "0");
    hint.className = "small mt-1" + (out ? " text-danger fw-semibold" : "");
    hint.textContent = text;
  };

  RoundScreen.prototype.choose = function (wrap, button) {
    wrap.querySelectorAll("[data-answer]").forEach(function (b) {
      var on = b === button;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("btn-outline-secondary", !on);
      b.classList.toggle("btn-success", on && !b.hasAttribute("data-bad"));
      b.classList.toggle("btn-danger", on && b.hasAttribute("data-bad"));
    });
    wrap.setAttribute("data-out", button.hasAttribute("data-bad") ? "1" : "0");
    wrap.querySelector("[data-item-error]").textContent = "";
    var entries = Array.prototype.slice.call(this.q("[data-visit-form]").querySelectorAll("[data-entry]"));
    var after = entries.filter(function (e) { return wrap.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING; })[0];
    if (after && !after.value) { after.focus({ preventScroll: true }); }
  };

  // Enter moves to the next field; on the last one it saves.
  RoundScreen.prototype.advance = function (input) {
    var entries = Array.prototype.slice.call(this.q("[data-visit-form]").querySelectorAll("[data-entry]"));
    var next = entries[entries.indexOf(input) + 1];
    if (next) { next.focus(); return; }
    // A yes/no or choice still unanswered: bring it up (one tap answers it) rather than
    // saving a visit the server would refuse.
    var open = Array.prototype.filter.call(this.q("[data-items]").querySelectorAll("[data-item-id]"), function (wrap) {
      return wrap.querySelector("[data-answer]") && !wrap.querySelector("[data-answer][aria-pressed=true]") &&
        wrap.getAttribute("data-required") === "1";
    })[0];
    if (open) {
      input.blur();
      open.scrollIntoView({ block: "center", behavior: "smooth" });
      open.querySelector("[data-answer]").focus({ preventScroll: true });
      return;
    }
    this.save();
  };

  // ------------------------------------------------------------ saving, skipping

  RoundScreen.prototype.collect = function () {
    var readings = [];
    var files = [];
    this.q("[data-items]").querySelectorAll("[data-item-id]").forEach(function (wrap) {
      var id = Number(wrap.getAttribute("data-item-id"));
      var kind = wrap.getAttribute("data-kind");
      var entry = wrap.querySelector("[data-entry]");
      var pressed = wrap.querySelector("[data-answer][aria-pressed=true]");
      if ((kind === "number" || kind === "text") && entry.value.trim() !== "") {
        readings.push({ item: id, value: kind === "number" ? entry.value.trim().replace(",", ".") : entry.value.trim() });
      } else if (pressed) {
        readings.push({ item: id, value: JSON.parse(pressed.getAttribute("data-answer")) });
      }
      var photo = wrap.querySelector("[data-photo]");
      if (photo && photo.files && photo.files[0]) { files.push({ item: id, file: photo.files[0] }); }
    });
    return { readings: readings, files: files };
  };

  RoundScreen.prototype.where = function (payload) {
    if (this.current.qr) { payload.qr = this.current.qr; } else { payload.checkpoint = this.current.cp.id; }
    return payload;
  };

  RoundScreen.prototype.save = function () {
    var self = this;
    var current = this.current;
    if (!current || this.busy) { return; }
    this.touch();
    var got = this.collect();
    var payload = this.where({
      readings: got.readings, client_id: current.clientId, started_at: current.startedAt,
      recorded_at: new Date().toISOString(), note: this.q("[data-visit-note]").value.trim()
    });
    if (current.qr) { payload.scanned = true; }
    var body = payload;
    if (got.files.length) {
      body = new FormData();
      Object.keys(payload).forEach(function (key) {
        if (payload[key] === null || payload[key] === undefined) { return; }
        body.append(key, key === "readings" ? JSON.stringify(payload[key]) : String(payload[key]));
      });
      got.files.forEach(function (f) { body.append("photo_" + f.item, f.file); });
    }
    var data = envelopeFree(payload);
    if (got.files.length) { data.photos_to_follow = got.files.map(function (f) { return f.item; }); }
    var step = { data: data, clientId: current.clientId, at: payload.recorded_at, cp: current.cp, files: got.files };
    this.busy = true;
    this.setBusy(true);
    this.send("record_visit", this.data.urls.visits, body, step).then(function (res) {
      self.busy = false;
      self.setBusy(false);
      if (res.ok) { self.done(current.cp, "visited", res.queued ? null : res.body, res.queued); return; }
      self.showErrors(res);
    });
  };

  RoundScreen.prototype.skip = function () {
    var self = this;
    var current = this.current;
    if (!current || this.busy) { return; }
    var reason = this.q("[data-skip-reason]").value;
    if (!reason) { this.q("[data-skip-error]").textContent = this.words.pick_reason; return; }
    var payload = this.where({
      reason: reason, note: this.q("[data-skip-note]").value.trim(), client_id: current.skipId,
      recorded_at: new Date().toISOString()
    });
    delete payload.scanned;
    this.busy = true;
    var step = { data: envelopeFree(payload), clientId: current.skipId, at: payload.recorded_at, cp: current.cp };
    this.send("skip_point", this.data.urls.skip, payload, step).then(function (res) {
      self.busy = false;
      if (res.ok) { self.done(current.cp, "skipped", res.queued ? null : res.body, res.queued); return; }
      var fields = (res.body && res.body.fields) || {};
      var first = fields.reason || fields.note || fields.checkpoint;
      self.q("[data-skip-error]").textContent = first ? first[0] : "";
      self.showErrors(res, true);
    });
  };

  RoundScreen.prototype.setBusy = function (on) {
    var button = this.q("[data-testid=save-next]");
    if (button) { button.disabled = on; }
  };

  RoundScreen.prototype.done = function (cp, status, visit, queued) {
    cp.done = { status: status, recorded_at: (visit && visit.recorded_at) || new Date().toISOString(), queued: !!queued };
    if (this.status === "scheduled") { this.status = "in_progress"; }
    this.current = null;
    this.finishArmed = false;
    this.q("[data-checkpoint-panel]").classList.add("d-none");
    this.renderList();
    this.syncState();
    var next = this.remaining()[0];
    var said = queued ? (status === "skipped" ? "skipped_offline" : "saved_offline") : (status === "skipped" ? "skipped" : "saved");
    this.banner(fmt(this.words[said], { code: cp.code }) +
      (next ? "" : " " + this.words.all_done), "success");
    if (next) { this.open(next, { auto: true }); }
  };

  // A 400 names the item (fields "readings.<id>") or the field; 409 and the rest are a banner.
  RoundScreen.prototype.showErrors = function (res, quiet) {
    var self = this;
    if (res.status === 0) { this.banner(this.words.offline, "warning"); return; }
    var body = res.body || {};
    var fields = body.fields || {};
    var placed = false;
    Object.keys(fields).forEach(function (key) {
      var match = /^readings\.(\d+)$/.exec(key);
      var wrap = match ? self.q("[data-items] [data-item-id='" + match[1] + "']") : null;
      if (!wrap) { return; }
      wrap.querySelector("[data-item-error]").textContent = fields[key].join(" ");
      var entry = wrap.querySelector("[data-entry]");
      if (entry) { entry.classList.add("is-invalid"); }
      if (!placed && entry) { entry.focus(); }
      placed = true;
    });
    if (!placed || res.status !== 400) {
      var other = Object.keys(fields).filter(function (k) { return !/^readings\./.test(k) && res.status === 400; })
        .map(function (k) { return fields[k].join(" "); });
      if (!quiet || res.status !== 400) { this.banner(other.length ? other.join(" ") : (body.detail || this.words.failed), "danger"); }
    }
    if (res.status === 409) { this.conflict(body); }
  };

  // Another device recorded this checkpoint, or the round closed meanwhile: follow the server.
  RoundScreen.prototype.conflict = function (body) {
    if (body.code === "already_visited" && this.current) {
      this.done(this.current.cp, "visited", null);
      this.banner(body.detail || this.words.failed, "warning");
    } else if (body.code === "round_closed") {
      var status = body.fields && body.fields.status && body.fields.status[0];
      this.status = status || this.status;
      this.current = null;
      this.q("[data-checkpoint-panel]").classList.add("d-none");
      this.renderList();
      this.syncState();
    }
  };

  // ------------------------------------------------------------ claim, start, finish

  RoundScreen.prototype.act = function (action, button) {
    var self = this;
    if (action === "scan") { this.scanner().start(); return; }
    if (action === "scan-stop") { this.scanner().stop(); return; }
    if (action === "skip") { this.skip(); return; }
    if (action === "claim") {
      if (outbox() && outbox().isOffline()) { this.banner(this.words.claim_offline, "warning"); return; }
      button.disabled = true;
      post(this.data.urls.claim, {}).then(function (res) {
        button.disabled = false;
        if (!res.ok) { self.showErrors(res); return; }
        self.data.round.assigned = true;
        self.data.round.offered = false;
        self.banner("");
        self.renderList();
        self.syncState();
      });
      return;
    }
    if (action === "start") {
      button.disabled = true;
      var at = new Date().toISOString();
      this.send("start_round", this.data.urls.start, { at: at }, { data: {}, at: at }).then(function (res) {
        button.disabled = false;
        if (!res.ok) { self.showErrors(res); return; }
        self.status = "in_progress";
        self.syncState();
        var next = self.remaining()[0];
        if (next && !self.current) { self.open(next, { auto: true }); }
      });
      return;
    }
    if (action === "finish") { this.finish(button); }
  };

  RoundScreen.prototype.finish = function (button) {
    var self = this;
    var left = this.remaining().length;
    if (left && !this.finishArmed) {
      this.finishArmed = true;
      this.banner(fmt(this.words.finish_confirm, { n: left }), "warning");
      return;
    }
    button.disabled = true;
    var at = new Date().toISOString();
    this.send("finish_round", this.data.urls.finish, { at: at }, { data: {}, at: at }).then(function (res) {
      button.disabled = false;
      if (!res.ok) { self.finishArmed = false; self.showErrors(res); return; }
      if (res.queued) {
        self.status = "completed";
        self.current = null;
        self.q("[data-checkpoint-panel]").classList.add("d-none");
        self.banner(self.words.finished_offline, "info");
        self.renderList();
        self.syncState();
        return;
      }
      self.status = res.body.status || "completed";
      self.current = null;
      self.q("[data-checkpoint-panel]").classList.add("d-none");
      self.banner(self.words.finished, "success");
      self.renderList();
      self.syncState();
      if (res.body.quality_parts) { self.showResult(res.body); return; }
      fetch(self.data.urls.detail, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : res.body; }, function () { return res.body; })
        .then(function (round) { self.showResult(round || res.body); });
    });
  };

  RoundScreen.prototype.showResult = function (round) {
    var box = this.q("[data-result]");
    var words = this.words;
    box.classList.remove("d-none");
    var score = round.quality_score;
    this.q("[data-result-score]").textContent = score === null || score === undefined ? "—" : String(Math.round(parseFloat(score)));
    var list = this.q("[data-result-parts]");
    list.textContent = "";
    var parts = round.quality_parts || {};
    ["coverage", "timeliness", "anomalies", "pace", "photos"].forEach(function (key) {
      var part = parts[key];
      if (!part) { return; }
      list.appendChild(el("li", { "class": "d-flex justify-content-between", "data-part": key }, [
        el("span", { text: words["part_" + key] || key }),
        el("span", { "class": "fw-semibold", text: Math.round(Number(part.score) * 100) + " × " + part.weight })
      ]));
    });
    box.scrollIntoView({ block: "start", behavior: "smooth" });
  };

  // ------------------------------------------------------------ the camera (qr-scan.js)

  RoundScreen.prototype.scanner = function () {
    var self = this;
    if (!this._scanner) {
      this._scanner = window.FrontlineQrScanner.create({
        panel: this.q("[data-scan-panel]"), video: this.q("[data-scan-video]"), canvas: this.q("[data-scan-canvas]"),
        found: function (value) { self.openByCode(value, true); },
        failed: function () { self.banner(self.words.camera_failed, "warning"); self.q("#code-input").focus(); }
      });
    }
    return this._scanner;
  };

  // ------------------------------------------------------------ start

  document.addEventListener("DOMContentLoaded", function () {
    setupClaimButtons();
    var app = document.getElementById("round-app");
    var data = readJson("round-data");
    if (!app || !data) { return; }
    var screen = new RoundScreen(app, data, readJson("round-strings") || {});
    screen.init();
    app.roundScreen = screen;
  });
})();
