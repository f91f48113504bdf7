// The team pages' script (the content security policy admits no inline script). Each behaviour
// hooks onto a data- attribute; without JavaScript the forms post and the pages reload as usual.
"use strict";

// A form with data-upload-progress posts through XMLHttpRequest so that its <progress> shows
// how much of the upload has gone; the answer replaces the page, as a plain post would.
function uploadWithProgress(form) {
  const bar = form.querySelector("progress");
  form.addEventListener("submit", (event) => {
    if (!window.FormData || !bar) return;
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    bar.hidden = false;
    bar.value = 0;
    request.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) bar.value = (100 * progress.loaded) / progress.total;
    });
    request.addEventListener("load", () => {
      if (request.responseURL && request.responseURL !== window.location.href) {
        window.location.assign(request.responseURL);
        return;
      }
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", () => form.submit());
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    request.send(new FormData(form));
  });
}

// An element with data-poll asks its JSON address every data-poll-seconds until the run is
// over, and shows the status, the cases done, the reason of a failure or the score.
function poll(panel) {
  const seconds = Number(panel.dataset.pollSeconds || 3);
  const field = (name) => panel.querySelector(`[data-field="${name}"]`);
  const show = (name, visible) => {
    const element = field(name);
    if (element) element.hidden = !visible;
  };
  const update = (view) => {
    field("label").textContent = view.label;
    const progress = view.progress;
    field("progress").textContent = progress
      ? panel.dataset.progressFormat.replace("{done}", progress.done).replace("{total}", progress.total)
      : "";
    const bar = field("bar");
    if (bar && progress) {
      bar.max = progress.total;
      bar.value = progress.done;
    }
    show("bar", Boolean(progress));
    if (view.reason) field("reason-text").textContent = view.reason;
    show("reason", Boolean(view.reason));
    if (view.score) {
      const value = view.score.value === null ? "–" : Number(view.score.value).toFixed(4);
      field("score-text").textContent = `${view.score.metric} ${value}`;
    }
    show("score", Boolean(view.score));
    if (view.final) show("waiting", false);
    return view.final;
  };
  const tick = () => {
    fetch(panel.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((answer) => (answer.ok ? answer.json() : null))
      .then((view) => {
        if (view && update(view)) return;
        window.setTimeout(tick, seconds * 1000);
      })
      .catch(() => window.setTimeout(tick, seconds * 1000 * 2));
  };
  if (panel.dataset.final !== "yes") window.setTimeout(tick, seconds * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-upload-progress]")) uploadWithProgress(form);
  for (const panel of document.querySelectorAll("[data-poll]")) poll(panel);
});
