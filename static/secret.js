// Copy buttons, and the token value, which the server shows only after a
// password confirmation.
"use strict";

(function () {
  const announce = window.apitokens.announce;

  // Copy buttons copy their own data-copy-value, or the value of the
  // element their data-copy names (its data-value, so that a masked value
  // copies too), and say so. They wait for the script: without it, the text
  // is there to select. showCopyButtons runs again on what a dialog brings
  // in.
  const copyButtons = "[data-copy], [data-copy-value]";
  function showCopyButtons(root) {
    if (!navigator.clipboard) return;
    for (const button of root.querySelectorAll(copyButtons)) button.hidden = false;
  }
  showCopyButtons(document);
  window.apitokens.showCopyButtons = showCopyButtons;
  document.addEventListener("click", (ev) => {
    const button = ev.target.closest(copyButtons);
    if (!button) return;
    const source = button.dataset.copy && document.getElementById(button.dataset.copy);
    const text = source ? source.dataset.value || source.textContent.trim() : button.dataset.copyValue;
    copy(text, button.dataset.copied);
  });

  async function copy(text, message) {
    try {
      await navigator.clipboard.writeText(text);
      announce(message || "Copied to the clipboard.");
    } catch (err) {
      announce("Could not copy: select the text and copy it by hand.", "error");
    }
  }

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
      const field = (data.errors || {}).password;
      if (field && field.length) return { ask: true, message: field[0] };
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

    // The eye button says in words what it will do, and shows it.
    const setShown = (shown) => {
      showButton.setAttribute("aria-label", shown ? "Hide the token value" : "Show the token value");
      showButton.querySelector("[data-icon=show]").hidden = shown;
      showButton.querySelector("[data-icon=hide]").hidden = !shown;
    };

    const showValue = (v) => {
      code.textContent = v;
      code.removeAttribute("data-masked");
      setShown(true);
    };

    reveal.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (value && !code.hasAttribute("data-masked")) {
        code.textContent = masked;
        code.setAttribute("data-masked", "");
        value = "";
        setShown(false);
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
})();
