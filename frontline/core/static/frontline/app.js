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
  // Copy buttons: <button data-copy="#selector">
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-copy]");
    if (!el) { return; }
    var target = document.querySelector(el.getAttribute("data-copy"));
    if (target && navigator.clipboard) { navigator.clipboard.writeText(target.textContent.trim()); }
  });
})();
