// Record details of the audit trail: View details opens them in a dialog
// (the record's own page, fetched), and each fact's Copy button copies it.
"use strict";

(function () {
  const dialog = document.querySelector("[data-record-dialog]");

  // Copy buttons wait for the script: without it, the text is selectable.
  const showCopyButtons = (root) => {
    if (!navigator.clipboard) return;
    for (const b of root.querySelectorAll("[data-copy-value]")) b.hidden = false;
  };
  showCopyButtons(document);

  // say tells what happened: in the dialog when one is open, since the
  // page behind it is out of reach, on the page otherwise.
  const say = (button, message, kind) => {
    const status = button.closest("dialog") && button.closest("dialog").querySelector("[data-record-status]");
    if (!status) return window.apitokens.announce(message, kind);
    status.textContent = message;
    status.dataset.kind = kind || "success";
  };

  document.addEventListener("click", async (ev) => {
    const button = ev.target.closest("[data-copy-value]");
    if (!button) return;
    try {
      await navigator.clipboard.writeText(button.dataset.copyValue);
      say(button, button.dataset.copied);
    } catch (err) {
      say(button, "Could not copy: select the text and copy it by hand.", "error");
    }
  });

  if (!dialog || typeof dialog.showModal !== "function" || !window.fetch || !window.DOMParser) return;
  const body = dialog.querySelector("[data-record-body]");
  const status = dialog.querySelector("[data-record-status]");

  document.addEventListener("click", async (ev) => {
    const link = ev.target.closest("a[data-record-link]");
    if (!link || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
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
    status.textContent = "";
    showCopyButtons(body);
    dialog.returnFocus = link;
    dialog.showModal();
    dialog.querySelector("[data-dialog-cancel]").focus();
  });
})();
