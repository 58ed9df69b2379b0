// Progressive enhancement only: the pages work without it.
// 1. Forms with data-confirm ask before they are sent.
// 2. Pages with data-live="URL" on <body> listen to the server-sent events
//    at URL (the API's Watch of Events) and reload when something changed.
//    Without EventSource, or when the stream fails, pages with
//    data-refresh="N" reload every N seconds instead.
// A page never reloads while a form field has focus or the tab is hidden,
// nor once a form is being sent: a reload then would cancel the request, or
// replace its answer (the flash that says what happened).
(function () {
  "use strict";
  var sending = false;
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
      return;
    }
    sending = true;
  });
  var body = document.body;
  var secs = parseInt(body.getAttribute("data-refresh") || "0", 10);
  var live = body.getAttribute("data-live");
  var note = document.getElementById("refresh-note");
  var timer = null;
  window.__raftcronLive = "off";

  function idle() {
    var a = document.activeElement;
    return !sending && !document.hidden && !(a && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA"));
  }
  function reloadWhenIdle() {
    if (idle()) {
      window.location.reload();
    } else {
      setTimeout(reloadWhenIdle, 1000);
    }
  }
  function poll() {
    if (!secs || timer) {
      return;
    }
    if (note) {
      note.textContent = "refreshes every " + secs + "s";
    }
    timer = setInterval(function () {
      if (idle()) {
        window.location.reload();
      }
    }, secs * 1000);
  }
  if (!live || !window.EventSource) {
    poll();
    return;
  }
  var es = new EventSource(live);
  es.addEventListener("ready", function () {
    window.__raftcronLive = "live";
    if (note) {
      note.textContent = "live: updates as the cluster changes";
    }
  });
  es.addEventListener("change", function () {
    es.close();
    reloadWhenIdle();
  });
  es.addEventListener("failed", function () {
    es.close();
    window.__raftcronLive = "failed";
    poll();
  });
  es.onerror = function () {
    if (es.readyState === EventSource.CLOSED) {
      window.__raftcronLive = "closed";
      poll();
    }
  };
  // Relative times ("3s ago") age even when nothing changes.
  setTimeout(reloadWhenIdle, 60000);
})();
