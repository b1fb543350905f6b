// Live progress on a job's admin page: polls the job's progress.json while it
// previews or runs (or, stopped, while UPS may still answer one of its rows),
// updates the bar in place, and reloads once when the status or the number of
// rows awaiting UPS changes (so the rows and buttons of the new state appear).
(function () {
  "use strict";

  const INTERVAL_MS = 2000;
  const panel = document.querySelector("[data-progress-url]");
  if (!panel) {
    return;
  }
  const url = panel.dataset.progressUrl;
  const shownStatus = panel.dataset.status;
  const shownAwaiting = Number(panel.dataset.awaitingUps || "0");
  const bar = panel.querySelector("[data-testid=job-progress]");
  const text = panel.querySelector("[data-testid=job-progress-text]");
  const live = panel.querySelector("[data-testid=job-live]");

  function show(progress) {
    bar.value = progress.percent;
    bar.setAttribute("aria-valuenow", String(progress.percent));
    bar.setAttribute("aria-label", progress.text);
    text.textContent = progress.text;
  }

  function stop(message) {
    if (live) {
      live.textContent = message;
    }
  }

  async function poll() {
    let response;
    try {
      response = await window.shipopsFetchJson(url);
    } catch (error) {
      stop("Connection lost; retrying…");
      window.setTimeout(poll, INTERVAL_MS * 2);
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.startsWith("application/json")) {
      stop("Progress stopped updating: reload the page.");
      return;
    }
    const progress = await response.json();
    show(progress);
    if (progress.status !== shownStatus || progress.awaiting_ups !== shownAwaiting) {
      window.location.reload();
      return;
    }
    if (live && !shownAwaiting) {
      live.textContent = "Updating live";
    }
    window.setTimeout(poll, INTERVAL_MS);
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
