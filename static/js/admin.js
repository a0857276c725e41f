// The Django admin's own widgets, named for assistive technology: the autocomplete boxes
// (select2) take their field's label, the two halves of a date-time field are called Date and
// Time, and the filter boxes' search icons get a role that allows their label. Runs after the
// admin's scripts have built the widgets (on load).
window.addEventListener("load", function () {
  setTimeout(function () {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      if (!label) return;
      var name = label.textContent.replace(/:\s*$/, "").trim();
      select.parentElement.querySelectorAll(".select2-selection, .select2-selection__rendered")
        .forEach(function (part) { part.setAttribute("aria-label", name); });
    });
    document.querySelectorAll("p.datetime input").forEach(function (input) {
      if (!input.labels || !input.labels.length) {
        input.setAttribute("aria-label", /_1$/.test(input.id) ? "Time" : "Date");
      }
    });
    document.querySelectorAll(".help-tooltip.search-label-icon").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }, 0);
});
