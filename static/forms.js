// The token forms: character counters, the custom expiry date, and the
// logo's drop zone and preview.
"use strict";

(function () {
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
})();
