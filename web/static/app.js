// The site's only script (the content security policy admits no inline script).
// Each behaviour hooks onto a data- attribute, so a page without it is unaffected.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Forms with data-confirm ask before a consequential action.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
