// Reads a checkpoint's QR tag with the phone's camera: getUserMedia into a <video>,
// frames decoded by the browser's BarcodeDetector when it has one, else by jsQR
// (/static/vendor/jsqr/jsQR.js) from a canvas. Loaded as a file before round.js.
(function () {
  "use strict";

  function create(opts) {
    var panel = opts.panel;
    var video = opts.video;
    var canvas = opts.canvas;
    var stream = null;
    var timer = null;
    var detector = null;
    if ("BarcodeDetector" in window) {
      try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; }
    }

    function later(ms) { timer = window.setTimeout(frame, ms); }

    function stop() {
      if (timer) { window.clearTimeout(timer); timer = null; }
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
      panel.classList.add("d-none");
    }

    function found(value) {
      stop();
      opts.found(value);
    }

    function frame() {
      if (!stream) { return; }
      if (video.readyState < 2) { later(150); return; }
      if (detector) {
        detector.detect(video).then(function (codes) {
          if (codes.length) { found(codes[0].rawValue); } else { later(150); }
        }, function () { detector = null; later(150); });
        return;
      }
      if (typeof window.jsQR !== "function") { return; }
      var w = video.videoWidth;
      var h = video.videoHeight;
      canvas.width = w;
      canvas.height = h;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, w, h);
      var code = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
      if (code && code.data) { found(code.data); return; }
      later(200);
    }

    function start() {
      if (stream) { return; }
      if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) { opts.failed(); return; }
      panel.classList.remove("d-none");
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
        stream = s;
        video.srcObject = s;
        var playing = video.play();
        if (playing && playing.catch) { playing.catch(function () {}); }
        frame();
      }, function () {
        stop();
        opts.failed();
      });
    }

    return { start: start, stop: stop };
  }

  window.FrontlineQrScanner = { create: create };
})();
