// Result page: poll the status every second until the run is finished, then
// reload to show the answer (or the error). Plus the share link's copy button.
(function () {
  "use strict";
  var box = document.getElementById("result-status");
  if (box && box.dataset.finished === "false") {
    var url = box.dataset.statusUrl;
    var status = box.querySelector('[data-testid="status"]');
    var progress = box.querySelector('[data-testid="progress"]');
    var failures = 0;
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          failures = 0;
          if (status) { status.textContent = data.status_label; }
          if (progress) { progress.textContent = data.progress; }
          if (data.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
        })
        .catch(function () {
          // A network blip should not stop the page; back off a little and keep going.
          failures += 1;
          window.setTimeout(poll, Math.min(1000 * (failures + 1), 10000));
        });
    };
    window.setTimeout(poll, 1000);
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.dataset.copy);
      if (!input) { return; }
      var done = function () { var t = button.textContent; button.textContent = "✓"; window.setTimeout(function () { button.textContent = t; }, 1500); };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
      } else {
        input.select(); document.execCommand("copy"); done();
      }
    });
  });
})();
