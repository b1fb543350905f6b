// How the admin's scripts ask ShipOps for JSON (progress.js, mode_switch.js):
// with the page's session, never from a cache. Loaded before them (defer keeps
// the order of the page).
window.shipopsFetchJson = function (url) {
  "use strict";
  return fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    cache: "no-store",
  });
};
