// The phone's outbox: what the engineer does without a signal is kept here (IndexedDB)
// and sent to POST /api/v1/sync/ when the connection is back (on the "online" event,
// when a page opens online, every minute while something waits, and by the Sync button).
//
// - Every action has a client-generated id and the device's time; the server applies a
//   retried id once and answers the first result, so sending twice is harmless.
// - Actions go in the order they were taken. One the server refuses (rejected, or
//   "taken back": the job was reassigned or cancelled meanwhile) is kept as a problem
//   with the server's reason, and so are the later actions on the same job or round,
//   which the server did not apply ("skipped"); the engineer reads them and dismisses.
// - Photos are sent after the data, in chunks: a dropped connection resumes at the
//   last chunk the server acknowledged.
// - The queue belongs to the signed-in user (a shared phone keeps each one's own).
// It also registers the service worker (/sw.js) that keeps the pages for offline use.
(function () {
  "use strict";

  var DB_NAME = "frontline-outbox";
  var DB_VERSION = 1;
  var BATCH = 500;
  // Kinds whose target is a round (frontline/sync/states.py ROUND_KINDS); the rest act on work orders.
  var ROUND_KINDS = ["start_round", "record_visit", "skip_point", "finish_round"];
  var CHUNK = 256 * 1024;
  var RETRY_MS = 60000;
  var REFRESH_MS = 5 * 60000;

  function uuid4() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function fmt(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (_, key) {
      return values && values[key] !== undefined ? String(values[key]) : "";
    });
  }

  // The cookie is the fresh one (a page kept for days carries an old token in its meta).
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  function isOffline() { return navigator.onLine === false; }

  // ------------------------------------------------------------ IndexedDB

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        var open = window.indexedDB.open(DB_NAME, DB_VERSION);
        open.onupgradeneeded = function () {
          var d = open.result;
          var actions = d.createObjectStore("actions", { keyPath: "seq", autoIncrement: true });
          actions.createIndex("client_id", "client_id", { unique: true });
          d.createObjectStore("uploads", { keyPath: "client_id" });
          d.createObjectStore("meta", { keyPath: "key" });
        };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
    }
    return dbPromise;
  }

  function tx(stores, mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(stores, mode);
        var result;
        Promise.resolve(work(t)).then(function (value) { result = value; }, reject);
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }

  function all(store) {
    return tx([store], "readonly", function (t) { return request(t.objectStore(store).getAll()); });
  }

  function put(store, value) {
    return tx([store], "readwrite", function (t) { return request(t.objectStore(store).put(value)); });
  }

  function remove(store, key) {
    return tx([store], "readwrite", function (t) { return request(t.objectStore(store).delete(key)); });
  }

  // ------------------------------------------------------------ who and where

  var bar = null;
  var user = "";
  var listeners = [];

  function deviceId() {
    return tx(["meta"], "readwrite", function (t) {
      var store = t.objectStore("meta");
      return request(store.get("device_id")).then(function (found) {
        if (found) { return found.value; }
        var id = "web-" + uuid4();
        store.put({ key: "device_id", value: id });
        return id;
      });
    });
  }

  function mine(rows) { return rows.filter(function (row) { return row.user === user; }); }

  function actions() {
    return all("actions").then(function (rows) {
      return mine(rows).sort(function (a, b) { return a.seq - b.seq; });
    });
  }

  function uploads() {
    return all("uploads").then(function (rows) {
      return mine(rows).sort(function (a, b) { return a.queued_at < b.queued_at ? -1 : 1; });
    });
  }

  // ------------------------------------------------------------ queueing

  // action: {kind, target, data, label, client_id?, device_at?, local?}; ``local`` is
  // what the page needs to show the step again after a reload (never sent). Resolves
  // with the row.
  function queue(action) {
    var row = {
      client_id: action.client_id || uuid4(),
      user: user,
      kind: action.kind,
      target: Number(action.target),
      device_at: action.device_at || new Date().toISOString(),
      data: action.data || {},
      label: action.label || action.kind,
      local: action.local || null,
      state: "queued",
      problem: null
    };
    return put("actions", row).then(function (seq) {
      row.seq = seq;
      changed();
      if (!isOffline()) { later(0); }
      return row;
    });
  }

  function hex(digest) {
    return Array.prototype.map.call(new Uint8Array(digest), function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
  }

  // upload: {purpose, target, blob, filename, label, after?, device_at?}. The photo's
  // bytes are copied into the outbox (a picked file is only a reference to the camera's
  // file, which may change or go); its checksum lets the server verify the reassembled file.
  function queueUpload(upload) {
    var type = upload.blob.type || "application/octet-stream";
    return upload.blob.arrayBuffer().then(function (buffer) {
      return window.crypto.subtle.digest("SHA-256", buffer).then(function (digest) {
        return { blob: new Blob([buffer], { type: type }), digest: hex(digest) };
      });
    }).then(function (copy) {
      var digest = copy.digest;
      upload.blob = copy.blob;
      var row = {
        client_id: uuid4(),
        user: user,
        purpose: upload.purpose,
        target: upload.target,
        blob: upload.blob,
        filename: (upload.filename || "photo.jpg").slice(0, 200),
        content_type: upload.blob.type || "application/octet-stream",
        size: upload.blob.size,
        sha256: digest,
        device_at: upload.device_at || new Date().toISOString(),
        after: upload.after || null,
        label: upload.label || upload.purpose,
        queued_at: new Date().toISOString(),
        offset: 0,
        state: "queued",
        problem: null
      };
      return put("uploads", row).then(function () { changed(); return row; });
    });
  }

  function pending(filter) {
    return actions().then(function (rows) {
      return rows.filter(function (row) { return row.state === "queued" && (!filter || filter(row)); });
    });
  }

  // Every action of this user still on the phone, waiting or refused.
  function kept(filter) {
    return actions().then(function (rows) { return rows.filter(function (row) { return !filter || filter(row); }); });
  }

  // Anything to send: queued actions, or photos still to upload.
  function anything() {
    return Promise.all([actions(), uploads()]).then(function (got) {
      return got[0].concat(got[1]).some(function (row) { return row.state === "queued"; });
    });
  }

  function dismiss(kind, key) {
    return remove(kind === "upload" ? "uploads" : "actions", key).then(changed);
  }

  // ------------------------------------------------------------ sending

  function send(url, options) {
    options.credentials = "same-origin";
    options.headers = Object.assign({ "X-CSRFToken": csrfToken(), Accept: "application/json" }, options.headers || {});
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        return { ok: response.ok, status: response.status, body: body || {} };
      });
    }, function () { return { ok: false, status: 0, body: {} }; });
  }

  function problem(row, status, result) {
    row.state = "problem";
    row.problem = {
      status: status,
      code: (result && result.code) || status,
      detail: (result && result.detail) || "",
      fields: (result && result.fields) || {}
    };
    return row;
  }

  // One batch: the results say what became of each action, by its client id.
  function sendBatch(rows) {
    return deviceId().then(function (device) {
      var body = {
        device_id: device,
        actions: rows.map(function (row) {
          return { client_id: row.client_id, kind: row.kind, target: row.target, device_at: row.device_at, data: row.data };
        })
      };
      return send(bar.getAttribute("data-sync-url"), {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
      });
    }).then(function (res) {
      if (!res.ok) { return res; }
      var byId = {};
      (res.body.results || []).forEach(function (r) { byId[r.client_id] = r; });
      return tx(["actions"], "readwrite", function (t) {
        var store = t.objectStore("actions");
        rows.forEach(function (row) {
          var r = byId[row.client_id];
          if (!r) { return; }
          if (r.status === "applied" || r.status === "replayed") {
            store.delete(row.seq);
          } else if (r.status === "skipped") {
            store.put(problem(row, "skipped", { code: "skipped", detail: bar.getAttribute("data-msg-held") }));
          } else {
            store.put(problem(row, r.status, r.result));
          }
        });
      }).then(function () { return res; });
    });
  }

  // The work order's or round's key of an action (the server holds later actions per target).
  function targetOf(row) {
    return (ROUND_KINDS.indexOf(row.kind) >= 0 ? "round:" : "work_order:") + row.target;
  }

  // A 400 names the refused actions by position ("actions.<n>.<field>"): {n: {field: [..]}}.
  function refusedAt(res, count) {
    var at = {};
    var fields = (res.body && res.body.fields) || {};
    Object.keys(fields).forEach(function (key) {
      var m = /^actions\.(\d+)(?:\.(.+))?$/.exec(key);
      if (!m || Number(m[1]) >= count) { return; }
      at[m[1]] = at[m[1]] || {};
      at[m[1]][m[2] || "non_field_errors"] = fields[key];
    });
    return at;
  }

  // Keep the refused rows as problems, and hold the later queued actions on their work
  // (they would follow a step the server never took); the engineer reads and dismisses.
  function keepRefused(rows, at, res) {
    var firstRefused = {};
    rows.forEach(function (row, i) {
      var key = targetOf(row);
      if (at[i] && !(firstRefused[key] <= row.seq)) { firstRefused[key] = row.seq; }
    });
    return pending().then(function (queued) {
      return tx(["actions"], "readwrite", function (t) {
        var store = t.objectStore("actions");
        rows.forEach(function (row, i) {
          if (at[i]) { store.put(problem(row, "rejected", { code: res.body.code || res.status, detail: res.body.detail, fields: at[i] })); }
        });
        queued.forEach(function (row) {
          var first = firstRefused[targetOf(row)];
          if (first === undefined || row.seq <= first || rows.some(function (r, i) { return at[i] && r.seq === row.seq; })) { return; }
          store.put(problem(row, "skipped", { code: "skipped", detail: bar.getAttribute("data-msg-held") }));
        });
      });
    });
  }

  // Batches in order. The server refuses a whole batch it cannot read: a malformed action
  // (400 naming it: from an older version of this page, say) or a body over its size
  // limit (413). Neither may stop the queue for good: the named actions are kept as
  // problems and the rest sent again; a batch too large is sent in halves, down to a
  // single action, which is then kept as a problem.
  function syncActions(size) {
    size = size || BATCH;
    return pending().then(function (rows) {
      if (!rows.length) { return { ok: true, status: 200 }; }
      var batch = rows.slice(0, size);
      return sendBatch(batch).then(function (res) {
        if (res.ok) { return rows.length > batch.length ? syncActions(size) : res; }
        if (res.status === 400) {
          var at = refusedAt(res, batch.length);
          if (!Object.keys(at).length) { return res; }
          return keepRefused(batch, at, res).then(function () { return syncActions(size); });
        }
        if (res.status !== 413) { return res; }
        if (batch.length > 1) { return syncActions(Math.ceil(batch.length / 2)); }
        var tooLarge = { code: "too_large", detail: bar.getAttribute("data-msg-too-large") };
        return keepRefused(batch, { 0: {} }, { status: 413, body: tooLarge }).then(function () { return syncActions(size); });
      });
    });
  }

  function uploadState(row, body) {
    if (typeof body.offset === "number") { row.offset = body.offset; }
    return body.status || "open";
  }

  // Create (or find again) the upload on the server, then send the rest from its offset.
  function sendUpload(row) {
    var base = bar.getAttribute("data-upload-url");
    var create = {
      client_id: row.client_id, purpose: row.purpose, target: row.target, filename: row.filename,
      content_type: row.content_type, size: row.size, sha256: row.sha256, device_at: row.device_at
    };
    return send(base, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(create) })
      .then(function (res) {
        if (!res.ok) { return res; }
        return chunks(row, base + row.client_id + "/", uploadState(row, res.body));
      });
  }

  function chunks(row, url, status) {
    if (status === "done") { return remove("uploads", row.client_id).then(function () { return { ok: true, status: 200 }; }); }
    if (status === "failed") { return { ok: false, status: 409, body: { code: "checksum_mismatch" } }; }
    var piece = row.blob.slice(row.offset, Math.min(row.size, row.offset + CHUNK));
    return send(url, {
      method: "PATCH",
      headers: { "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(row.offset) },
      body: piece
    }).then(function (res) {
      if (res.status === 409 && res.body && res.body.code === "offset_mismatch") {
        uploadState(row, res.body);
        return put("uploads", row).then(function () { return chunks(row, url, "open"); });
      }
      if (!res.ok) { return res; }
      var next = uploadState(row, res.body);
      return put("uploads", row).then(function () { changed(); return chunks(row, url, next); });
    });
  }

  function syncUploads() {
    return Promise.all([uploads(), actions()]).then(function (got) {
      var rows = got[0];
      var waiting = {};
      got[1].forEach(function (a) { waiting[a.client_id] = a; });
      var step = function (i) {
        if (i >= rows.length) { return Promise.resolve({ ok: true, status: 200 }); }
        var row = rows[i];
        if (row.state !== "queued") { return step(i + 1); }
        var before = row.after ? waiting[row.after] : null;
        if (before && before.state === "queued") { return step(i + 1); }
        if (before && before.state === "problem") {
          problem(row, "skipped", { code: "skipped", detail: bar.getAttribute("data-msg-held") });
          return put("uploads", row).then(function () { return step(i + 1); });
        }
        return sendUpload(row).then(function (res) {
          if (res.ok) { return step(i + 1); }
          if (res.status === 0 || res.status === 401 || res.status === 403 || res.status === 429 || res.status >= 500) { return res; }
          problem(row, "rejected", res.body);
          return put("uploads", row).then(function () { return step(i + 1); });
        });
      };
      return step(0);
    });
  }

  var running = null;
  var lastResult = "";

  function sync() {
    if (running) { return running; }
    if (!bar) { return Promise.resolve(); }
    if (isOffline()) { render(); return Promise.resolve(); }
    lastResult = "syncing";
    render();
    running = syncActions().then(function (res) {
      return res.ok ? syncUploads() : res;
    }).then(function (res) {
      lastResult = res.ok ? "synced" : res.status === 0 ? "offline" :
        (res.status === 401 || res.status === 403) ? "signin" : "failed";
    }, function () { lastResult = "failed"; }).then(function () {
      running = null;
      changed();
      emit({ type: "synced", result: lastResult });
    });
    return running;
  }

  var timer = null;
  function later(ms) {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(function () { timer = null; sync(); }, ms);
  }

  // ------------------------------------------------------------ what the engineer sees

  function emit(event) { listeners.forEach(function (fn) { try { fn(event); } catch (e) { /* a page's own problem */ } }); }

  function changed() {
    render();
    emit({ type: "changed" });
  }

  function problemItem(row, kind, key) {
    var li = document.createElement("li");
    li.className = "list-group-item small d-flex justify-content-between align-items-start gap-2";
    li.setAttribute("data-testid", "sync-problem");
    li.setAttribute("data-status", row.problem.status);
    li.setAttribute("data-code", row.problem.code);
    var text = document.createElement("div");
    var title = document.createElement("div");
    title.className = "fw-semibold";
    title.textContent = row.label + " · " + (bar.getAttribute("data-msg-status-" + row.problem.status) || row.problem.status);
    var reason = document.createElement("div");
    var fields = Object.keys(row.problem.fields || {}).map(function (k) { return [].concat(row.problem.fields[k]).join(" "); });
    reason.textContent = [row.problem.detail].concat(fields).filter(Boolean).join(" ");
    text.appendChild(title);
    text.appendChild(reason);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-secondary";
    button.textContent = bar.getAttribute("data-msg-dismiss");
    button.setAttribute("data-testid", "sync-dismiss");
    button.addEventListener("click", function () { dismiss(kind, key); });
    li.appendChild(text);
    li.appendChild(button);
    return li;
  }

  function render() {
    if (!bar) { return; }
    Promise.all([actions(), uploads()]).then(function (got) {
      var waiting = got[0].filter(function (r) { return r.state === "queued"; }).length +
        got[1].filter(function (r) { return r.state === "queued"; }).length;
      var problems = got[0].filter(function (r) { return r.state === "problem"; });
      var stuck = got[1].filter(function (r) { return r.state === "problem"; });
      var text = bar.querySelector("[data-outbox-text]");
      var state = isOffline() ? "offline" : (running ? "syncing" : lastResult);
      var parts = [];
      if (waiting) { parts.push(fmt(bar.getAttribute("data-msg-waiting"), { n: waiting })); }
      if (state === "offline") { parts.push(bar.getAttribute("data-msg-offline")); }
      else if (state && bar.getAttribute("data-msg-" + state) && (waiting || state !== "synced" || problems.length)) {
        parts.push(bar.getAttribute("data-msg-" + state));
      }
      text.textContent = parts.join(" ");
      bar.setAttribute("data-waiting", String(waiting));
      bar.setAttribute("data-state", state || "idle");
      var count = bar.querySelector("[data-outbox-count]");
      if (count) { count.textContent = String(waiting); }
      var button = bar.querySelector("[data-outbox-sync]");
      button.disabled = isOffline() || !!running || !waiting;
      var list = bar.querySelector("[data-outbox-problems]");
      list.textContent = "";
      problems.forEach(function (row) { list.appendChild(problemItem(row, "action", row.seq)); });
      stuck.forEach(function (row) { list.appendChild(problemItem(row, "upload", row.client_id)); });
      var show = waiting > 0 || problems.length > 0 || stuck.length > 0 || isOffline() || state === "signin" || state === "failed";
      bar.classList.toggle("d-none", !show);
      bar.classList.toggle("outbox-offline", isOffline());
    }, function () { /* no IndexedDB: nothing can be queued either */ });
  }

  // ------------------------------------------------------------ the service worker

  function keepPages(force) {
    if (!("serviceWorker" in navigator) || isOffline()) { return; }
    var last = Number(window.localStorage.getItem("frontline-kept-at") || 0);
    if (!force && Date.now() - last < REFRESH_MS) { markReady(); return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) { registration.active.postMessage({ type: "refresh" }); }
    });
  }

  function markReady(pages) {
    var note = document.querySelector("[data-offline-ready]");
    if (!note) { return; }
    note.setAttribute("data-ready", "1");
    if (pages !== undefined) { note.textContent = fmt(note.getAttribute("data-msg-kept"), { n: pages }); }
  }

  // The pages kept on this phone are one engineer's: when another signs in, they go
  // before this one's day is kept (sign-out from any menu also drops them).
  function forgetOthersPages(registration) {
    var keptFor = window.localStorage.getItem("frontline-kept-user");
    window.localStorage.setItem("frontline-kept-user", user);
    if (keptFor === null || keptFor === user || !registration.active) { return false; }
    registration.active.postMessage({ type: "forget" });
    window.localStorage.removeItem("frontline-kept-at");
    return true;
  }

  function setupWorker() {
    if (!("serviceWorker" in navigator) || !bar) { return; }
    var url = bar.getAttribute("data-worker-url");
    navigator.serviceWorker.register(url, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      keepPages(forgetOthersPages(registration));
    }, function () { /* not a secure context */ });
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.type === "kept" && !data.failed) {
        window.localStorage.setItem("frontline-kept-at", String(Date.now()));
        markReady(data.pages);
      }
    });
    document.querySelectorAll("form[data-sign-out]").forEach(function (form) {
      form.addEventListener("submit", function () {
        window.localStorage.removeItem("frontline-kept-at");
        window.localStorage.removeItem("frontline-kept-user");
        if (navigator.serviceWorker.controller) { navigator.serviceWorker.controller.postMessage({ type: "forget" }); }
      });
    });
  }

  // ------------------------------------------------------------ start

  function start() {
    bar = document.querySelector("[data-outbox]");
    if (!bar) { return; }
    user = String(bar.getAttribute("data-user") || "");
    bar.querySelector("[data-outbox-sync]").addEventListener("click", function () { sync(); });
    window.addEventListener("online", function () { render(); sync().then(function () { keepPages(true); }); });
    window.addEventListener("offline", render);
    window.setInterval(function () {
      if (!isOffline()) { anything().then(function (some) { if (some) { sync(); } }); }
    }, RETRY_MS);
    setupWorker();
    render();
    if (!isOffline()) { anything().then(function (some) { if (some) { sync(); } }); }
  }

  window.FrontlineOutbox = {
    uuid4: uuid4,
    isOffline: isOffline,
    queue: queue,
    queueUpload: queueUpload,
    pending: pending,
    kept: kept,
    sync: sync,
    onChange: function (fn) { listeners.push(fn); },
    keepPages: keepPages
  };

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
