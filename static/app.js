// Afterword: small progressive enhancements. Every page works without this file.
"use strict";

(function () {
  // Posts `body` to `url` asking for JSON back; on any failure, `fallback` sends it the
  // ordinary way.
  async function postForJson(url, body, fallback, apply) {
    try {
      const response = await fetch(url, {
        method: "POST",
        body: new URLSearchParams(body),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) { fallback(); return; }
      apply(await response.json());
    } catch (_) {
      fallback();
    }
  }

  // Set while a button's form is sent the ordinary way after a failed request.
  let plain = false;

  document.addEventListener("submit", function (event) {
    const form = event.target;
    const button = event.submitter;
    if (!form.classList) return;
    if (plain) { plain = false; return; }
    if (form.id === "comment-actions" && button && button.classList.contains("vote")) {
      // Votes without a reload. The buttons of a comment submit the page's one form.
      event.preventDefault();
      const body = new FormData(form);
      body.set("value", button.value);
      const fallback = function () { plain = true; form.requestSubmit(button); };
      postForJson(button.formAction, body, fallback, function (outcome) {
        const comment = button.closest(".comment");
        const score = comment.querySelector(":scope > details > .comment-meta [data-score]");
        if (score) score.textContent = outcome.score + (Math.abs(outcome.score) === 1 ? " point" : " points");
        for (const other of comment.querySelectorAll(":scope > details > .comment-actions button.vote")) {
          const direction = other.classList.contains("up") ? 1 : -1;
          const pressed = outcome.my_vote === direction;
          other.setAttribute("aria-pressed", String(pressed));
          other.value = pressed ? 0 : direction;
        }
      });
    } else if (form.classList.contains("save-form")) {
      // Save and unsave without a reload.
      event.preventDefault();
      postForJson(form.action, new FormData(form), function () { form.submit(); }, function (outcome) {
        const button = form.querySelector("button");
        button.setAttribute("aria-pressed", String(outcome.saved));
        button.textContent = outcome.saved ? "★ Saved" : "☆ Save";
        form.querySelector("input[name=action]").value = outcome.saved ? "unsave" : "save";
      });
    }
  });

  // The page `href` opens, parsed, and `find` applied to it; when either fails the
  // browser goes to that page instead, and null comes back.
  async function fromPage(href, find) {
    try {
      const response = await fetch(href, { credentials: "same-origin" });
      const found = response.ok && find(new DOMParser().parseFromString(await response.text(), "text/html"));
      if (found) return found;
    } catch (_) { /* below */ }
    window.location = href;
    return null;
  }

  // Reply and edit forms open in place: the form is taken from the page that would
  // otherwise open.
  document.addEventListener("click", async function (event) {
    const link = event.target.closest && event.target.closest("a[data-reply], a[data-edit]");
    if (!link) return;
    const actions = link.closest(".comment-actions");
    const open = actions.nextElementSibling;
    event.preventDefault();
    if (open && open.classList.contains("inline")) { open.remove(); return; }
    const form = await fromPage(link.href, function (page) { return page.querySelector("form.compose"); });
    if (!form) return;
    form.classList.add("inline");
    const textarea = form.querySelector("textarea");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button secondary";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () { form.remove(); });
    form.querySelector(".compose-actions").appendChild(cancel);
    actions.after(form);
    textarea.focus();
  });

  // "More replies" open in place: the replies are taken from the page the link opens.
  document.addEventListener("click", async function (event) {
    const link = event.target.closest && event.target.closest("a[data-more]");
    const item = link && link.closest("li.more-replies");
    if (!item) return;
    event.preventDefault();
    if (item.getAttribute("aria-busy") === "true") return;
    item.setAttribute("aria-busy", "true");
    const list = await fromPage(link.href, function (page) { return page.getElementById("more-replies"); });
    if (!list) return;
    // A reply that arrived live is already here.
    const replies = Array.from(list.children).filter(function (node) {
      return !(node.id && document.getElementById(node.id));
    });
    const nodes = replies.map(function (node) { return document.adoptNode(node); });
    item.replaceWith.apply(item, nodes);
    for (const node of nodes) showTimes(node);
    const first = nodes.find(function (node) { return node.classList.contains("comment"); });
    const author = first && first.querySelector(".comment-meta .author");
    // A link is focusable as it is; a tabindex of -1 would take it out of the tab order.
    if (author) { if (author.tagName !== "A") author.setAttribute("tabindex", "-1"); author.focus(); }
  });

  // Times come absolute (pages are cached for everyone); they are shown as "3 hours ago",
  // with the absolute time kept as the tooltip.
  const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  const units = [[60, "second"], [60, "minute"], [24, "hour"], [7, "day"], [4.35, "week"], [12, "month"], [Infinity, "year"]];
  function showTimes(root) {
    for (const element of root.querySelectorAll("time.ago")) {
      const then = Date.parse(element.getAttribute("datetime"));
      if (isNaN(then)) continue;
      let value = (then - Date.now()) / 1000;
      if (value > -60) { element.textContent = "just now"; continue; }
      for (const [size, unit] of units) {
        if (Math.abs(value) < size) { element.textContent = relative.format(Math.round(value), unit); break; }
        value /= size;
      }
    }
  }
  showTimes(document);
  setInterval(function () { showTimes(document); }, 60000);

  // New comments appear while the article is open.
  const section = document.querySelector("section#comments[data-article]");
  if (!section || !window.EventSource) return;
  const slug = section.getAttribute("data-article");
  // From the last change the page shows: nothing between its rendering and now is lost.
  const after = section.getAttribute("data-live-after") || "";
  const source = new EventSource("/articles/" + encodeURIComponent(slug) + "/events?after=" + encodeURIComponent(after));
  // Tells tests (and styles) that the page is listening.
  source.addEventListener("open", function () {
    section.setAttribute("data-live", "open");
  });
  // The comment an event names, as HTML: sent with the event, or (for readers whose
  // buttons differ on every comment) fetched.
  async function commentOf(data) {
    let html = data.html;
    if (html === undefined) {
      const response = await fetch("/comments/" + data.id + "/fragment", { credentials: "same-origin" });
      if (!response.ok) return null;
      html = await response.text();
    }
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const item = template.content.firstElementChild;
    if (item) showTimes(item);
    return item;
  }
  function count(change) {
    const counter = section.querySelector(".comment-count");
    if (counter) counter.textContent = String(Math.max(0, Number(counter.textContent) + change));
  }
  function notice(text) {
    let note = section.querySelector(":scope > p.live-notice");
    if (!note) {
      note = document.createElement("p");
      note.className = "live-notice notice";
      note.setAttribute("role", "status");
      section.insertBefore(note, section.querySelector(":scope > h2").nextSibling);
    }
    note.textContent = text;
  }
  source.addEventListener("comment", async function (event) {
    const data = JSON.parse(event.data);
    if (data.gone || document.getElementById("comment-" + data.id)) return;
    const item = await commentOf(data);
    if (!item || document.getElementById("comment-" + data.id)) return;
    item.classList.add("arrived");
    if (data.parent_id) {
      const parent = document.getElementById("comment-" + data.parent_id);
      if (!parent) return;
      const details = parent.querySelector(":scope > details");
      let replies = details.querySelector(":scope > ol.replies");
      if (!replies) {
        replies = document.createElement("ol");
        replies.className = "replies";
        details.appendChild(replies);
      }
      replies.appendChild(item);
    } else {
      let tree = section.querySelector(":scope > ol.comment-tree");
      if (!tree) {
        tree = document.createElement("ol");
        tree.className = "comment-tree";
        section.appendChild(tree);
      }
      tree.prepend(item);
    }
    const empty = section.querySelector(":scope > p.empty");
    if (empty) empty.remove();
    count(1);
  });
  // An edit, a deletion, a removal or a restoration: the comment is replaced, its
  // replies kept.
  async function replace(event) {
    const data = JSON.parse(event.data);
    const old = document.getElementById("comment-" + data.id);
    if (!old) return;
    if (data.gone) {
      const replies = old.querySelector(":scope > details > ol.replies");
      if (!replies || !replies.children.length) old.remove();
      return;
    }
    const item = await commentOf(data);
    if (!item) return;
    const details = old.querySelector(":scope > details");
    const fresh = item.querySelector(":scope > details");
    if (!details || !fresh) return;
    const replies = details.querySelector(":scope > ol.replies, :scope > p.continue");
    if (event.type === "edit") {
      // Only the text and its line change: the reader's own buttons stay as they are.
      for (const part of [".comment-meta", ".comment-body"]) {
        const now = fresh.querySelector(":scope > " + part);
        const was = details.querySelector(":scope > " + part);
        if (now && was) was.replaceWith(now);
      }
      return;
    }
    details.replaceChildren(...fresh.childNodes);
    if (replies) details.appendChild(replies);
  }
  source.addEventListener("edit", replace);
  source.addEventListener("status", replace);
  source.addEventListener("votes", function (event) {
    const data = JSON.parse(event.data);
    const score = document.querySelector("#comment-" + data.id + " > details > .comment-meta [data-score]");
    if (score) score.textContent = data.score + (Math.abs(data.score) === 1 ? " point" : " points");
  });
  source.addEventListener("lock", function (event) {
    const data = JSON.parse(event.data);
    if (data.locked) {
      notice("Comments on this article are now closed." + (data.reason ? " " + data.reason : ""));
      section.querySelectorAll(".reply-link, .vote, form.compose").forEach(function (el) { el.remove(); });
    } else {
      notice("Comments on this article are open again: reload the page to take part.");
    }
  });
  source.addEventListener("reset", function () {
    notice("Much has changed since this page was loaded: reload it to see everything.");
  });
})();
