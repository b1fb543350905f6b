// Live progress on a job's admin page: polls the job's progress.json while it
// previews or runs, updates the bar in place, and reloads once when the status
// changes (so the preview, rows and buttons of the new status appear).
(function () {
  "use strict";

  const INTERVAL_MS = 2000;
  const panel = document.querySelector("[data-progress-url]");
  if (!panel) {
    return;
  }
  const url = panel.dataset.progressUrl;
  const shownStatus = panel.dataset.status;
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
    if (progress.status !== shownStatus) {
      window.location.reload();
      return;
    }
    if (live) {
      live.textContent = "Updating live";
    }
    window.setTimeout(poll, INTERVAL_MS);
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
