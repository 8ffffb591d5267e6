// Live ingestion status on a unit's page: events on the account websocket, and a
// poll of the unit's status.json while documents are in progress (covers a
// dropped socket). A document that finishes reloads the page for its controls.
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

  function poll() {
    fetch(table.dataset.statusUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (body) {
      if (unitStatus) { unitStatus.textContent = body.unit.status; unitStatus.className = "badge status-" + body.unit.status; }
      body.documents.forEach(update);
      live = body.documents.some(function (d) { return d.in_progress; });
      if (live) setTimeout(poll, 3000);
    }).catch(function () { setTimeout(poll, 6000); });
  }
  if (live) setTimeout(poll, 2000);

  if (window.WebSocket) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/ws/account/");
    ws.onmessage = function (msg) {
      var frame = JSON.parse(msg.data);
      if (frame.type === "event" && frame.event === "knowledge.document") update(frame.data);
    };
  }
})();
