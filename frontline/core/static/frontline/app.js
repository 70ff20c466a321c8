// Frontline page behaviour. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  // Filter forms marked data-autosubmit submit when a select changes.
  document.addEventListener("change", function (event) {
    var el = event.target;
    var form = el.form;
    if (form && form.hasAttribute("data-filter-form") && el.tagName === "SELECT") {
      if (window.htmx) { htmx.trigger(form, "submit"); } else { form.submit(); }
    }
  });
  // Confirmation for dangerous buttons: <button data-confirm="...">
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  // Signing out drops the pages the phone app kept for offline use (sync/outbox.js).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-sign-out]")) { return; }
    try {
      window.localStorage.removeItem("frontline-kept-at");
      window.localStorage.removeItem("frontline-kept-user");
    } catch (e) { /* storage disabled */ }
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget" });
    }
  });
  // Copy buttons: <button data-copy="#selector">
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-copy]");
    if (!el) { return; }
    var target = document.querySelector(el.getAttribute("data-copy"));
    if (target && navigator.clipboard) { navigator.clipboard.writeText(target.textContent.trim()); }
  });
})();
