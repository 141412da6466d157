// Enhancements on top of pages that work without JavaScript: menus close
// when another opens, confirmation links open a dialog instead of a page,
// copy buttons copy.
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
      const first = m.querySelector(".menu-item");
      if (first) first.focus();
    }
  }, true);

  // Close the other menus on the click itself: the toggle event comes later.
  document.addEventListener("click", (ev) => {
    closeMenus(ev.target.closest("details[data-menu]"));
  });

  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    const open = document.querySelector("details[data-menu][open]");
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });

  // A confirmation link opens its action's dialog, filled in for the token.
  document.addEventListener("click", (ev) => {
    const link = ev.target.closest("a[data-action]");
    if (!link || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    const dialog = document.getElementById(link.dataset.action + "-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    ev.preventDefault();
    const form = dialog.querySelector("form");
    form.action = link.pathname;
    for (const el of dialog.querySelectorAll("[data-fill=name]")) el.textContent = link.dataset.tokenName;
    for (const el of dialog.querySelectorAll("[data-fill=id]")) el.textContent = link.dataset.tokenId;
    const menu = link.closest("details[data-menu]");
    if (menu) menu.open = false;
    dialog.returnFocus = menu ? menu.querySelector("summary") : link;
    dialog.showModal();
    dialog.querySelector("[data-dialog-cancel]").focus();
  });

  document.addEventListener("click", (ev) => {
    const cancel = ev.target.closest("[data-dialog-cancel]");
    if (cancel) cancel.closest("dialog").close();
  });

  document.addEventListener("close", (ev) => {
    const dialog = ev.target;
    if (dialog instanceof HTMLDialogElement && dialog.returnFocus) dialog.returnFocus.focus();
  }, true);

  // While a confirmed action is posted, say so and refuse a second click.
  document.addEventListener("submit", (ev) => {
    const button = ev.target.querySelector("button[data-working]");
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

  // Copy buttons copy the text of the element they name, and say so.
  for (const button of document.querySelectorAll("[data-copy]")) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        announce("Copied to the clipboard.");
      } catch (err) {
        announce("Could not copy: select the text and copy it by hand.", "error");
      }
    });
  }

  function announce(message, kind) {
    const region = document.querySelector(".flashes");
    if (!region) return;
    const flash = document.createElement("div");
    flash.className = "flash flash-" + (kind || "success");
    flash.textContent = message;
    region.replaceChildren(flash);
  }
})();
