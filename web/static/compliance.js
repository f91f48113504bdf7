// The compliance pages' script: a verification run's page follows its progress by polling
// the run's JSON endpoint (data-verification), then reloads once to show the full result.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const section = document.querySelector("[data-verification]");
  if (!section || section.dataset.finished === "yes") return;
  const bar = section.querySelector("[data-progress]");
  const done = section.querySelector("[data-done]");
  const size = section.querySelector("[data-size]");
  const hint = section.querySelector("[data-reload]");
  if (hint) hint.hidden = true;

  async function poll() {
    let run;
    try {
      const answer = await fetch(section.dataset.verification, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!answer.ok) throw new Error(String(answer.status));
      run = await answer.json();
    } catch (error) {
      if (hint) hint.hidden = false;
      window.setTimeout(poll, 5000);
      return;
    }
    bar.value = run.percent;
    bar.textContent = run.percent + "%";
    done.textContent = run.done;
    size.textContent = run.size;
    if (run.finished) {
      window.location.reload();
    } else {
      window.setTimeout(poll, 1000);
    }
  }
  poll();
});
