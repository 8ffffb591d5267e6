// Live events of the active account (member joined…) over the account websocket.
(function () {
  var list = document.getElementById("live-events");
  if (!list || !window.WebSocket) return;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var retry = 1000;
  function add(text) {
    var first = list.querySelector(".muted");
    if (first) first.remove();
    var li = document.createElement("li");
    li.textContent = new Date().toLocaleTimeString() + " · " + text;
    list.prepend(li);
  }
  function connect() {
    var ws = new WebSocket(scheme + location.host + list.dataset.ws);
    ws.onopen = function () { retry = 1000; };
    ws.onmessage = function (msg) {
      var frame = JSON.parse(msg.data);
      if (frame.type === "event" && frame.event === "member_joined") add(frame.data.email + " joined as " + frame.data.role);
      else if (frame.type === "event") add(frame.event);
    };
    ws.onclose = function (ev) {
      if (ev.code >= 4400) return; // not signed in or no account: do not hammer
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();
