// The one client of the platform's live updates, shared by every page's script:
//   AIP.socket(path or ws URL, {message, open, close, first, most})  a websocket that
//     reconnects with backoff (`first` ms, default 1 s, doubling to `most`, default
//     30 s, with jitter; never after a 44xx close: not signed in, no access), tells
//     `open` whether it is a reconnect, so the page can resync what it missed, and
//     `close` the code and the ms until the next try (null: none);
//   AIP.poll(url, {every, data, until})  a JSON poller that backs off on errors;
//   AIP.copy(text, button)  copy to the clipboard (with the old fallback), the
//     button says so; any [data-copy="<selector>"] button copies that input's value.
(function () {
  "use strict";
  var AIP = (window.AIP = window.AIP || {});

  AIP.socket = function (path, on) {
    on = on || {};
    if (!window.WebSocket) return null;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = /^wss?:/.test(path) ? path : scheme + location.host + path;
    var first = on.first || 1000, most = on.most || 30000;
    var delay = first, opened = false, stopped = false, timer = null, ws = null;
    var handle = {
      send: function (data) {
        if (!ws || ws.readyState !== 1) return false;
        ws.send(typeof data === "string" ? data : JSON.stringify(data));
        return true;
      },
      close: function () { stopped = true; clearTimeout(timer); if (ws) ws.close(); },
    };
    function connect() {
      ws = new WebSocket(url);
      ws.onopen = function () {
        delay = first;
        if (on.open) on.open({ reconnected: opened });
        opened = true;
      };
      ws.onmessage = function (msg) {
        var frame;
        try { frame = JSON.parse(msg.data); } catch (e) { return; }
        if (on.message) on.message(frame);
      };
      ws.onclose = function (ev) {
        // refused (44xx: not signed in, no access) or closed by the page: no reconnect
        var wait = stopped || ev.code >= 4400 ? null : Math.round(delay * (0.75 + Math.random() / 2));
        if (on.close) on.close({ code: ev.code, retryIn: wait });
        if (wait === null) return;
        timer = setTimeout(connect, wait);
        delay = Math.min(delay * 2, most);
      };
    }
    connect();
    return handle;
  };

  AIP.poll = function (url, opts) {
    // opts.every: ms between polls (default 1000); opts.data(body): called with each
    // answer, return false to stop; opts.first: ms before the first poll.
    var every = opts.every || 1000, failures = 0, stopped = false;
    function tick() {
      if (stopped) return;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (body) {
          failures = 0;
          if (opts.data(body) !== false) setTimeout(tick, every);
        })
        .catch(function () {
          // a network blip does not stop the page: back off a little and keep going
          failures += 1;
          setTimeout(tick, Math.min(every * (failures + 1), 10000));
        });
    }
    setTimeout(tick, opts.first === undefined ? every : opts.first);
    return { stop: function () { stopped = true; } };
  };

  AIP.copy = function (text, button, labels) {
    labels = labels || {};
    var before = button ? button.textContent : "";
    function done() {
      if (!button) return;
      button.textContent = labels.copied || "✓";
      setTimeout(function () { button.textContent = labels.idle || before; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(done, fallback);
    }
    fallback();
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try { if (document.execCommand("copy")) done(); } finally { area.remove(); }
    }
  };

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.dataset.copy);
    if (input) AIP.copy(input.value, button);
  });
})();
