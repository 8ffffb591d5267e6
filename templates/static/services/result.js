// Result page: poll the status every second until the run is finished, then
// reload to show the answer (or the error) (AIP.poll, js/live.js). The share
// link's copy button is a [data-copy] button, which js/live.js handles.
(function () {
  "use strict";
  var box = document.getElementById("result-status");
  if (!box || box.dataset.finished !== "false") { return; }
  var status = box.querySelector('[data-testid="status"]');
  var progress = box.querySelector('[data-testid="progress"]');
  AIP.poll(box.dataset.statusUrl, {
    every: 1000,
    data: function (data) {
      if (status) { status.textContent = data.status_label; }
      if (progress) { progress.textContent = data.progress; }
      if (data.finished) { window.location.reload(); return false; }
      return true;
    },
  });
})();
