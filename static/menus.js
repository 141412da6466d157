// Menus close when another opens and move with the keyboard; confirmation
// links open a dialog instead of a page; a confirmed action's button says
// it is working and refuses a second click.
"use strict";

(function () {
  const menus = () => document.querySelectorAll("details[data-menu]");

  function closeMenus(except) {
    for (const m of menus()) {
      if (m !== except) m.open = false;
    }
  }

  document.addEventListener("toggle", (ev) => {
    const m = ev.target;
    if (m instanceof HTMLDetailsElement && m.matches("[data-menu]") && m.open) {
      closeMenus(m);
      const first = m.querySelector("[data-menu] > ul a");
      if (first) first.focus();
    }
  }, true);

  // With a menu open, a click elsewhere only closes it: it neither follows
  // a link nor presses a button, which the person may not have seen under
  // the menu. Another menu's button is the exception: it opens that menu.
  // Listening in the capture phase, this runs before anything else.
  const popups = "details[data-menu], details[data-columns]";
  document.addEventListener("click", (ev) => {
    const open = [...document.querySelectorAll("details[data-menu][open], details[data-columns][open]")];
    if (open.length === 0) return;
    const inside = ev.target.closest(popups);
    for (const m of open) {
      if (m !== inside) m.open = false;
    }
    if (inside && (inside.open || ev.target.closest("summary"))) return;
    ev.preventDefault();
    ev.stopPropagation();
  }, true);

  // In an open menu, the arrow keys, Home and End move between the items,
  // Escape closes it and gives focus back to its button. On a closed
  // menu's button, the down arrow opens it.
  document.addEventListener("keydown", (ev) => {
    const popup = document.querySelector("details[data-columns][open]");
    if (popup && ev.key === "Escape") {
      popup.open = false;
      popup.querySelector("summary").focus();
      return;
    }
    const open = document.querySelector("details[data-menu][open]");
    if (ev.key === "ArrowDown" && !open && ev.target.matches("details[data-menu] > summary")) {
      ev.preventDefault();
      ev.target.parentElement.open = true;
      return;
    }
    if (!open) return;
    if (ev.key === "Escape") {
      open.open = false;
      open.querySelector("summary").focus();
      return;
    }
    const items = [...open.querySelectorAll("[data-menu] > ul a")];
    const at = items.indexOf(document.activeElement);
    let next = -1;
    switch (ev.key) {
      case "ArrowDown": next = (at + 1) % items.length; break;
      case "ArrowUp": next = (at - 1 + items.length) % items.length; break;
      case "Home": next = 0; break;
      case "End": next = items.length - 1; break;
      case "Tab": open.open = false; return;
      default: return;
    }
    ev.preventDefault();
    items[next].focus();
  });

  // A confirmation link opens its action's dialog, filled in for the token.
  // The action is the last step of the link's address (…/disable), which
  // the list's rows then need not repeat; Edit has no such dialog.
  document.addEventListener("click", (ev) => {
    const link = ev.target.closest("[data-menu] > ul a");
    if (!link || !window.apitokens.plainClick(ev)) return;
    const dialog = document.getElementById(link.pathname.split("/").pop() + "-dialog");
    if (!dialog || !dialog.querySelector("form[data-dialog-form]") || typeof dialog.showModal !== "function") return;
    ev.preventDefault();
    const form = dialog.querySelector("form");
    form.action = link.pathname;
    const menu = link.closest("details[data-menu]");
    // A row names its token once, in its link; elsewhere the menu or the
    // link carries the name.
    const row = link.closest("tr[data-token-id]");
    const token = row ? { tokenId: row.dataset.tokenId, tokenName: document.getElementById("n-" + row.dataset.tokenId).textContent }
      : menu ? menu.dataset : link.dataset;
    for (const el of dialog.querySelectorAll("[data-fill=name]")) el.textContent = token.tokenName;
    for (const el of dialog.querySelectorAll("[data-fill=id]")) el.textContent = token.tokenId;
    const reason = form.querySelector("input[name=reason]");
    if (reason) reason.value = "";
    const usage = dialog.querySelector("[data-fill=usage]");
    if (usage) window.apitokens.fillUsage(usage, fetch(link.href, { credentials: "same-origin" }));
    if (menu) menu.open = false;
    dialog.returnFocus = menu ? menu.querySelector("summary") : link;
    dialog.showModal();
    dialog.querySelector("[data-dialog-cancel]").focus();
  });

  // Cancel and Close shut the dialog they are in. Close is a link to the
  // list on the form's own page, where there is no dialog to shut.
  document.addEventListener("click", (ev) => {
    const button = ev.target.closest("[data-dialog-cancel], [data-dialog-close]");
    const dialog = button && button.closest("dialog");
    if (!dialog) return;
    ev.preventDefault();
    dialog.close();
  });

  document.addEventListener("close", (ev) => {
    const dialog = ev.target;
    if (dialog instanceof HTMLDialogElement && dialog.returnFocus) dialog.returnFocus.focus();
  }, true);

  // While a confirmed action is posted, say so and refuse a second click.
  document.addEventListener("submit", (ev) => {
    if (ev.defaultPrevented) return;
    const button = ev.submitter && ev.submitter.matches("button[data-working]") ? ev.submitter : null;
    if (!button) return;
    if (button.disabled) {
      ev.preventDefault();
      return;
    }
    button.textContent = button.dataset.working;
    button.setAttribute("aria-busy", "true");
    // Disable after the submit has been dispatched, so the form still posts.
    setTimeout(() => { button.disabled = true; }, 0);
  });
})();
