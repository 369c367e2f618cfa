// Progress of a bulk import (check, run or undo) on its page: fetches the job's progress every
// few seconds and reloads the page once the work has moved on. Without this script the page
// refreshes itself (a <noscript> refresh) and has a Refresh link, so nothing depends on it.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-progress]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-import-progress");
  var state = box.getAttribute("data-state");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var delay = 1500;

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (job) {
        if (job.state !== state || !job.active) {
          window.location.reload();
          return;
        }
        if (bar) {
          bar.max = Math.max(job.rows_total, 1);
          bar.value = job.rows_done;
        }
        if (text) { text.textContent = job.text; }
        delay = 1500;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // A restart or a dropped connection: try again, less often.
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
}());
