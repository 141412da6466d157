// Enhancements on top of pages that work without JavaScript, in a few small
// files: this one (dates in the person's time zone, the focus on a form's
// errors, and the message area the others write to), menus.js (menus and
// confirmation dialogs), secret.js (copy, show and hide of values), forms.js
// (the token forms) and list.js (filters, selection and bulk actions).
"use strict";

(function () {
  // Dates arrive in UTC; show them in the person's own time zone and
  // format. The exact UTC time stays in the title, shown on hover.
  if (window.Intl) {
    const day = { year: "numeric", month: "short", day: "numeric" };
    const formats = {
      date: new Intl.DateTimeFormat(undefined, day),
      datetime: new Intl.DateTimeFormat(undefined, { ...day, hour: "numeric", minute: "2-digit", timeZoneName: "short" }),
    };
    for (const el of document.querySelectorAll("time[data-local]")) {
      const when = new Date(el.dateTime);
      const format = formats[el.dataset.local];
      if (format && !isNaN(when)) el.textContent = format.format(when);
    }
  }

  // A form sent back with problems puts the summary of them in focus.
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();

  // announce shows a message where the server's flash messages go.
  function announce(message, kind) {
    const region = document.querySelector("[data-flashes]");
    if (!region) return;
    const flash = document.createElement("div");
    flash.className = "flash flash-" + (kind || "success");
    flash.dataset.flash = kind || "success";
    flash.textContent = message;
    region.replaceChildren(flash);
  }

  window.apitokens = { announce };
})();
