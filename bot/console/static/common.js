// Shared by the console's pages: JSON calls that carry the CSRF token, and announcements for screen readers.
"use strict";

window.consoleApi = (function () {
  const csrf = document.body.dataset.csrf || "";

  async function call(method, path, body) {
    const options = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch("/console/api/" + path, options);
    if (response.status === 401) {
      window.location.assign("/console/login");
      throw new Error("logged out");
    }
    const data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      const failure = new Error(data.error || ("HTTP " + response.status));
      failure.status = response.status;
      throw failure;
    }
    return data;
  }

  function announce(message) {
    const status = document.getElementById("status");
    status.textContent = "";
    // A fresh text node each time, so that the same message is read out again.
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function sleep(ms) {
    return new Promise(function (resolve) { window.setTimeout(resolve, ms); });
  }

  return { call: call, announce: announce, sleep: sleep };
})();
