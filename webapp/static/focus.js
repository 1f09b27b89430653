// A refused form comes back with its message at the field or under its button (see
// _forms.html); a long page (the org chart, the board) would open at its top, away from
// it. Put the view on the first message and the keyboard in its field, as the task page
// does with autofocus; a page whose element already has the focus is left alone.
"use strict";
(function () {
  const message = document.querySelector(".field-error");
  if (!message) {
    return;
  }
  message.scrollIntoView({ block: "center" });
  if (document.activeElement && document.activeElement !== document.body) {
    return;
  }
  const form = message.closest("form");
  const name = (message.dataset.error || "").split(".").pop();
  const field =
    form &&
    (form.querySelector(`[name="${CSS.escape(name)}"]`) ||
      form.querySelector("input:not([type=hidden]), select, textarea, button"));
  if (field) {
    field.focus({ preventScroll: true });
  }
})();
