// Afterword's comments on another site. A host page includes
//   <script src="https://comments.example/embed.js" data-url="https://blog.example/post-1"></script>
// and gets, after the script, a frame with the thread of that page; every
// [data-afterword-count="URL"] element of the page gets "N comments" (one request).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = new URL(script.src, location.href);
  var origin = base.origin;

  function meta(name) {
    var el = document.querySelector('meta[property="' + name + '"], meta[name="' + name + '"]');
    return el ? el.getAttribute("content") || "" : "";
  }

  var url = script.getAttribute("data-url");
  if (url) {
    var frameUrl = new URL("/embed/thread", origin);
    var params = frameUrl.searchParams;
    params.set("url", new URL(url, location.href).href);
    var title = script.getAttribute("data-title") || meta("og:title") || document.title;
    var summary = script.getAttribute("data-summary") || meta("og:description") || meta("description");
    if (title) params.set("title", title.slice(0, 300));
    if (summary) params.set("summary", summary.slice(0, 600));
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    params.set("theme", script.getAttribute("data-theme") || (dark ? "dark" : "light"));

    var frame = document.createElement("iframe");
    frame.src = frameUrl.href;
    frame.title = "Comments";
    frame.className = "afterword-comments";
    frame.setAttribute("loading", "lazy");
    frame.style.cssText = "width:100%;border:0;display:block;min-height:220px;color-scheme:normal";
    frame.height = "220";
    script.parentNode.insertBefore(frame, script.nextSibling);

    // The frame says how tall it is; only the frame itself is listened to.
    window.addEventListener("message", function (event) {
      if (event.origin !== origin || event.source !== frame.contentWindow) return;
      var data = event.data;
      if (data && data.type === "afterword:height" && typeof data.height === "number") {
        var h = Math.max(120, Math.min(Math.ceil(data.height), 100000));
        frame.style.height = h + "px";
        frame.height = String(h);
      }
    });
  }

  // Comment counts: every element, one request.
  var counted = document.querySelectorAll("[data-afterword-count]");
  if (!counted.length) return;
  var urls = [];
  counted.forEach(function (el) {
    var u = el.getAttribute("data-afterword-count");
    try {
      u = new URL(u, location.href).href;
    } catch (e) {
      return;
    }
    el.__afterword = u;
    if (urls.indexOf(u) < 0 && /^[!-~]{1,200}$/.test(u)) urls.push(u);
  });
  // One request for up to 40 addresses (what the counts operation takes at once).
  for (var i = 0; i < urls.length; i += 40) {
    var countsUrl = new URL("/api/v1/counts", origin);
    urls.slice(i, i + 40).forEach(function (u) {
      countsUrl.searchParams.append("url", u);
    });
    fetch(countsUrl.href, { credentials: "omit" })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        if (!data || !data.counts) return;
        var byUrl = {};
        data.counts.forEach(function (c) {
          byUrl[c.url] = c.count;
        });
        counted.forEach(function (el) {
          var n = byUrl[el.__afterword];
          if (typeof n === "number") el.textContent = n + (n === 1 ? " comment" : " comments");
        });
      })
      .catch(function () {});
  }
})();
