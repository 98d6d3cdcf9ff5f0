// Afterword: small progressive enhancements. Every page works without this file.
"use strict";

(function () {
  // Posts a form as it is, asking for JSON back; on any failure the form is submitted
  // the ordinary way.
  async function postForJson(form, apply) {
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) { form.submit(); return; }
      apply(await response.json());
    } catch (_) {
      form.submit();
    }
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.classList) return;
    if (form.classList.contains("vote-form")) {
      // Votes without a reload.
      event.preventDefault();
      postForJson(form, function (outcome) {
        const comment = form.closest(".comment");
        const score = comment.querySelector(":scope > details > summary [data-score]");
        if (score) score.textContent = outcome.score + (Math.abs(outcome.score) === 1 ? " point" : " points");
        for (const other of comment.querySelectorAll(":scope > details > .comment-actions .vote-form")) {
          const button = other.querySelector("button");
          const direction = button.classList.contains("up") ? 1 : -1;
          const pressed = outcome.my_vote === direction;
          button.setAttribute("aria-pressed", String(pressed));
          other.querySelector("input[name=value]").value = pressed ? 0 : direction;
        }
      });
    } else if (form.classList.contains("save-form")) {
      // Save and unsave without a reload.
      event.preventDefault();
      postForJson(form, function (outcome) {
        const button = form.querySelector("button");
        button.setAttribute("aria-pressed", String(outcome.saved));
        button.textContent = outcome.saved ? "★ Saved" : "☆ Save";
        form.querySelector("input[name=action]").value = outcome.saved ? "unsave" : "save";
      });
    }
  });

  // Reply and edit forms open in place: the form is taken from the page that would
  // otherwise open.
  document.addEventListener("click", async function (event) {
    const link = event.target.closest && event.target.closest("a[data-reply], a[data-edit]");
    if (!link) return;
    const actions = link.closest(".comment-actions");
    const open = actions.nextElementSibling;
    event.preventDefault();
    if (open && open.classList.contains("inline")) { open.remove(); return; }
    try {
      const response = await fetch(link.href, { credentials: "same-origin" });
      if (!response.ok) { window.location = link.href; return; }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const form = page.querySelector("form.compose");
      if (!form) { window.location = link.href; return; }
      form.classList.add("inline");
      const textarea = form.querySelector("textarea");
      textarea.id = "";
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "button secondary";
      cancel.textContent = "Cancel";
      cancel.addEventListener("click", function () { form.remove(); });
      form.querySelector(".compose-actions").appendChild(cancel);
      actions.after(form);
      textarea.focus();
    } catch (_) {
      window.location = link.href;
    }
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
  const source = new EventSource("/articles/" + encodeURIComponent(slug) + "/events");
  // Tells tests (and styles) that the page is listening.
  source.addEventListener("open", function () {
    section.setAttribute("data-live", "open");
  });
  source.addEventListener("comment", async function (event) {
    const data = JSON.parse(event.data);
    if (document.getElementById("comment-" + data.id)) return;
    const response = await fetch("/comments/" + data.id + "/fragment", { credentials: "same-origin" });
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    const item = template.content.firstElementChild;
    if (!item) return;
    item.classList.add("arrived");
    showTimes(item);
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
    const count = section.querySelector(".comment-count");
    if (count) count.textContent = String(Number(count.textContent) + 1);
  });
})();
