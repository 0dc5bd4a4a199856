// The Mayfly console's one script: progressive enhancement of pages that work without it.
// Served from /ui/static/console.js (compiled into the gateway); the Content-Security-Policy
// allows no inline script, so everything is wired here, from data attributes:
//
// - `data-copy` on an element: a "Copy" button after it that copies the element's text.
// - `data-expires-at="<RFC 3339>"` on an element: a live countdown to that time after it.
//
// Nothing is sent anywhere and nothing is stored: a copied secret goes only to the clipboard.
"use strict";

(function () {
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return Promise.reject(new Error("no clipboard"));
  }

  function addCopyButton(element) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    var label = element.getAttribute("aria-label") || element.id || "value";
    button.setAttribute("aria-label", "Copy " + label);
    button.textContent = "Copy";
    var status = document.createElement("span");
    status.className = "copy-status hint";
    status.setAttribute("role", "status");
    button.addEventListener("click", function () {
      copyText(element.textContent.trim()).then(
        function () {
          status.textContent = "Copied";
        },
        function () {
          // No clipboard access (permissions, an old browser): the text is on the page to
          // select by hand; select it for the user.
          var range = document.createRange();
          range.selectNodeContents(element);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          status.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy";
        }
      );
    });
    element.insertAdjacentElement("afterend", status);
    element.insertAdjacentElement("afterend", button);
  }

  function describe(ms) {
    var secs = Math.floor(ms / 1000);
    var h = Math.floor(secs / 3600);
    var m = Math.floor((secs % 3600) / 60);
    var s = secs % 60;
    var two = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    return (h > 0 ? h + "h " + two(m) + "m " : m + "m ") + two(s) + "s";
  }

  function addCountdown(element) {
    var at = Date.parse(element.getAttribute("data-expires-at"));
    if (isNaN(at)) {
      return;
    }
    var out = document.createElement("span");
    out.className = "countdown";
    out.setAttribute("aria-live", "off");
    element.insertAdjacentElement("afterend", out);
    function tick() {
      var left = at - Date.now();
      if (left <= 0) {
        out.textContent = " (expired)";
        out.classList.add("expired");
        return false;
      }
      out.textContent = " (expires in " + describe(left) + ")";
      return true;
    }
    if (tick()) {
      var timer = window.setInterval(function () {
        if (!tick()) {
          window.clearInterval(timer);
        }
      }, 1000);
    }
  }

  function init() {
    document.querySelectorAll("[data-copy]").forEach(addCopyButton);
    document.querySelectorAll("[data-expires-at]").forEach(addCountdown);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
