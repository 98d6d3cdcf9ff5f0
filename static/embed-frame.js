// The embedded thread: rendered from the JSON API, live through the article's event
// stream, acting with a token handed over by the sign-in popup (this frame is on
// another site's page: it has no cookies). Text goes in with textContent; only
// body_html, which the server sanitised, as HTML.
(function () {
  "use strict";
  var root = document.getElementById("afterword-thread");
  if (!root) return;
  var pageUrl = root.getAttribute("data-url");
  var hostOrigin = new URL(pageUrl).origin;
  var slug = root.getAttribute("data-slug") || "";
  var count = Number(root.getAttribute("data-count") || 0);
  var locked = root.hasAttribute("data-locked");
  var sort = "best";
  var items = []; // the comments shown, in reading order: {c: Comment, more: MoreReplies|null}
  var next = null; // the next page's cursor
  var auth = null; // {token, username, expires_at}
  var popup = null;
  var slots = {}; // comment id → the element holding its open reply, edit or report box
  var source = null;
  var REASONS = [["spam", "Spam"], ["harassment", "Harassment"], ["off-topic", "Off-topic"],
    ["misinformation", "Misinformation"], ["other", "Other"]];

  try {
    auth = JSON.parse(sessionStorage.getItem("afterword-auth") || "null");
  } catch (e) {
    auth = null;
  }
  if (auth && (!auth.token || Date.parse(auth.expires_at) < Date.now())) auth = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function button(text, cls, onClick) {
    var b = el("button", cls || "aw-link", text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (auth) headers.Authorization = "Bearer " + auth.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    }).then(function (r) {
      if (r.status === 401 && auth) signOut();
      if (r.status === 204) return { ok: true, status: 204, data: null };
      return r.json().then(
        function (data) {
          return { ok: r.ok, status: r.status, data: data };
        },
        function () {
          return { ok: r.ok, status: r.status, data: null };
        }
      );
    });
  }
  function problem(res) {
    return (res.data && res.data.message) || "That did not work (" + res.status + ").";
  }

  // ---- the page's parts ----
  root.textContent = "";
  var heading = el("h2", "aw-heading");
  var bar = el("div", "aw-bar");
  var sorter = el("select", "aw-sort");
  sorter.setAttribute("aria-label", "Sort comments");
  [["best", "Best"], ["top", "Top"], ["new", "Newest"], ["old", "Oldest"], ["controversial", "Controversial"]].forEach(
    function (o) {
      var opt = el("option", "", o[1]);
      opt.value = o[0];
      sorter.append(opt);
    }
  );
  sorter.addEventListener("change", function () {
    sort = sorter.value;
    load(true);
  });
  var who = el("div", "aw-who");
  bar.append(sorter, who);
  var status = el("p", "aw-status");
  status.setAttribute("role", "status");
  var composeBox = el("div", "aw-compose-box");
  var list = el("ul", "aw-list");
  var empty = el("p", "aw-empty", "Be the first to comment!");
  var more = button("Load more comments", "aw-button aw-secondary", function () {
    load(false);
  });
  root.append(heading, bar, status, composeBox, empty, list, more);

  function say(text) {
    status.textContent = text || "";
  }

  function renderHeading() {
    heading.textContent = "Comments (" + count + ")";
  }

  function renderWho() {
    who.textContent = "";
    if (auth) {
      who.append(el("span", "aw-me", "Commenting as " + auth.username), " ");
      who.append(button("Log out", "aw-link", signOut));
    } else {
      who.append(button("Log in to comment", "aw-button", signIn));
    }
  }

  function compose(parentId, initial, submitText, onSend, onCancel) {
    var form = el("form", "aw-compose");
    var area = el("textarea");
    area.name = "body";
    area.rows = parentId ? 3 : 4;
    area.maxLength = 10000;
    area.required = true;
    area.value = initial || "";
    area.setAttribute("aria-label", parentId ? "Your reply" : "Your comment");
    area.placeholder = parentId ? "Write a reply" : "Join the discussion";
    var send = el("button", "aw-button", submitText);
    send.type = "submit";
    var error = el("p", "aw-error");
    error.setAttribute("role", "alert");
    form.append(area, error, send);
    if (onCancel) form.append(" ", button("Cancel", "aw-link", onCancel));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!area.value.trim()) return;
      send.disabled = true;
      error.textContent = "";
      onSend(area.value).then(function (message) {
        send.disabled = false;
        if (message) error.textContent = message;
        else area.value = "";
      });
    });
    return form;
  }

  // Rebuilt only when who may post changes: what a reader is typing survives updates.
  var composeState = null;
  function renderCompose() {
    var state = (auth ? auth.username : "") + "|" + locked;
    if (state === composeState) return;
    composeState = state;
    composeBox.textContent = "";
    if (locked) {
      composeBox.append(el("p", "aw-note", "Comments are closed."));
    } else if (auth) {
      composeBox.append(compose(null, "", "Post", postComment));
    }
  }

  // ---- the thread ----
  function find(id) {
    for (var i = 0; i < items.length; i++) if (items[i].c.id === id) return i;
    return -1;
  }
  function upsert(item, atTop) {
    var i = find(item.c.id);
    if (i >= 0) {
      items[i].c = item.c;
      if (item.more !== undefined) items[i].more = item.more;
    } else if (atTop) {
      items.unshift(item);
    } else {
      items.push(item);
    }
  }

  function render() {
    renderHeading();
    renderWho();
    list.textContent = "";
    var nodes = {};
    items.forEach(function (item) {
      nodes[item.c.id] = commentNode(item);
    });
    items.forEach(function (item) {
      var parent = item.c.parent_id && nodes[item.c.parent_id];
      (parent ? parent.querySelector(":scope > .aw-replies") : list).append(nodes[item.c.id]);
    });
    empty.hidden = items.length > 0;
    more.hidden = !next;
    resize();
  }

  function ago(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString();
  }

  function commentNode(item) {
    var c = item.c;
    var li = el("li", "aw-comment");
    li.id = "comment-" + c.id;
    li.setAttribute("data-id", c.id);
    var meta = el("div", "aw-meta");
    meta.append(el("strong", "aw-author", c.author || "[deleted]"));
    if (c.distinguished) meta.append(" ", el("span", "aw-badge", "staff"));
    if (c.pinned) meta.append(" ", el("span", "aw-badge", "pinned"));
    var time = el("time", "aw-time", ago(c.created_at));
    time.dateTime = c.created_at;
    meta.append(" · ", time);
    if (c.edited_at) meta.append(" · ", el("span", "aw-edited", "edited"));
    var score = el("span", "aw-score", (c.upvotes - c.downvotes) + " points");
    score.setAttribute("data-score", "");
    meta.append(" · ", score);
    li.append(meta);

    var body = el("div", "aw-body");
    if (c.status === "deleted") body.append(el("p", "aw-gone", "[deleted]"));
    else if (c.status === "removed") body.append(el("p", "aw-gone", "[removed by a moderator]"));
    else body.innerHTML = c.body_html; // sanitised by the server
    if (c.status === "pending") li.append(el("p", "aw-note", "Waiting for a moderator's approval: only you see it."));
    li.append(body);

    var actions = el("div", "aw-actions");
    if (c.can.vote) {
      var up = button("▲", "aw-vote" + (c.my_vote === 1 ? " aw-on" : ""), function () {
        vote(c, c.my_vote === 1 ? 0 : 1);
      });
      up.setAttribute("aria-label", "Upvote");
      up.setAttribute("aria-pressed", String(c.my_vote === 1));
      var down = button("▼", "aw-vote" + (c.my_vote === -1 ? " aw-on" : ""), function () {
        vote(c, c.my_vote === -1 ? 0 : -1);
      });
      down.setAttribute("aria-label", "Downvote");
      down.setAttribute("aria-pressed", String(c.my_vote === -1));
      actions.append(up, down);
    }
    // A comment's open box (reply, edit, report) is kept across renders.
    var slot = slots[c.id] || (slots[c.id] = el("div", "aw-slot"));
    function open(form) {
      slot.textContent = "";
      if (form) slot.append(form);
      resize();
      var area = form && form.querySelector("textarea, select, button");
      if (area) area.focus();
    }
    if (c.can.reply) {
      actions.append(button("Reply", "aw-link aw-reply", function () {
        open(compose(c.id, "", "Reply", function (text) {
          return reply(c, text).then(function (message) {
            if (!message) open(null);
            return message;
          });
        }, function () { open(null); }));
      }));
    } else if (!auth && !locked && c.status === "visible") {
      actions.append(button("Log in to reply", "aw-link", signIn));
    }
    if (c.can.edit) {
      actions.append(button("Edit", "aw-link aw-edit", function () {
        open(compose(c.id, body.textContent.trim(), "Save", function (text) {
          return edit(c, text).then(function (message) {
            if (!message) open(null);
            return message;
          });
        }, function () { open(null); }));
      }));
    }
    if (c.can.delete) {
      // Asked in place: dialogs of a frame from another site may be blocked.
      actions.append(button("Delete", "aw-link aw-delete", function () {
        var ask = el("div", "aw-confirm");
        ask.append(el("span", "", "Delete this comment? Its text goes for good; replies stay. "),
          button("Delete", "aw-button", function () { remove(c); }), " ",
          button("Cancel", "aw-link", function () { open(null); }));
        open(ask);
      }));
    }
    if (c.can.report) {
      actions.append(button("Report", "aw-link aw-report", function () {
        open(reportForm(c, function () { open(null); }));
      }));
    }
    li.append(actions, slot);
    var replies = el("ul", "aw-replies");
    li.append(replies);
    if (item.more && item.more.count > 0) {
      var m = item.more;
      li.append(button(m.count + (m.count === 1 ? " more reply" : " more replies"), "aw-link aw-more", function () {
        loadReplies(item);
      }));
    }
    return li;
  }

  function reportForm(c, close) {
    var form = el("form", "aw-report-form");
    var select = el("select");
    select.setAttribute("aria-label", "Reason");
    REASONS.forEach(function (r) {
      var o = el("option", "", r[1]);
      o.value = r[0];
      select.append(o);
    });
    var details = el("input");
    details.type = "text";
    details.maxLength = 1000;
    details.placeholder = "Details (optional)";
    details.setAttribute("aria-label", "Details");
    var send = el("button", "aw-button", "Report");
    send.type = "submit";
    var error = el("p", "aw-error");
    form.append(select, details, send, " ", button("Cancel", "aw-link", close), error);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/api/v1/comments/" + c.id + "/reports", { reason: select.value, details: details.value }).then(
        function (res) {
          if (res.ok) {
            close();
            say("Thank you: the moderators will look at it.");
          } else error.textContent = problem(res);
        }
      );
    });
    return form;
  }

  // ---- reading ----
  function load(reset) {
    if (!slug) {
      items = [];
      next = null;
      render();
      return Promise.resolve();
    }
    var path = "/api/v1/articles/" + encodeURIComponent(slug) + "/comments?sort=" + sort;
    if (!reset && next) path += "&cursor=" + encodeURIComponent(next);
    return api("GET", path).then(function (res) {
      if (!res.ok) return say(problem(res));
      if (reset) items = [];
      res.data.comments.forEach(function (item) {
        upsert({ c: item, more: item.more_replies });
      });
      next = res.data.next_cursor;
      render();
    });
  }

  function loadReplies(item) {
    return api("GET", item.more.next).then(function (res) {
      if (!res.ok) return say(problem(res));
      // The page's replies go after the comment and its replies shown so far.
      var at = find(item.c.id) + 1;
      while (at < items.length && isUnder(items[at].c, item.c.id)) at++;
      var fresh = res.data.comments.filter(function (r) {
        return find(r.id) < 0;
      }).map(function (r) {
        return { c: r, more: r.more_replies };
      });
      items.splice.apply(items, [at, 0].concat(fresh));
      item.more = res.data.next_cursor
        ? { count: Math.max(0, item.more.count - fresh.length), next: item.more.next.replace(/cursor=[^&]*/, "cursor=" + res.data.next_cursor) }
        : null;
      render();
    });
  }
  function isUnder(c, ancestor) {
    while (c && c.parent_id) {
      if (c.parent_id === ancestor) return true;
      var i = find(c.parent_id);
      c = i >= 0 ? items[i].c : null;
    }
    return false;
  }

  function refreshCount() {
    if (!slug) return Promise.resolve();
    return api("GET", "/api/v1/articles/" + encodeURIComponent(slug)).then(function (res) {
      if (res.ok) {
        count = res.data.comment_count;
        locked = res.data.locked;
        renderHeading();
        renderCompose();
        resize();
      }
    });
  }

  // Changes told by the stream: the first page again, merged into what is shown.
  var pending = null;
  function refresh() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      var path = "/api/v1/articles/" + encodeURIComponent(slug) + "/comments?sort=" + sort;
      api("GET", path).then(function (res) {
        if (!res.ok) return;
        res.data.comments.forEach(function (item) {
          upsert({ c: item, more: item.more_replies }, find(item.id) < 0 && !item.parent_id && sort !== "old");
        });
        if (!items.length) next = res.data.next_cursor;
        render();
      });
      refreshCount();
    }, 250);
  }

  function live() {
    if (!slug || source || !window.EventSource) return;
    source = new EventSource("/articles/" + encodeURIComponent(slug) + "/events");
    // Opened (or opened again): what changed meanwhile is read once.
    var opened = false;
    source.addEventListener("open", function () {
      root.setAttribute("data-live", "open");
      if (opened) refresh();
      opened = true;
    });
    ["comment", "edit", "status", "lock"].forEach(function (kind) {
      source.addEventListener(kind, refresh);
    });
    source.addEventListener("votes", function (event) {
      var data = JSON.parse(event.data);
      var node = document.getElementById("comment-" + data.id);
      var score = node && node.querySelector(":scope > .aw-meta [data-score]");
      if (score && typeof data.score === "number") score.textContent = data.score + " points";
    });
  }

  // ---- acting ----
  function postComment(text) {
    if (slug) {
      return api("POST", "/api/v1/articles/" + encodeURIComponent(slug) + "/comments", { body: text }).then(function (res) {
        if (!res.ok) return problem(res);
        upsert({ c: res.data, more: null }, true);
        count += res.data.status === "visible" ? 1 : 0;
        render();
        say(res.data.status === "pending" ? "Your comment waits for a moderator's approval." : "");
      });
    }
    // The page's first comment: it makes the article.
    return api("POST", "/api/v1/threads", {
      url: pageUrl,
      title: root.getAttribute("data-title") || "",
      summary: root.getAttribute("data-summary") || "",
      body: text,
    }).then(function (res) {
      if (!res.ok) return problem(res);
      slug = res.data.article.slug;
      count = res.data.article.comment_count;
      upsert({ c: res.data.comment, more: null }, true);
      render();
      live();
      return load(true).then(function () {
        return "";
      });
    });
  }

  function reply(parent, text) {
    return api("POST", "/api/v1/articles/" + encodeURIComponent(slug) + "/comments", {
      body: text,
      parent_id: parent.id,
    }).then(function (res) {
      if (!res.ok) return problem(res);
      var at = find(parent.id) + 1;
      while (at < items.length && isUnder(items[at].c, parent.id)) at++;
      items.splice(at, 0, { c: res.data, more: null });
      count += res.data.status === "visible" ? 1 : 0;
      render();
    });
  }

  function edit(c, text) {
    return api("PATCH", "/api/v1/comments/" + c.id, { body: text }).then(function (res) {
      if (!res.ok) return problem(res);
      upsert({ c: res.data });
      render();
    });
  }

  function remove(c) {
    return api("DELETE", "/api/v1/comments/" + c.id).then(function (res) {
      if (!res.ok) return say(problem(res));
      c.status = "deleted";
      c.body_html = "";
      c.author = null;
      c.can = { reply: false, vote: false, edit: false, delete: false, report: false };
      render();
      refreshCount();
    });
  }

  function vote(c, value) {
    return api("PUT", "/api/v1/comments/" + c.id + "/vote", { value: value }).then(function (res) {
      if (!res.ok) return say(problem(res));
      upsert({ c: res.data });
      render();
    });
  }

  // ---- signing in: a popup on this site's own origin hands over a token ----
  function signIn() {
    var address = "/embed/login?origin=" + encodeURIComponent(hostOrigin);
    popup = window.open(address, "afterword-login", "popup,width=520,height=700");
    if (!popup) say("Allow pop-ups for this page to log in, or open " + location.origin + address);
  }
  window.addEventListener("message", function (event) {
    if (event.origin !== location.origin || !popup || event.source !== popup) return;
    var data = event.data || {};
    if (data.type === "afterword:token" && typeof data.token === "string") {
      auth = { token: data.token, username: String(data.username), expires_at: String(data.expires_at) };
      try {
        sessionStorage.setItem("afterword-auth", JSON.stringify(auth));
      } catch (e) {
        // Storage refused: the token lives as long as the frame.
      }
      say("");
      renderCompose();
      load(true);
    }
  });
  function signOut() {
    auth = null;
    try {
      sessionStorage.removeItem("afterword-auth");
    } catch (e) {
      // Nothing kept.
    }
    renderCompose();
    load(true);
  }

  // ---- the frame's height, for the host page ----
  var lastHeight = 0;
  function resize() {
    var h = document.documentElement.scrollHeight;
    if (h !== lastHeight && window.parent !== window) {
      lastHeight = h;
      window.parent.postMessage({ type: "afterword:height", height: h }, "*");
    }
  }
  if (window.ResizeObserver) new ResizeObserver(resize).observe(document.body);
  window.addEventListener("load", resize);

  renderCompose();
  render();
  load(true).then(function () {
    refreshCount();
    live();
  });
})();
