// The release checklist: a box in the table's head chooses or clears every item at once.
// Delegated from the document, so it keeps working after htmx redraws the checklist.
document.addEventListener("change", function (event) {
  var all = event.target;
  if (!all.matches || !all.matches("input[data-select-all]")) return;
  var form = all.closest("form");
  if (!form) return;
  form.querySelectorAll('input[type=checkbox][name="items"]').forEach(function (box) {
    box.checked = all.checked;
  });
});
