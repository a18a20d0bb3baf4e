// Davenport web UI: progressive enhancements only; every page works without
// this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Copy buttons: <button data-copy="ID"> copies the text of element ID.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.dataset.copy);
      if (!el || !navigator.clipboard) return;
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        var label = b.textContent;
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = label; }, 1500);
      });
    });
  });
  // The import form's name field matters only for a new collection.
  var target = document.getElementById("import-target");
  var newName = document.getElementById("import-name-row");
  if (target && newName) {
    var sync = function () { newName.hidden = target.value.indexOf("new-") !== 0; };
    target.addEventListener("change", sync);
    sync();
  }
});
