// Progressive enhancement only: the pages work without it.
// 1. Pages with data-refresh="N" on <body> reload every N seconds while
//    visible and while no form field has focus.
// 2. Forms with data-confirm ask before they are sent.
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });
  var secs = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (!secs) {
    return;
  }
  var note = document.getElementById("refresh-note");
  if (note) {
    note.textContent = "refreshes every " + secs + "s";
  }
  setInterval(function () {
    var a = document.activeElement;
    if (document.hidden || (a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA"))) {
      return;
    }
    window.location.reload();
  }, secs * 1000);
})();
