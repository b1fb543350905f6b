// The header's mode switch, greyed out while a batch of this session holds the
// mode: polls the session's mode.json and gives the button back as soon as no
// batch holds it any more, on whatever admin page is open. The server still
// refuses a switch while the mode is locked; this only spares a reload.
(function () {
  "use strict";

  const INTERVAL_MS = 3000;
  const MAX_INTERVAL_MS = 30000;
  const form = document.querySelector("[data-testid=mode-switch]");
  const locked = document.querySelector("[data-testid=mode-switch-locked]");
  const button = locked && locked.querySelector("[data-testid=mode-switch-button]");
  const url = locked && locked.dataset.stateUrl;
  if (!form || !button || !url) {
    return;
  }

  function release() {
    button.disabled = false;
    button.title = locked.dataset.switchHelp || "";
    locked.removeAttribute("title");
    locked.removeAttribute("data-testid");
    locked.classList.remove("mode-switch-locked");
  }

  function later(delay) {
    window.setTimeout(poll, delay, Math.min(delay * 2, MAX_INTERVAL_MS));
  }

  // ``backoff``: the wait before the next try if this one fails for a passing reason.
  async function poll(backoff) {
    if (document.hidden) {
      later(INTERVAL_MS); // a tab in the background asks nothing
      return;
    }
    let response;
    try {
      response = await window.shipopsFetchJson(url);
    } catch (error) {
      later(backoff); // the connection dropped
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (response.status === 429 || response.status >= 500) {
      later(backoff); // a deploy, a busy database: try again, less often
      return;
    }
    if (response.redirected || !response.ok || !type.startsWith("application/json")) {
      return; // signed out, or no longer staff: the next page load says so
    }
    const state = await response.json();
    if (state.mode !== form.dataset.mode) {
      window.location.reload(); // switched from another tab: this header is out of date
    } else if (state.locked) {
      locked.title = state.message;
      later(INTERVAL_MS);
    } else {
      release();
    }
  }

  window.setTimeout(poll, INTERVAL_MS, INTERVAL_MS * 2);
})();
