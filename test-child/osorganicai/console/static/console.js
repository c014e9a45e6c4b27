// The console's live view: every 2 s, ask for the page's fragment with the ETag last seen. The
// server answers 304 when nothing changed, or the new fragment, which replaces the old one (open
// <details> stay open). A redirect means the session ended: reload, which leads to sign-in.
// Forms marked data-confirm ask before they are sent. No other script runs on these pages.
(function () {
  "use strict";

  var POLL_MS = 2000;

  function openKeys(root) {
    var keys = {};
    root.querySelectorAll("details[open][data-key]").forEach(function (node) {
      keys[node.getAttribute("data-key")] = true;
    });
    return keys;
  }

  function reopen(root, keys) {
    root.querySelectorAll("details[data-key]").forEach(function (node) {
      if (keys[node.getAttribute("data-key")]) {
        node.open = true;
      }
    });
  }

  function startPolling(live) {
    var source = live.getAttribute("data-src");
    var etag = live.getAttribute("data-etag");
    var busy = false;
    if (!source) {
      return;
    }
    function poll() {
      if (busy || document.hidden) {
        return;
      }
      busy = true;
      fetch(source, {
        headers: { "If-None-Match": etag, Accept: "text/html" },
        cache: "no-store",
        credentials: "same-origin",
        redirect: "manual"
      })
        .then(function (response) {
          if (response.status === 304) {
            return null;
          }
          if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
            window.location.reload();
            return null;
          }
          if (!response.ok) {
            return null;
          }
          var next = response.headers.get("ETag");
          return response.text().then(function (html) {
            var keys = openKeys(live);
            live.innerHTML = html;
            reopen(live, keys);
            if (next) {
              etag = next;
              live.setAttribute("data-etag", next);
            }
          });
        })
        .catch(function () {
          return null;
        })
        .then(function () {
          busy = false;
        });
    }
    window.setInterval(poll, POLL_MS);
    document.addEventListener("visibilitychange", poll);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("live");
    if (live) {
      startPolling(live);
    }
  });
})();
