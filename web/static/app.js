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
  // Name suggestions: <input data-suggest="URL" data-suggest-list="ID">
  // offers the names URL?q=… answers (the form works without them).
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.createElement("datalist");
    list.id = input.dataset.suggestList;
    input.parentNode.appendChild(list);
    input.setAttribute("list", list.id);
    var timer = null, last = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last) return;
        last = q;
        fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (ms) {
            list.replaceChildren();
            ms.forEach(function (m) {
              var o = document.createElement("option");
              o.value = m.name;
              o.label = (m.kind === "group" ? "Group: " : "") + (m.displayName || m.name);
              list.appendChild(o);
            });
          });
      }, 250);
    });
  });
});
