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

  // In an open menu, the arrow keys, Home and End move between the items,
  // Escape closes it and gives focus back to its button. On a closed
  // menu's button, the down arrow opens it.
  document.addEventListener("keydown", (ev) => {
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
    const items = [...open.querySelectorAll(".menu-item")];
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
  document.addEventListener("click", (ev) => {
    const link = ev.target.closest("a[data-action]");
    if (!link || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    const dialog = document.getElementById(link.dataset.action + "-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    ev.preventDefault();
    const form = dialog.querySelector("form");
    form.action = link.pathname;
    const menu = link.closest("details[data-menu]");
    const token = menu ? menu.dataset : link.dataset;
    for (const el of dialog.querySelectorAll("[data-fill=name]")) el.textContent = token.tokenName;
    for (const el of dialog.querySelectorAll("[data-fill=id]")) el.textContent = token.tokenId;
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

  // Copy buttons copy the value of the element they name (its data-value,
  // so that a masked value copies too), and say so.
  for (const button of document.querySelectorAll("[data-copy]")) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      const source = document.getElementById(button.dataset.copy);
      copy(source.dataset.value || source.textContent.trim(), button.dataset.copied);
    });
  }

  async function copy(text, message) {
    try {
      await navigator.clipboard.writeText(text);
      announce(message || "Copied to the clipboard.");
    } catch (err) {
      announce("Could not copy: select the text and copy it by hand.", "error");
    }
  }

  // Show and Hide of a value that is not secret (the API endpoint) happen
  // in the page; without the script they are links.
  document.addEventListener("click", (ev) => {
    const toggle = ev.target.closest("[data-mask-toggle]");
    if (!toggle) return;
    ev.preventDefault();
    const code = document.getElementById(toggle.getAttribute("aria-controls"));
    const masked = code.hasAttribute("data-masked");
    code.textContent = masked ? code.dataset.value : "••••••••••••••••••••••••";
    code.toggleAttribute("data-masked", !masked);
    toggle.textContent = masked ? "Hide" : "Show";
  });

  // The token value: Show and Copy ask the server for it (a POST with the
  // CSRF token), confirming the password in a dialog when the server asks.
  const reveal = document.querySelector("form[data-reveal]");
  if (reveal && window.fetch) {
    const code = document.getElementById("token-value");
    const showButton = reveal.querySelector("[data-reveal-show]");
    const copyButton = reveal.querySelector("[data-reveal-copy]");
    const dialog = document.getElementById("password-dialog");
    const masked = code.textContent;
    let value = "";
    if (navigator.clipboard) copyButton.hidden = false;

    // post asks the server for the value. It answers {"token": …}, or a
    // problem (RFC 9457) saying why not; a session that has ended comes
    // back as the sign-in page, which is said in words.
    const post = async (password) => {
      const body = new FormData(reveal);
      if (password !== undefined) body.set("password", password);
      const res = await fetch(reveal.action, {
        method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" },
      });
      if (res.redirected || !/[/+]json\b/.test(res.headers.get("Content-Type") || "")) {
        throw new Error("You have been signed out. Reload the page and sign in to show the token value.");
      }
      return { res, data: await res.json().catch(() => ({})) };
    };

    // A problem about the password (required, wrong, or tried too often)
    // is answered in the password dialog; any other is an error.
    const passwordProblem = (data) => {
      const type = String(data.type || "");
      if (type.endsWith(":password-required")) return { ask: true, message: "" };
      const field = (data.errors || []).find((e) => e.field === "password");
      if (field) return { ask: true, message: field.detail };
      if (type.endsWith(":too-many-failures")) return { ask: true, message: data.detail };
      return { ask: false, message: data.detail };
    };

    const request = async () => {
      const { res, data } = await post();
      if (res.ok && data.token) return data.token;
      const problem = passwordProblem(data);
      if (problem.ask) return confirmPassword(problem.message);
      throw new Error(problem.message || "The token value could not be shown.");
    };

    // confirmPassword opens the dialog and resolves with the value once the
    // server accepts the password, or with "" when the person cancels.
    const confirmPassword = (problem) => new Promise((resolve, reject) => {
      const form = dialog.querySelector("form");
      const error = dialog.querySelector("[data-password-error]");
      const message = dialog.querySelector("[data-password-message]");
      const cancel = dialog.querySelector("[data-dialog-cancel]");
      const input = form.elements.password;
      cancel.hidden = false;
      error.hidden = !problem;
      message.textContent = problem || "";
      input.value = "";
      const done = (v, err) => {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("close", onClose);
        if (dialog.open) dialog.close();
        err ? reject(err) : resolve(v);
      };
      const onClose = () => done("");
      const onSubmit = async (ev) => {
        ev.preventDefault();
        const submit = form.querySelector("button[type=submit]");
        submit.disabled = true;
        try {
          const { res, data } = await post(input.value);
          if (res.ok && data.token) return done(data.token);
          const problem = passwordProblem(data);
          if (problem.ask) {
            error.hidden = false;
            message.textContent = problem.message || "Enter your password.";
            input.select();
            return;
          }
          done("", new Error(problem.message || "The token value could not be shown."));
        } catch (err) {
          done("", err);
        } finally {
          submit.disabled = false;
        }
      };
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("close", onClose);
      dialog.returnFocus = document.activeElement;
      dialog.showModal();
      input.focus();
    });

    // Show and Copy pressed together share one request and one prompt.
    let pending = null;
    const getValue = async () => {
      if (value) return value;
      if (!pending) pending = request().finally(() => { pending = null; });
      value = await pending;
      return value;
    };

    const showValue = (v) => {
      code.textContent = v;
      code.removeAttribute("data-masked");
      showButton.textContent = "Hide";
    };

    reveal.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (value && !code.hasAttribute("data-masked")) {
        code.textContent = masked;
        code.setAttribute("data-masked", "");
        value = "";
        showButton.textContent = "Show";
        return;
      }
      try {
        const v = await getValue();
        if (v) showValue(v);
      } catch (err) {
        announce(err.message, "error");
      }
    });

    copyButton.addEventListener("click", async () => {
      try {
        const v = await getValue();
        if (!v) return;
        try {
          await navigator.clipboard.writeText(v);
          announce("The API token value has been copied.");
        } catch (err) {
          // Some browsers refuse a copy that follows a prompt: show the
          // value so that it can be copied by hand.
          showValue(v);
          announce("Could not copy: the value is shown; select it and copy it by hand.", "error");
        }
      } catch (err) {
        announce(err.message, "error");
      }
    });
  }

  // Name and description count characters as the server does: by code
  // point, so an emoji is one character.
  for (const field of document.querySelectorAll("[data-max-runes]")) {
    const counter = document.querySelector(`[data-counter-for="${field.id}"]`);
    if (!counter) continue;
    const max = Number(field.dataset.maxRunes);
    const update = () => {
      const n = [...field.value].length;
      counter.textContent = `${n} / ${max} characters`;
      counter.classList.toggle("over", n > max);
    };
    field.addEventListener("input", update);
    update(); // a form sent back with too long a value shows it at once
  }

  // The custom date is only asked for when "Custom date" is chosen.
  for (const select of document.querySelectorAll("select[data-expiry]")) {
    const date = select.form.querySelector("[data-expires-on]");
    const label = date && select.form.querySelector(`label[for="${date.id}"]`);
    const update = () => {
      const custom = select.value === "custom";
      date.hidden = !custom;
      if (label) label.hidden = !custom;
    };
    if (date) {
      select.addEventListener("change", update);
      update();
    }
  }

  // Dropping an image on the logo field picks it, with a preview.
  for (const zone of document.querySelectorAll("[data-dropzone]")) {
    const input = zone.querySelector("input[type=file]");
    const preview = zone.querySelector("[data-logo-preview]");
    const show = (file) => {
      if (!file || !preview) return;
      const reader = new FileReader();
      reader.onload = () => {
        preview.src = reader.result;
        preview.hidden = false;
      };
      reader.readAsDataURL(file);
    };
    zone.addEventListener("dragover", (ev) => {
      ev.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (ev) => {
      ev.preventDefault();
      zone.classList.remove("dragging");
      if (!ev.dataTransfer.files.length) return;
      input.files = ev.dataTransfer.files;
      show(input.files[0]);
    });
    input.addEventListener("change", () => show(input.files[0]));
    // A photo straight from a phone is far over the limit: say so before
    // sending megabytes the server would refuse.
    input.form.addEventListener("submit", (ev) => {
      const file = input.files[0];
      const limit = Number(input.dataset.maxBytes);
      if (!file || !limit || file.size <= limit) return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
      input.setCustomValidity(`The logo must be at most ${limit / 1024} KB; this file is ${Math.ceil(file.size / 1024)} KB.`);
      input.reportValidity();
      input.addEventListener("change", () => input.setCustomValidity(""), { once: true });
    });
  }

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

  function announce(message, kind) {
    const region = document.querySelector(".flashes");
    if (!region) return;
    const flash = document.createElement("div");
    flash.className = "flash flash-" + (kind || "success");
    flash.textContent = message;
    region.replaceChildren(flash);
  }
})();

