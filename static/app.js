// Afterword: small progressive enhancements. Every page works without this file.
"use strict";

(function () {
  // A form's own properties are read through the prototype: a field named `action`,
  // `method`, `id` or `submit` hides the property of the same name on the form itself.
  const Form = HTMLFormElement.prototype;
  function formProperty(form, name) {
    return Object.getOwnPropertyDescriptor(Form, name).get.call(form);
  }
  // Where `form` sends its data when `submitter` submits it.
  function actionOf(form, submitter) {
    if (submitter && submitter.hasAttribute("formaction")) return submitter.formAction;
    return formProperty(form, "action");
  }
  // The fields `submitter` sends with `form`, its own name and value included.
  function fieldsOf(form, submitter) {
    return new URLSearchParams(new FormData(form, submitter || null));
  }

  // Set while a form is sent the ordinary way after a failed request.
  let plain = false;
  function submitPlainly(form, submitter) {
    plain = true;
    try {
      Form.requestSubmit.call(form, submitter || null);
    } finally {
      plain = false;
    }
  }

  // Posts `fields` to `url` asking for JSON back. Resolves to { ok, status, data }, with
  // `data` the parsed answer (a refusal's `{ code, message }` included); a response that is
  // not JSON has `data` null, and a refusal's reason is read from its page then. Rejects
  // when the site cannot be reached.
  async function post(url, fields) {
    const response = await fetch(url, {
      method: "POST",
      body: fields,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const type = response.headers.get("Content-Type") || "";
    let data = null;
    if (type.includes("application/json")) {
      data = await response.json().catch(function () { return null; });
    } else if (!response.ok && type.includes("text/html")) {
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const reason = page.querySelector("[role=alert]") || page.querySelector(".error-page h1 + p");
      if (reason) data = { message: reason.textContent.trim() };
    }
    return { ok: response.ok, status: response.status, url: response.url, data: data };
  }

  // Posts `fields` to `url` asking for JSON back; on any failure, `fallback` sends it the
  // ordinary way.
  async function postForJson(url, fields, fallback, apply) {
    let answer;
    try {
      answer = await post(url, fields);
    } catch (_) {
      fallback();
      return;
    }
    if (!answer.ok || !answer.data) { fallback(); return; }
    apply(answer.data);
  }

  // A form or submit button with `data-confirm="question"` asks first. Accepted, the
  // request carries `confirm=yes` (which the server asks for when the page had no script
  // to ask); cancelled, nothing is sent.
  function confirmed(event, form, submitter) {
    const asker = submitter && submitter.hasAttribute("data-confirm") ? submitter
      : form.hasAttribute("data-confirm") ? form : null;
    if (!asker) return true;
    if (!window.confirm(asker.getAttribute("data-confirm"))) {
      event.preventDefault();
      return false;
    }
    // The form's data is gathered as soon as this event ends: the field is in it, and
    // gone afterwards (a form shared by several buttons asks again next time).
    const field = document.createElement("input");
    field.type = "hidden";
    field.name = "confirm";
    field.value = "yes";
    form.appendChild(field);
    setTimeout(function () { field.remove(); }, 0);
    return true;
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const button = event.submitter;
    if (plain) return;
    if (!confirmed(event, form, button)) return;
    if (form.getAttribute("id") === "comment-actions" && button && button.classList.contains("vote")) {
      // Votes without a reload. The buttons of a comment submit the page's one form.
      event.preventDefault();
      const fields = fieldsOf(form, button);
      postForJson(actionOf(form, button), fields, function () { submitPlainly(form, button); }, function (outcome) {
        const comment = button.closest(".comment");
        const score = comment.querySelector(":scope > details > .comment-meta [data-score]");
        if (score) score.textContent = points(outcome.score);
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
      const fields = fieldsOf(form, button);
      postForJson(actionOf(form, button), fields, function () { submitPlainly(form, button); }, function (outcome) {
        const toggle = form.querySelector("button");
        toggle.setAttribute("aria-pressed", String(outcome.saved));
        toggle.textContent = outcome.saved ? "★ Saved" : "☆ Save";
        form.querySelector("input[name=action]").value = outcome.saved ? "unsave" : "save";
      });
    } else if (form.classList.contains("compose") && section) {
      // A comment, a reply or an edit is sent from the thread, which the reader does not
      // leave; a refusal keeps the text and says why.
      event.preventDefault();
      compose(form, button);
    }
  });

  function points(score) {
    return score + (Math.abs(score) === 1 ? " point" : " points");
  }

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

  // Closes a box opened in place, asking first when the reader has written in it.
  function discard(form) {
    const box = form.querySelector("textarea");
    const changed = box && box.value.trim() && box.value !== box.defaultValue;
    if (changed && !window.confirm("Discard what you wrote?")) return;
    form.remove();
  }

  // Reply and edit forms open in place: the form is taken from the page that would
  // otherwise open.
  let forms = 0;
  document.addEventListener("click", async function (event) {
    const link = event.target.closest && event.target.closest("a[data-reply], a[data-edit]");
    if (!link) return;
    const actions = link.closest(".comment-actions");
    const open = actions.nextElementSibling;
    event.preventDefault();
    if (open && open.classList.contains("inline")) { discard(open); return; }
    const form = await fromPage(link.href, function (page) { return page.querySelector("form.compose"); });
    if (!form) return;
    form.classList.add("inline");
    if (link.hasAttribute("data-edit")) form.setAttribute("data-edits", link.getAttribute("data-edit"));
    // A box whose id the page already uses (the comment box under the article) gets one
    // of its own, and its label with it.
    const textarea = form.querySelector("textarea");
    if (!textarea.id || document.getElementById(textarea.id)) {
      const label = textarea.id && form.querySelector("label[for='" + CSS.escape(textarea.id) + "']");
      textarea.id = "compose-" + ++forms;
      if (label) label.htmlFor = textarea.id;
    }
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button secondary";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () { discard(form); });
    form.querySelector(".compose-actions").appendChild(cancel);
    actions.after(form);
    textarea.focus();
  });

  // Sends a compose form (a new comment, a reply, an edit, or a preview of one).
  async function compose(form, submitter) {
    if (form.getAttribute("aria-busy") === "true") return;
    const preview = submitter && submitter.name === "action" && submitter.value === "preview";
    const fields = fieldsOf(form, submitter);
    form.setAttribute("aria-busy", "true");
    let answer;
    try {
      answer = await post(actionOf(form, submitter), fields);
    } catch (_) {
      answer = null;
    } finally {
      form.removeAttribute("aria-busy");
    }
    if (!answer) {
      refuse(form, "The site could not be reached. Your text is still here: try again in a moment.");
      return;
    }
    if (!answer.ok) {
      const reason = answer.data && answer.data.message;
      refuse(form, reason || "This could not be sent (error " + answer.status + "). Your text is still here.");
      return;
    }
    if (!answer.data) {
      // Sent, but not answered as a script asks: the page the server went on to.
      window.location = answer.url;
      return;
    }
    refuse(form, null);
    if (preview && "preview" in answer.data) {
      showPreview(form, answer.data.preview);
    } else if (form.hasAttribute("data-edits")) {
      await edited(form, answer.data);
    } else {
      await posted(form, answer.data);
    }
  }

  // Shows why `form` was refused next to its buttons (or, with null, that it no longer is).
  function refuse(form, message) {
    const textarea = form.querySelector("textarea");
    let alert = form.querySelector(":scope > .form-refusal");
    if (message === null) {
      if (alert) alert.remove();
      if (textarea) { textarea.removeAttribute("aria-invalid"); textarea.removeAttribute("aria-describedby"); }
      return;
    }
    if (!alert) {
      alert = document.createElement("p");
      alert.className = "flash error form-refusal";
      alert.setAttribute("role", "alert");
      alert.id = "refusal-" + ++forms;
      form.insertBefore(alert, form.querySelector(".compose-actions"));
    }
    alert.textContent = message;
    if (textarea) {
      textarea.setAttribute("aria-invalid", "true");
      textarea.setAttribute("aria-describedby", alert.id);
    }
  }

  // The server's rendering of the text (Markdown made safe there), shown above the buttons.
  function showPreview(form, html) {
    let shown = form.querySelector(":scope > .preview");
    if (!shown) {
      shown = document.createElement("section");
      shown.className = "preview";
      shown.setAttribute("aria-label", "Preview");
      const heading = document.createElement("h2");
      heading.textContent = "Preview";
      const body = document.createElement("div");
      body.className = "comment-body";
      shown.append(heading, body);
      form.insertBefore(shown, form.querySelector(".compose-actions"));
    }
    const template = document.createElement("template");
    template.innerHTML = html;
    shown.querySelector(".comment-body").replaceChildren(template.content);
  }

  // A new comment or reply was taken: it takes its place in the thread, and the reader
  // stays there, at it.
  async function posted(form, outcome) {
    mine.add(String(outcome.id));
    const item = await commentOf({ id: outcome.id });
    if (!item) { window.location = outcome.location; return; }
    dropArrival(String(outcome.id));
    if (!place(item, outcome.parent_id)) { window.location = outcome.location; return; }
    if (form.classList.contains("inline")) {
      form.remove();
    } else {
      Form.reset.call(form);
      for (const extra of form.querySelectorAll(":scope > .preview")) extra.remove();
      form.dispatchEvent(new CustomEvent("afterword:posted"));
    }
    count(1);
    history.replaceState(history.state, "", "#comment-" + outcome.id);
    focusComment(item);
  }

  // An edit was taken: the comment shows its new text, its replies and buttons kept.
  async function edited(form, outcome) {
    const old = document.getElementById("comment-" + outcome.id);
    const item = await commentOf({ id: outcome.id });
    if (!old || !item) { window.location = outcome.location; return; }
    form.remove();
    refresh(old, item, true);
    focusComment(old);
  }

  // Moves the keyboard (and the view) to a comment, at its author's name.
  function focusComment(item) {
    const target = item.querySelector(":scope > details > .comment-meta .author") || item;
    if (target.tagName !== "A") target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

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
    for (const node of replies) if (node.dataset.id) dropArrival(node.dataset.id);
    const nodes = replies.map(function (node) { return document.adoptNode(node); });
    item.replaceWith.apply(item, nodes);
    for (const node of nodes) showTimes(node);
    const first = nodes.find(function (node) { return node.classList.contains("comment"); });
    if (first) focusComment(first);
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

  // The thread of an article page (or of a comment's own page).
  const section = document.querySelector("section#comments");
  // Comments this page sent: their live event brings nothing new.
  const mine = new Set();

  // The comment an event names, as HTML: sent with the event, or (for readers whose
  // buttons differ on every comment) fetched.
  async function commentOf(data) {
    let html = data.html;
    if (html === undefined) {
      try {
        const response = await fetch("/comments/" + data.id + "/fragment", { credentials: "same-origin" });
        if (!response.ok) return null;
        html = await response.text();
      } catch (_) {
        return null;
      }
    }
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const item = template.content.firstElementChild;
    if (item) showTimes(item);
    return item;
  }

  // Puts a comment where it belongs: a reply last under its parent (before a "more
  // replies" link), a new comment first in the thread. False when its parent is not here.
  function place(item, parentId) {
    if (parentId) {
      const parent = document.getElementById("comment-" + parentId);
      const details = parent && parent.querySelector(":scope > details");
      if (!details) return false;
      let replies = details.querySelector(":scope > ol.replies");
      if (!replies) {
        replies = document.createElement("ol");
        replies.className = "replies";
        details.appendChild(replies);
      }
      replies.insertBefore(item, replies.querySelector(":scope > li.more-replies"));
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
    return true;
  }

  function count(change) {
    const counter = section && section.querySelector(".comment-count");
    if (counter) counter.textContent = String(Math.max(0, Number(counter.textContent) + change));
  }

  // Replaces what `old` shows by what `item` shows, its replies kept; for an edit, only
  // its text and its line (the reader's own buttons stay as they are).
  function refresh(old, item, textOnly) {
    const details = old.querySelector(":scope > details");
    const fresh = item.querySelector(":scope > details");
    if (!details || !fresh) return;
    if (textOnly) {
      for (const part of [".comment-meta", ".comment-body"]) {
        const now = fresh.querySelector(":scope > " + part);
        const was = details.querySelector(":scope > " + part);
        if (now && was) was.replaceWith(now);
      }
      return;
    }
    const replies = details.querySelector(":scope > ol.replies, :scope > p.continue");
    details.replaceChildren(...fresh.childNodes);
    if (replies) details.appendChild(replies);
  }

  // New comments from others wait behind a notice until the reader asks for them; the
  // notice is a polite live region, so it is announced without taking the focus.
  const arrivals = new Map();
  let arrivalsNote = null;
  let arrivalsCount = null;
  let arrivalsButton = null;
  function dropArrival(id) {
    if (arrivals.delete(id)) showArrivals();
  }
  function showArrivals() {
    if (!arrivalsNote) return;
    const n = arrivals.size;
    arrivalsCount.textContent = n === 0 ? "" : n === 1 ? "1 new comment" : n + " new comments";
    if (n === 0) arrivalsButton.remove();
    else if (!arrivalsButton.isConnected) arrivalsNote.append(arrivalsButton);
    arrivalsNote.classList.toggle("waiting", n > 0);
  }
  function revealArrivals() {
    const waiting = Array.from(arrivals.values());
    arrivals.clear();
    showArrivals();
    let shown = 0;
    let first = null;
    // In the order they came: a reply to a new comment finds its parent in place.
    for (const arrival of waiting) {
      if (!place(arrival.item, arrival.parent)) continue;
      shown += 1;
      if (!first || first.compareDocumentPosition(arrival.item) & Node.DOCUMENT_POSITION_PRECEDING) first = arrival.item;
    }
    count(shown);
    if (first) focusComment(first);
  }
  // A comment shown in the page, or one waiting to be.
  function findComment(id) {
    const arrival = arrivals.get(String(id));
    return arrival ? arrival.item : document.getElementById("comment-" + id);
  }

  // New comments and changes arrive while the article is open.
  if (!section || !section.hasAttribute("data-article") || !window.EventSource) return;
  const slug = section.getAttribute("data-article");
  // From the last change the page shows: nothing between its rendering and now is lost.
  const after = section.getAttribute("data-live-after") || "";
  const source = new EventSource("/articles/" + encodeURIComponent(slug) + "/events?after=" + encodeURIComponent(after));
  // Tells tests (and styles) that the page is listening.
  source.addEventListener("open", function () {
    section.setAttribute("data-live", "open");
  });

  const heading = section.querySelector(":scope > h2");
  arrivalsNote = document.createElement("div");
  arrivalsNote.className = "live-arrivals";
  arrivalsCount = document.createElement("span");
  arrivalsCount.className = "live-arrivals-count";
  arrivalsCount.setAttribute("aria-live", "polite");
  arrivalsCount.setAttribute("aria-atomic", "true");
  arrivalsButton = document.createElement("button");
  arrivalsButton.type = "button";
  arrivalsButton.className = "button secondary";
  arrivalsButton.textContent = "Show them";
  arrivalsButton.addEventListener("click", revealArrivals);
  arrivalsNote.append(arrivalsCount);
  section.insertBefore(arrivalsNote, heading ? heading.nextSibling : section.firstChild);

  function notice(text) {
    let note = section.querySelector(":scope > p.live-notice");
    if (!note) {
      note = document.createElement("p");
      note.className = "live-notice notice";
      note.setAttribute("role", "status");
      section.insertBefore(note, arrivalsNote.nextSibling);
    }
    note.textContent = text;
  }
  source.addEventListener("comment", async function (event) {
    const data = JSON.parse(event.data);
    const id = String(data.id);
    if (data.gone || mine.has(id) || findComment(id)) return;
    // A reply goes under its parent: one this page does not show is left out.
    if (data.parent_id && !findComment(data.parent_id)) return;
    const item = await commentOf(data);
    if (!item || mine.has(id) || findComment(id)) return;
    // A thread filtered to one takeaway takes only the new comments that quote it.
    const filter = section.getAttribute("data-takeaway");
    if (filter && !data.parent_id) {
      const quoted = item.querySelector(":scope > details > .comment-quote figcaption a");
      if (!quoted || !quoted.getAttribute("href").endsWith("#takeaway-" + filter)) return;
    }
    item.classList.add("arrived");
    arrivals.set(id, { item: item, parent: data.parent_id || null });
    showArrivals();
  });
  // An edit, a deletion, a removal or a restoration: the comment is replaced, its
  // replies kept.
  async function replace(event) {
    const data = JSON.parse(event.data);
    const old = findComment(data.id);
    if (!old) return;
    if (data.gone) {
      const replies = old.querySelector(":scope > details > ol.replies");
      if (!replies || !replies.children.length) {
        old.remove();
        dropArrival(String(data.id));
      }
      return;
    }
    const item = await commentOf(data);
    if (item) refresh(old, item, event.type === "edit");
  }
  source.addEventListener("edit", replace);
  source.addEventListener("status", replace);
  source.addEventListener("votes", function (event) {
    const data = JSON.parse(event.data);
    const comment = findComment(data.id);
    const score = comment && comment.querySelector(":scope > details > .comment-meta [data-score]");
    if (score) score.textContent = points(data.score);
  });
  source.addEventListener("lock", function (event) {
    const data = JSON.parse(event.data);
    if (data.locked) {
      notice("Comments on this article are now closed." + (data.reason ? " " + data.reason : ""));
      section.querySelectorAll(".reply-link, .vote").forEach(function (el) { el.remove(); });
      // A box the reader has written in stays, with its text, until they leave it.
      section.querySelectorAll("form.compose").forEach(function (form) {
        const textarea = form.querySelector("textarea");
        if (!textarea || !textarea.value.trim()) form.remove();
      });
    } else {
      notice("Comments on this article are open again: reload the page to take part.");
    }
  });
  source.addEventListener("reset", function () {
    notice("Much has changed since this page was loaded: reload it to see everything.");
  });
})();

// Quoting the article in a comment: select a passage of the summary or of a takeaway and
// press "Quote in a comment", or follow a takeaway's "Discuss" link; either fills the
// comment form's quote fields, which the server checks. Without this, "Discuss" opens
// the page with the form quoting the takeaway, and the summary is quoted sentence by
// sentence through the same address (?quote=summary-N).
(function () {
  const form = document.getElementById("comment-form");
  const article = document.querySelector(".article");
  if (!article) return;
  const box = form && form.querySelector("#compose-quote");
  const field = form && form.querySelector("input[name=quote]");
  const textField = form && form.querySelector("input[name=quote_text]");
  const textarea = form && form.querySelector("textarea");

  function normalise(text) { return text.replace(/\s+/g, " ").trim(); }

  // Puts a quote in the form: `kind` "takeaway" or "summary", `number` from 1.
  function quote(kind, number, text) {
    if (!form || !box) {
      window.location = "?quote=" + kind + "-" + number + "#comment-form";
      return;
    }
    field.value = kind + "-" + number;
    textField.value = text;
    box.querySelector("[data-quote-label]").textContent = kind === "takeaway" ? "takeaway " + number : "the summary";
    box.querySelector("[data-quote-text]").textContent = text;
    box.hidden = false;
    textarea.setAttribute("aria-describedby", box.id);
    form.scrollIntoView({ block: "center" });
    textarea.focus({ preventScroll: true });
  }

  function clear() {
    if (!form || !box) return;
    field.value = "";
    textField.value = "";
    box.hidden = true;
    textarea.removeAttribute("aria-describedby");
  }

  if (form) {
    form.addEventListener("afterword:posted", clear);
    const remove = form.querySelector("[data-quote-remove]");
    if (remove) remove.addEventListener("click", function (event) { event.preventDefault(); clear(); textarea.focus(); });
  }

  // "Discuss" quotes its takeaway in place.
  article.addEventListener("click", function (event) {
    const link = event.target.closest && event.target.closest("a.discuss");
    if (!link || !form) return;
    const item = link.closest(".takeaway-item");
    const text = item && item.querySelector("[data-takeaway]");
    if (!text) return;
    event.preventDefault();
    quote("takeaway", text.getAttribute("data-takeaway"), normalise(text.textContent));
  });

  const button = document.createElement("button");
  button.type = "button";
  button.className = "button quote-selection";
  button.textContent = "Quote in a comment";
  button.hidden = true;
  let chosen = null;
  button.addEventListener("click", function () {
    if (!chosen) return;
    const picked = chosen;
    button.hidden = true;
    quote(picked.kind, picked.number, picked.text);
  });

  // What the selection quotes: within one takeaway, or within the summary (numbered by
  // the sentence it starts in); null for anything else.
  function selected() {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || selection.rangeCount === 0) return null;
    const range = selection.getRangeAt(0);
    const start = range.startContainer.nodeType === 1 ? range.startContainer : range.startContainer.parentElement;
    const end = range.endContainer.nodeType === 1 ? range.endContainer : range.endContainer.parentElement;
    const area = start && start.closest("[data-quotable]");
    if (!area || !end || end.closest("[data-quotable]") !== area) return null;
    let text = normalise(selection.toString());
    if (!text) return null;
    if (text.length > 500) text = text.slice(0, 500).trim();
    if (area.getAttribute("data-quotable") === "takeaway") {
      return { kind: "takeaway", number: area.getAttribute("data-takeaway"), text: text, area: area, range: range };
    }
    let sentence = start.closest(".sentence");
    if (!sentence) {
      // Between two sentences: the one after.
      let node = range.startContainer;
      while (node && !(node.nodeType === 1 && node.classList.contains("sentence"))) {
        node = node.nextSibling || (node.parentNode !== area ? node.parentNode.nextSibling : null);
      }
      sentence = node;
    }
    if (!sentence) return null;
    return { kind: "summary", number: sentence.getAttribute("data-sentence"), text: text, area: area, range: range };
  }

  function offer() {
    chosen = selected();
    if (!chosen) { button.hidden = true; return; }
    // Next in the reading order: inside the takeaway's item, or after the summary.
    if (chosen.kind === "takeaway") {
      const item = chosen.area.closest(".takeaway-item");
      if (button.parentNode !== item) item.appendChild(button);
    } else if (button.previousElementSibling !== chosen.area) {
      chosen.area.after(button);
    }
    const rect = chosen.range.getBoundingClientRect();
    const parent = button.offsetParent || document.body;
    const origin = parent.getBoundingClientRect();
    button.hidden = false;
    const left = Math.max(0, Math.min(rect.left - origin.left, origin.width - button.offsetWidth));
    button.style.left = left + "px";
    button.style.top = (rect.bottom - origin.top + 6) + "px";
  }

  document.addEventListener("mouseup", function (event) {
    if (event.target === button) return;
    window.setTimeout(offer, 0);
  });
  document.addEventListener("keyup", function (event) {
    if (event.target === button) return;
    if (event.key === "Escape") { button.hidden = true; return; }
    if (event.shiftKey || event.key === "Shift") offer();
  });
})();
