/* Tongban portal: the kiosk inactivity timer (自助通办), and keyboard access to tables that scroll
   inside themselves on a phone. Everything else works without JavaScript; htmx (vendored) adds the
   live plan preview. */
(function () {
  "use strict";
  // On a phone a wide table scrolls inside itself (portal.css) rather than the page sideways; a
  // scrolling region must be reachable by keyboard (WCAG 2.1.1), so it joins the tab order.
  function focusableTables() {
    Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
      if (table.scrollWidth > table.clientWidth + 1) { table.tabIndex = 0; } else { table.removeAttribute("tabindex"); }
    });
  }
  focusableTables();
  window.addEventListener("resize", focusableTables);
  document.addEventListener("htmx:afterSettle", focusableTables);
}());

(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-kiosk-idle") || "0", 10);
  if (!idle) { return; }
  var warnFor = Math.min(20, Math.max(1, Math.floor(idle / 3)));
  var logoutUrl = body.getAttribute("data-logout-url");
  var restartUrl = body.getAttribute("data-restart-url") || "/";
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var box = document.getElementById("kiosk-warning");
  var countdown = box && box.querySelector("[data-kiosk-countdown]");
  var lastActive = Date.now();
  var ending = false;

  function activity() {
    if (ending) { return; }
    lastActive = Date.now();
    if (box && !box.hidden) { box.hidden = true; }
  }

  function signOut() {
    ending = true;
    var done = function () { window.location.assign(restartUrl); };
    var data = new FormData();
    data.append("csrfmiddlewaretoken", token);
    data.append("next", restartUrl);
    fetch(logoutUrl, { method: "POST", body: data, credentials: "same-origin", redirect: "manual",
                       headers: { "X-CSRFToken": token } }).then(done, done);
  }

  function tick() {
    if (ending) { return; }
    var left = idle - Math.floor((Date.now() - lastActive) / 1000);
    if (left <= 0) { signOut(); return; }
    if (left <= warnFor && box) {
      if (box.hidden) {
        box.hidden = false;
        var button = box.querySelector("[data-kiosk-continue]");
        if (button) { button.focus(); }
      }
      if (countdown) { countdown.textContent = String(left); }
    }
  }

  ["pointerdown", "keydown", "touchstart", "input", "wheel"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  if (box) {
    var button = box.querySelector("[data-kiosk-continue]");
    if (button) { button.addEventListener("click", activity); }
  }
  window.setInterval(tick, 1000);
}());
