// The embed's sign-in popup: hands the token to the frame that opened it (on this
// site's own origin only), then closes.
(function () {
  "use strict";
  var el = document.getElementById("afterword-handoff");
  if (!el || !window.opener) return;
  var message = el.hasAttribute("data-token")
    ? {
        type: "afterword:token",
        token: el.getAttribute("data-token"),
        username: el.getAttribute("data-username"),
        expires_at: el.getAttribute("data-expires-at"),
      }
    : { type: "afterword:denied" };
  try {
    window.opener.postMessage(message, location.origin);
  } catch (e) {
    return;
  }
  el.removeAttribute("data-token");
  window.close();
})();