// ---------------------------------------------------------------------------
// The list: filters, selection and bulk actions. Everything here is an
// extra on top of plain forms: without it the filter form still filters,
// and the bulk buttons lead to a confirmation page.
(function () {
  // An applied filter form leaves out its empty fields, so the address of
  // the view says only what narrows it.
  const filters = document.querySelector("form[data-filters]");
  if (filters) {
    filters.addEventListener("submit", () => {
      for (const el of filters.elements) {
        if (el.name && el.value === "") el.disabled = true;
      }
    });
    // Back from the next page, the browser may restore the form as left.
    window.addEventListener("pageshow", () => {
      for (const el of filters.elements) el.disabled = false;
    });
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

  const bulk = document.querySelector("form[data-bulk]");
  if (!bulk) return;
  const rows = () => [...document.querySelectorAll('input[name="ids"][form="bulk"]')];
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
    if (!ev.target.matches('input[name="ids"][form="bulk"]')) return;
    if (!ev.target.checked && allBox) allBox.checked = false;
    update();
  });
  update();
  window.addEventListener("pageshow", update);

  const tokenName = (box) => {
    const row = box.closest("tr");
    const link = row && row.querySelector(".token-name");
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
      const id = document.createElement("span");
      id.className = "id";
      id.textContent = ` (${b.value})`;
      li.append(name, id);
      return li;
    }));
    if (n > shown) {
      const li = document.createElement("li");
      li.textContent = `and ${n - shown} more`;
      list.append(li);
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
      for (const [name, value] of [["action", button.value], ["confirm", "1"]]) {
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
    dialog.returnFocus = button;
    dialog.showModal();
    dialog.querySelector("[data-dialog-cancel]").focus();
  });
})();
