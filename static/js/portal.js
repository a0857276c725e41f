// The phone-width menu: the nav stays open without JavaScript; with it, a button toggles it.
document.addEventListener("DOMContentLoaded", function () {
  var bar = document.querySelector("[data-layout=portal]");
  var toggle = bar && bar.querySelector(".nav-toggle");
  var nav = bar && document.getElementById("main-nav");
  if (!toggle || !nav) return;
  bar.classList.add("js");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var open = nav.classList.toggle("is-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
});

// A table wider than the screen scrolls inside its wrapper; keyboard users reach it by Tab.
function markScrollableTables() {
  document.querySelectorAll(".table-wrap").forEach(function (wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth;
    if (scrolls && !wrap.hasAttribute("tabindex")) {
      var caption = wrap.querySelector("caption");
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", caption ? caption.textContent.trim() : "Scrollable table");
    } else if (!scrolls && wrap.getAttribute("role") === "region") {
      wrap.removeAttribute("tabindex");
      wrap.removeAttribute("role");
      wrap.removeAttribute("aria-label");
    }
  });
}
document.addEventListener("DOMContentLoaded", markScrollableTables);
window.addEventListener("resize", markScrollableTables);
document.addEventListener("htmx:afterSettle", markScrollableTables);

// A form marked data-submit-once sends once: a double click does not post it twice (the
// server refuses a repeat anyway; this spares the person the refusal).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form[data-submit-once]")) return;
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "true";
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.setAttribute("aria-disabled", "true");
  });
});
