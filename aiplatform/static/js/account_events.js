// Live events of the active account (member joined…) over the account websocket
// (AIP.socket, js/live.js: backoff and reconnect). Every frame is also dispatched on
// `document` as an "account:event" CustomEvent (detail: the frame), so a page with an
// element `[data-account-ws="/ws/account/"]` (e.g. the channel bot inbox) reacts to
// events without a second socket; "account:open" (detail: {reconnected}) tells it to
// resync after a drop, "account:close" (detail: {code}) that the socket is down.
(function () {
  var list = document.getElementById("live-events");
  var hook = list || document.querySelector("[data-account-ws]");
  if (!hook || !window.AIP) return;
  function add(text) {
    var first = list.querySelector(".muted");
    if (first) first.remove();
    var li = document.createElement("li");
    li.textContent = new Date().toLocaleTimeString() + " · " + text;
    list.prepend(li);
  }
  AIP.socket(list ? list.dataset.ws : hook.dataset.accountWs, {
    open: function (state) { document.dispatchEvent(new CustomEvent("account:open", { detail: state })); },
    message: function (frame) {
      document.dispatchEvent(new CustomEvent("account:event", { detail: frame }));
      if (!list) return;
      if (frame.type === "event" && frame.event === "member_joined") add(frame.data.email + " joined as " + frame.data.role);
      else if (frame.type === "event") add(frame.event);
    },
    close: function (state) { document.dispatchEvent(new CustomEvent("account:close", { detail: state })); },
  });
})();
