// The token forms: character counters, messages that follow the input, the
// custom expiry date, the confirmation of no module, and the logo's drop
// zone, checked before its preview. enhanceForm runs on the page's forms
// and on those a dialog brings in.
"use strict";

(function () {
  // showError marks a field's problem, or clears it when message is "":
  // the message under the field, aria-invalid, aria-describedby naming the
  // message, and the entry in the summary at the top.
  function showError(root, name, message, control) {
    const box = root.querySelector(`[data-error-of="${name}"]`);
    if (!box) return;
    const id = box.id;
    box.querySelector("[data-error-text]").textContent = message;
    box.hidden = !message;
    const field = box.closest("[data-field]");
    const controls = control ? [control] : [...field.querySelectorAll("input:not([type=hidden]), select, textarea")];
    for (const el of controls) {
      const ids = (el.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
      if (message) {
        ids.unshift(id);
        el.setAttribute("aria-invalid", "true");
      } else {
        el.removeAttribute("aria-invalid");
      }
      if (el.type !== "checkbox") {
        if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
        else el.removeAttribute("aria-describedby");
      }
    }
    const zone = field.querySelector("[data-dropzone]");
    if (zone) zone.classList.toggle("has-error", !!message);
    const entry = root.querySelector(`[data-error-for="${name}"]`);
    if (entry && !message) {
      const summary = entry.closest("[data-error-summary]");
      entry.remove();
      if (summary && !summary.querySelector("[data-error-for]")) summary.hidden = true;
    } else if (entry) {
      const label = entry.querySelector("a");
      label.textContent = label.textContent.replace(/:.*$/s, ": " + message);
    }
  }

  // textProblem is what the server would say of a name or description, in
  // its words, which the field carries.
  function textProblem(field) {
    const n = [...field.value].length;
    if (field.dataset.msgRequired && field.value.trim() === "") return field.dataset.msgRequired;
    if (n > Number(field.dataset.maxRunes)) return field.dataset.msgTooLong;
    return "";
  }

  function enhanceForm(root) {
    // Name and description count characters as the server does: by code
    // point, so an emoji is one character. A message shown for the field
    // follows what is typed: it changes, and goes once the value is right.
    for (const field of root.querySelectorAll("[data-max-runes]")) {
      const counter = root.querySelector(`[data-counter-for="${field.id}"]`);
      const max = Number(field.dataset.maxRunes);
      const update = () => {
        const n = [...field.value].length;
        if (counter) {
          counter.textContent = `${n} / ${max} characters`;
          counter.classList.toggle("over", n > max);
        }
      };
      field.addEventListener("input", () => {
        update();
        if (field.getAttribute("aria-invalid") === "true" || textProblem(field)) {
          showError(root, field.name, textProblem(field), field);
        }
      });
      update(); // a form sent back with too long a value shows it at once
    }

    // Any other field with a message loses it once it is changed: the
    // server checks it again on the next step.
    for (const field of root.querySelectorAll("[data-field]")) {
      const name = field.dataset.field;
      if (name === "name" || name === "description" || name === "logo") continue;
      field.addEventListener("change", () => showError(root, name, ""));
    }

    // The custom date is only asked for when "Custom date" is chosen.
    for (const select of root.querySelectorAll("select[data-expiry]")) {
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

    // The confirmation of no module is asked only while none is ticked.
    for (const note of root.querySelectorAll("[data-no-modules]")) {
      const fieldset = note.closest("fieldset");
      const boxes = [...fieldset.querySelectorAll('input[name="modules"]')];
      const update = () => { note.hidden = boxes.some((b) => b.checked); };
      for (const b of boxes) b.addEventListener("change", update);
      update();
    }

    for (const zone of root.querySelectorAll("[data-dropzone]")) enhanceLogo(root, zone);
  }

  // The logo: a file too large or not a PNG or JPEG image is refused where
  // it was chosen, before any preview, and is not sent; a good one is
  // previewed. Dropping an image on the zone picks it.
  function enhanceLogo(root, zone) {
    const input = zone.querySelector("input[type=file]");
    const preview = zone.querySelector("[data-logo-preview]");
    const limit = Number(input.dataset.maxBytes);
    const refuse = (message) => {
      input.value = "";
      // A logo carried from an earlier step stays; one just picked goes.
      if (preview && !preview.hasAttribute("data-carried")) preview.hidden = true;
      showError(root, "logo", message, input);
    };
    const check = (file) => {
      if (!file) return;
      if (limit && file.size > limit) return refuse(input.dataset.msgTooLarge);
      if (file.type !== "image/png" && file.type !== "image/jpeg") return refuse(input.dataset.msgNotImage);
      // The name can lie: only a file the browser decodes as an image is
      // previewed. (A data: address, which the page's policy allows.)
      const reader = new FileReader();
      reader.onload = () => {
        const probe = new Image();
        probe.onload = () => {
          showError(root, "logo", "", input);
          if (preview) {
            preview.src = reader.result;
            preview.hidden = false;
          }
        };
        probe.onerror = () => refuse(input.dataset.msgNotImage);
        probe.src = reader.result;
      };
      reader.onerror = () => refuse(input.dataset.msgNotImage);
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
      check(input.files[0]);
    });
    input.addEventListener("change", () => check(input.files[0]));
  }

  for (const form of document.querySelectorAll("form[data-token-form]")) enhanceForm(form);
  window.apitokens.enhanceForm = enhanceForm;
})();
