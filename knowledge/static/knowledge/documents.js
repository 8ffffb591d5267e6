// Live ingestion status on a unit's page: events on the account websocket and a
// poll of the unit's status.json while documents are in progress (AIP.socket and
// AIP.poll, js/live.js). A document that finishes reloads the page for its controls.
(function () {
  var table = document.getElementById("documents");
  var drop = document.getElementById("dropzone");
  var input = document.getElementById("upload-files");
  if (drop && input) {
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function (ev) { ev.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (ev) {
      if (!ev.dataTransfer || !ev.dataTransfer.files.length) return;
      input.files = ev.dataTransfer.files;
      document.getElementById("upload-form").submit();
    });
  }
  if (!table) return;
  var unitStatus = document.getElementById("unit-status");
  var live = table.dataset.live === "1";
  var reloading = false;

  function update(doc) {
    var row = table.querySelector('tr[data-doc="' + doc.id + '"]');
    if (!row) return;
    var stage = row.querySelector('[data-field="stage"]');
    stage.textContent = doc.stage;
    stage.className = "stage status-" + doc.status;
    row.querySelector('[data-field="error"]').textContent = doc.error;
    row.querySelector('[data-field="chunks"]').textContent = doc.chunk_count;
    var times = Object.keys(doc.stage_times).map(function (k) {
      return k + " " + new Date(doc.stage_times[k]).toLocaleTimeString();
    });
    row.querySelector('[data-field="times"]').textContent = times.join(" · ");
    var was = row.dataset.status;
    row.dataset.status = doc.status;
    var wasRunning = ["queued", "parsing", "splitting", "embedding", "indexing"].indexOf(was) >= 0;
    if (wasRunning && !doc.in_progress && !reloading) { reloading = true; setTimeout(function () { location.reload(); }, 400); }
  }

  // Polls status.json while documents are in progress (covers a dropped socket), and
  // again after the socket comes back, for what happened while it was away.
  var poller = null;
  function poll(first) {
    if (poller) return;
    poller = AIP.poll(table.dataset.statusUrl, {
      first: first, every: 3000,
      data: function (body) {
        if (unitStatus) { unitStatus.textContent = body.unit.status; unitStatus.className = "badge status-" + body.unit.status; }
        body.documents.forEach(update);
        live = body.documents.some(function (d) { return d.in_progress; });
        if (!live) poller = null;
        return live;
      },
    });
  }
  if (live) poll(2000);

  AIP.socket("/ws/account/", {
    open: function (state) { if (state.reconnected) poll(0); },
    message: function (frame) {
      if (frame.type === "event" && frame.event === "knowledge.document") update(frame.data);
    },
  });
})();
