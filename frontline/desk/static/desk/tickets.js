// Ticket pages. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  // Staff intake: once a customer is chosen, the contact, project, site and asset lists
  // offer only that customer's entries (each <option> carries data-customer).
  function narrow(form) {
    var customer = form.querySelector("select[name=customer]");
    if (!customer) { return; }
    var chosen = customer.value;
    form.querySelectorAll("select[data-by-customer]").forEach(function (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        var owner = option.getAttribute("data-customer");
        var hide = Boolean(chosen && owner && owner !== chosen);
        option.hidden = hide;
        option.disabled = hide;
        if (hide && option.selected) { select.value = ""; }
      });
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-ticket-intake") && event.target.name === "customer") {
      narrow(form);
    }
  });
  document.querySelectorAll("form[data-ticket-intake]").forEach(narrow);
})();
