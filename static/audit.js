// Record details of the audit trail: View details opens them in a dialog,
// the record's own page fetched, whose Copy buttons secret.js runs.
"use strict";

(function () {
  const dialog = document.querySelector("[data-record-dialog]");
  if (!dialog || typeof dialog.showModal !== "function" || !window.fetch || !window.DOMParser) return;
  const body = dialog.querySelector("[data-record-body]");

  document.addEventListener("click", async (ev) => {
    const link = ev.target.closest("a[data-record-link]");
    if (!link || !window.apitokens.plainClick(ev)) return;
    ev.preventDefault();
    let record = null;
    try {
      const res = await fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (res.ok && !res.redirected) {
        record = new DOMParser().parseFromString(await res.text(), "text/html").querySelector("[data-record]");
      }
    } catch (err) {
      record = null;
    }
    if (!record) {
      // The page itself says what went wrong (signed out, deleted…).
      window.location.assign(link.href);
      return;
    }
    body.replaceChildren(document.adoptNode(record));
    window.apitokens.showCopyButtons(body);
    dialog.returnFocus = link;
    dialog.showModal();
    dialog.querySelector("[data-dialog-cancel]").focus();
  });
})();
