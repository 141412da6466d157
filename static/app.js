// Enhancements on top of pages that work without JavaScript, in a few small
// files: this one (dates in the person's time zone, the focus on a form's
// errors, and the messages the others announce), menus.js (menus and
// confirmation dialogs), secret.js (copy, show and hide of values), forms.js
// (the token forms), dialogs.js (Add and Edit in a dialog) and list.js
// (filters, selection and bulk actions).
"use strict";

(function () {
  // Dates arrive in UTC; show them in the person's own time zone, in the
  // one style of every page: "15 Apr 2023" over "12:34". The exact UTC
  // time stays in the title, shown on hover. A record's exact time is
  // marked to stay in UTC. localizeDates runs again on what a dialog
  // brings in.
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (n) => String(n).padStart(2, "0");
  function localizeDates(root) {
    for (const el of root.querySelectorAll("time[datetime]:not([data-utc])")) {
      const at = new Date(el.dateTime);
      if (isNaN(at)) continue;
      el.title = `${at.getUTCDate()} ${months[at.getUTCMonth()]} ${at.getUTCFullYear()}, ` +
        `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} UTC`;
      // The day is the element's first text, the time the span after it.
      const clock = el.lastElementChild;
      if (!clock || !el.firstChild) continue;
      el.firstChild.nodeValue = `${at.getDate()} ${months[at.getMonth()]} ${at.getFullYear()} `;
      clock.textContent = `${two(at.getHours())}:${two(at.getMinutes())}`;
    }
  }
  localizeDates(document);

  // A form sent back with problems puts the summary of them in focus.
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();

  // announce shows a message as the server's are shown, with its icon, but
  // over the page rather than above it, so that nothing the person is
  // looking at moves. A new message replaces the last.
  // The region is kept by reference: a dialog that held it may have been
  // emptied since.
  const region = document.querySelector("[data-toasts]");
  function announce(message, kind) {
    if (!region) return;
    // A modal dialog covers the page: the message goes over the dialog.
    const host = [...document.querySelectorAll("dialog[open]")].pop() || document.body;
    const moved = region.parentElement !== host;
    if (moved) host.append(region);
    kind = kind || "success";
    const flash = document.createElement("div");
    flash.className = "flash flash-" + kind;
    flash.dataset.flash = kind;
    const icons = document.querySelector("template[data-flash-icons]");
    const icon = icons && icons.content.querySelector(`[data-icon="${kind === "success" ? "success" : "error"}"] svg`);
    if (icon) flash.append(icon.cloneNode(true));
    const text = document.createElement("span");
    text.textContent = message;
    flash.append(text);
    // A live region is read out when what it holds changes, not when it is
    // put in place: one just moved is filled a moment later.
    const show = () => {
      region.replaceChildren(flash);
      clearTimeout(announce.timer);
      announce.timer = setTimeout(() => flash.remove(), 6000);
    };
    if (moved) setTimeout(show, 100);
    else show();
  }

  // plainClick tells a click the page may take over (open a dialog in
  // place of following the link) from one that asks the browser for a new
  // tab, a window or a download.
  const plainClick = (ev) => !ev.defaultPrevented && ev.button === 0 && !ev.metaKey && !ev.ctrlKey && !ev.shiftKey && !ev.altKey;

  // fillUsage puts into el what the confirmation page that response brings
  // says about the tokens' recent use: the dialogs ask the server, which
  // counts, rather than the page, which may be old. A later call wins over
  // one still under way.
  let usageAsked = 0;
  function fillUsage(el, response) {
    const asked = ++usageAsked;
    el.hidden = false;
    el.classList.remove("usage-in-use");
    el.textContent = "Checking recent use…";
    const fail = () => {
      if (asked === usageAsked) el.textContent = "Recent use could not be checked.";
    };
    response.then((res) => res.text().then((html) => {
      if (asked !== usageAsked) return;
      const note = new DOMParser().parseFromString(html, "text/html").querySelector("[data-usage]");
      if (!note) return fail();
      el.textContent = note.textContent;
      el.classList.toggle("usage-in-use", note.classList.contains("usage-in-use"));
    }), fail);
  }

  window.apitokens = { announce, plainClick, localizeDates, fillUsage };
})();
