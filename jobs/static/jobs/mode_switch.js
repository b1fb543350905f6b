// The header's mode switch, greyed out while a batch of this session holds the
// mode: polls the session's mode.json and gives the button back as soon as no
// batch holds it any more, on whatever admin page is open. The server still
// refuses a switch while the mode is locked; this only spares a reload.
(function () {
  "use strict";

  const INTERVAL_MS = 3000;
  const locked = document.querySelector("[data-testid=mode-switch-locked]");
  if (!locked) {
    return;
  }
  const url = locked.dataset.stateUrl;
  const button = locked.querySelector("[data-testid=mode-switch-button]");

  function release() {
    button.disabled = false;
    button.title = locked.dataset.switchHelp;
    locked.removeAttribute("title");
    locked.removeAttribute("data-testid");
    locked.classList.remove("mode-switch-locked");
  }

  async function poll() {
    let state;
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      const type = response.headers.get("Content-Type") || "";
      if (!response.ok || !type.startsWith("application/json")) {
        return; // signed out, or no longer staff: the page's next load says so
      }
      state = await response.json();
    } catch (error) {
      window.setTimeout(poll, INTERVAL_MS * 2); // the connection dropped: try again later
      return;
    }
    if (state.locked) {
      locked.title = state.message;
      window.setTimeout(poll, INTERVAL_MS);
    } else {
      release();
    }
  }

  window.setTimeout(poll, INTERVAL_MS);
})();
