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
