// Live events of the active account (member joined…) over the account websocket.
// Every frame is also dispatched on `document` as an "account:event" CustomEvent
// (detail: the frame), so a page with an element `[data-account-ws="/ws/account/"]`
// (e.g. the channel bot inbox) reacts to events without a second socket.
(function () {
  var list = document.getElementById("live-events");
  var hook = list || document.querySelector("[data-account-ws]");
  if (!hook || !window.WebSocket) return;
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
    var ws = new WebSocket(scheme + location.host + (list ? list.dataset.ws : hook.dataset.accountWs));
    ws.onopen = function () { retry = 1000; document.dispatchEvent(new CustomEvent("account:open")); };
    ws.onmessage = function (msg) {
      var frame = JSON.parse(msg.data);
      document.dispatchEvent(new CustomEvent("account:event", { detail: frame }));
      if (!list) return;
      if (frame.type === "event" && frame.event === "member_joined") add(frame.data.email + " joined as " + frame.data.role);
      else if (frame.type === "event") add(frame.event);
    };
    ws.onclose = function (ev) {
      document.dispatchEvent(new CustomEvent("account:close", { detail: { code: ev.code } }));
      if (ev.code >= 4400) return; // not signed in or no account: do not hammer
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();
