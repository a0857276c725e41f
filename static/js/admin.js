// The Django admin's own widgets, named for assistive technology: the autocomplete boxes
// (select2) take their field's label, the two halves of a date-time field are called Date and
// Time, the filter boxes' search icons get a role that allows their label, and the search box
// is named, and so is the inline tables' first column (the saved record's name, whose header
// Django leaves empty). Runs after the admin's scripts have built the widgets (on load).
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
    document.querySelectorAll("th.original").forEach(function (header) {
      if (header.textContent.trim()) return;
      var name = document.createElement("span");
      name.className = "visually-hidden";
      name.textContent = "Saved record";
      header.appendChild(name);
    });
    var searchbar = document.getElementById("searchbar");
    if (searchbar) searchbar.setAttribute("aria-label", "Search");  // its label is an icon
    reachScrollers();
  }, 0);
});

// A box that scrolls sideways (an inline table or a history list on a phone) can be reached
// and scrolled with the keyboard; checked again, once per frame at most, when the window's
// width changes.
function reachScrollers() {
  document.querySelectorAll("#content *").forEach(function (box) {
    var overflow = getComputedStyle(box).overflowX;
    if ((overflow === "auto" || overflow === "scroll") && box.scrollWidth > box.clientWidth
        && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
    }
  });
}
var scrollersCheck = 0;
window.addEventListener("resize", function () {
  cancelAnimationFrame(scrollersCheck);
  scrollersCheck = requestAnimationFrame(reachScrollers);
});
