"use strict";

// The list: filters, selection and bulk actions. Everything here is an
// extra on top of plain forms: without it the filter form still filters,
// and the bulk buttons lead to a confirmation page.
(function () {
  // An applied filter or page size leaves out its empty fields, so the
  // address of the view says only what narrows it.
  for (const form of document.querySelectorAll("form[data-filters], form[data-page-size]")) {
    form.addEventListener("submit", () => {
      for (const el of form.elements) {
        if (el.name && el.value === "") el.disabled = true;
      }
    });
    // Back from the next page, the browser may restore the form as left.
    window.addEventListener("pageshow", () => {
      for (const el of form.elements) el.disabled = false;
    });
  }

  // The page size and the columns apply as they are chosen; their buttons
  // are for browsers without JavaScript.
  for (const el of document.querySelectorAll("[data-autosubmit]")) {
    el.addEventListener("change", () => el.form.requestSubmit());
    const button = el.form.querySelector("[data-autosubmit-button]");
    if (button) button.hidden = true;
  }

  // A modal dialog keeps the focus inside itself: Tab from its last control
  // goes to the first, Shift+Tab from the first to the last. Escape closes
  // it, as the browser does for every modal dialog.
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Tab") return;
    const dialog = [...document.querySelectorAll("dialog[open]")].pop();
    if (!dialog) return;
    const focusable = [...dialog.querySelectorAll("button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])")]
      .filter((el) => !el.disabled && !el.hidden && el.getClientRects().length > 0);
    if (focusable.length === 0) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const inside = dialog.contains(document.activeElement);
    if (ev.shiftKey && (document.activeElement === first || !inside)) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (document.activeElement === last || !inside)) {
      ev.preventDefault();
      first.focus();
    }
  });

  // A row's name is the link its checkbox is labelled by: "n-" and its ID.
  const nameLink = (id) => document.getElementById("n-" + id);
  // A name cut short shows in full on hover.
  for (const row of document.querySelectorAll("tr[data-token-id]")) {
    const a = nameLink(row.dataset.tokenId);
    if (a && a.scrollWidth > a.clientWidth) a.title = a.textContent;
  }

  const bulk = document.querySelector("form[data-bulk]");
  if (!bulk) return;
  const rows = () => [...bulk.querySelectorAll('input[name="ids"]')];
  const pageBox = document.querySelector("input[data-select-page]");
  const allBox = bulk.querySelector("input[data-select-all]");
  const count = bulk.querySelector("[data-selected-count]");
  const dialog = document.getElementById("bulk-dialog");

  const update = () => {
    const boxes = rows();
    const ticked = boxes.filter((b) => b.checked).length;
    if (pageBox) {
      pageBox.checked = ticked > 0 && ticked === boxes.length;
      pageBox.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    // Nothing to act on until a row is ticked: the actions say so by being
    // disabled. Without this script the server asks for a selection.
    const none = ticked === 0 && !(allBox && allBox.checked);
    for (const b of bulk.querySelectorAll("[data-bulk-action]")) b.disabled = none;
    count.classList.remove("bulk-problem");
    if (allBox && allBox.checked) {
      count.textContent = `All ${allBox.dataset.total} selected`;
    } else {
      count.textContent = ticked === 0 ? "None selected" : `${ticked} selected`;
    }
  };

  if (pageBox) {
    pageBox.hidden = false;
    pageBox.addEventListener("change", () => {
      for (const b of rows()) b.checked = pageBox.checked;
      if (allBox && !pageBox.checked) allBox.checked = false;
      update();
    });
  }
  if (allBox) {
    // "All matching" includes every row shown, so they are ticked with it.
    allBox.addEventListener("change", () => {
      for (const b of rows()) b.checked = allBox.checked;
      update();
    });
  }
  document.addEventListener("change", (ev) => {
    if (!ev.target.matches('input[name="ids"]')) return;
    if (!ev.target.checked && allBox) allBox.checked = false;
    update();
  });
  update();
  window.addEventListener("pageshow", update);

  const tokenName = (box) => {
    const link = nameLink(box.value);
    return link ? link.textContent : "";
  };

  // An action on the rows ticked asks in a dialog that names them; "all
  // matching" goes to the server's confirmation, which can count them.
  bulk.addEventListener("submit", (ev) => {
    const button = ev.submitter;
    if (!button || !button.matches("[data-bulk-action]") || (allBox && allBox.checked)) return;
    if (!dialog || typeof dialog.showModal !== "function") return;
    ev.preventDefault();
    const ticked = rows().filter((b) => b.checked);
    if (ticked.length === 0) {
      count.textContent = "Select at least one API token.";
      count.classList.add("bulk-problem");
      return;
    }
    const n = ticked.length;
    const noun = n === 1 ? "1 API token" : `${n} API tokens`;
    dialog.querySelector("[data-fill=title]").textContent = `${button.dataset.verb} ${noun}?`;
    const list = dialog.querySelector("[data-fill=names]");
    const shown = 20;
    list.replaceChildren(...ticked.slice(0, shown).map((b) => {
      const li = document.createElement("li");
      const name = document.createElement("strong");
      name.textContent = tokenName(b);
      const id = document.createElement("small");
      id.textContent = ` (${b.value})`;
      li.append(name, id);
      return li;
    }));
    if (n > shown) {
      const li = document.createElement("li");
      li.textContent = `and ${n - shown} more`;
      list.append(li);
    }
    const stops = button.hasAttribute("data-stops");
    const usage = dialog.querySelector("[data-fill=usage]");
    const reasonBox = dialog.querySelector("[data-bulk-reason]");
    const reason = reasonBox.querySelector("input[name=reason]");
    reasonBox.hidden = !stops;
    reason.value = "";
    usage.hidden = !stops;
    if (stops) {
      // The server's confirmation of these very tokens says what they have
      // been doing: the bulk form, posted without confirm, answers with it.
      const body = new FormData(bulk);
      body.set("action", button.value);
      window.apitokens.fillUsage(usage, fetch(bulk.getAttribute("action"), { method: "POST", body: new URLSearchParams(body), credentials: "same-origin" }));
    }
    const warning = dialog.querySelector("[data-fill=warning]");
    warning.textContent = button.dataset.warning;
    warning.classList.toggle("note-danger", button.hasAttribute("data-danger"));
    const confirm = dialog.querySelector("[data-bulk-confirm]");
    confirm.textContent = `${button.dataset.verb} ${noun}`;
    confirm.disabled = false;
    confirm.removeAttribute("aria-busy");
    confirm.classList.toggle("button-danger", button.hasAttribute("data-danger"));
    confirm.classList.toggle("button-primary", !button.hasAttribute("data-danger"));
    confirm.onclick = () => {
      const added = [];
      const fields = [["action", button.value], ["confirm", "1"]];
      if (stops && reason.value.trim() !== "") fields.push(["reason", reason.value]);
      for (const [name, value] of fields) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        added.push(input);
      }
      bulk.append(...added);
      confirm.textContent = button.dataset.bulkWorking;
      confirm.setAttribute("aria-busy", "true");
      confirm.disabled = true;
      // Not requestSubmit: that would come back to this handler. The form
      // is read as submit() runs, so the confirmation goes with this
      // request only, and never with a later one from a restored page.
      HTMLFormElement.prototype.submit.call(bulk);
      for (const input of added) input.remove();
    };
    // Enter in the reason confirms, as it does in the other dialogs' forms.
    reason.onkeydown = (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        confirm.click();
      }
    };
    dialog.returnFocus = button;
    dialog.showModal();
    dialog.querySelector("[data-dialog-cancel]").focus();
  });
})();
