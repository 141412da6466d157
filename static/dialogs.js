// Add, Edit and Rotate secret open in a dialog over the page they are asked from. The
// dialog shows the very form pages a browser without the script gets,
// fetched, and sends them as the browser would: the steps, rules and
// messages stay the server's. Where the flow ends on another page (the list
// after Save, the sign-in page), the browser goes there.
"use strict";

(function () {
  const dialog = document.querySelector("dialog[data-form-dialog]");
  if (!dialog || typeof dialog.showModal !== "function" || !window.fetch || !window.DOMParser) return;
  const addPath = dialog.dataset.addPath;
  let added = false; // the page behind is out of date once a token is added
  let busy = false;

  const opensDialog = (link) => link.pathname === addPath || /\/(edit|rotate)$/.test(link.pathname);

  document.addEventListener("click", (ev) => {
    const link = ev.target.closest("a[href]");
    if (!link || !window.apitokens.plainClick(ev)) return;
    if (link.origin !== location.origin || !opensDialog(link) || dialog.contains(link)) return;
    ev.preventDefault();
    const menu = link.closest("details[data-menu]");
    if (menu) menu.open = false;
    dialog.returnFocus = menu ? menu.querySelector("summary") : link;
    added = false;
    load(link.href, {}).then(() => {
      if (!dialog.open) dialog.showModal();
      focusFirst();
    }, () => location.assign(link.href));
  });

  // load asks for a form page and shows its form in the dialog; any other
  // page is where the flow has led.
  async function load(url, init) {
    const res = await fetch(url, { credentials: "same-origin", ...init });
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const content = doc.querySelector("[data-dialog-content]");
    if (content) {
      dialog.replaceChildren(document.importNode(content, true));
      if (content.hasAttribute("data-dialog-done")) added = true;
      window.apitokens.enhanceForm(dialog);
      window.apitokens.showCopyButtons(dialog);
      window.apitokens.localizeDates(dialog);
      return;
    }
    if (res.ok) {
      leave(res.url);
      return;
    }
    // An error page (a file far too large, a token deleted meanwhile):
    // its words, in the dialog, with a way out.
    const problem = doc.querySelector("main") || doc.body;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "button";
    close.textContent = "Close";
    close.dataset.dialogClose = "";
    const title = problem.querySelector("h1");
    if (title) title.id = "form-title";
    dialog.replaceChildren(...document.importNode(problem, true).childNodes, close);
  }

  // leave goes to the page the flow ended on: the same page again (its
  // filters kept) or another.
  function leave(url) {
    const to = new URL(url);
    if (to.pathname === location.pathname) location.reload();
    else location.assign(to.href);
  }

  function focusFirst() {
    const target = dialog.querySelector("[data-error-summary]:not([hidden])") ||
      dialog.querySelector("[autofocus]") ||
      dialog.querySelector("input:not([type=hidden]), select, textarea, button, a[href]");
    if (target) target.focus();
  }

  dialog.addEventListener("submit", async (ev) => {
    const form = ev.target;
    ev.preventDefault();
    if (busy) return;
    busy = true;
    const button = ev.submitter;
    let body;
    try {
      body = new FormData(form, button);
    } catch (err) {
      body = new FormData(form);
      if (button && button.name) body.append(button.name, button.value);
    }
    if (button && button.dataset.working) {
      button.textContent = button.dataset.working;
      button.setAttribute("aria-busy", "true");
    }
    try {
      await load(form.action, { method: "POST", body });
      focusFirst();
    } catch (err) {
      window.apitokens.announce("The form could not be sent. Check the connection and try again.", "error");
      if (button) button.removeAttribute("aria-busy");
    } finally {
      busy = false;
    }
  });

  // Closed by Close or Escape: the page behind shows what was added.
  dialog.addEventListener("close", () => {
    dialog.replaceChildren();
    if (added) location.reload();
  });
})();
