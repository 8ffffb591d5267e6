// The agent inbox, live: events of the account websocket (dispatched by the shared
// js/account_events.js as "account:event") re-fetch the server-rendered conversation
// list and, for the open conversation, its head, messages and customer panel, so the
// live page and a reload render the same templates. The reply box posts to the API.
(function () {
  var inbox = document.getElementById("inbox");
  if (!inbox) return;
  var LIVE = ["conversation.message", "conversation.updated", "message.updated", "order.created", "order.updated",
              "conversation.receipt"];
  var openId = inbox.dataset.conversation || "";
  var listWrap = document.getElementById("conversation-list-wrap");
  var liveState = document.getElementById("live-state");
  // The page's translated UI strings ({% js_strings "inbox-strings" %}); English fallback.
  var stringsNode = document.getElementById("inbox-strings");
  var strings = stringsNode ? JSON.parse(stringsNode.textContent) : {};
  function t(key, fallback) { return strings[key] || fallback; }
  var filters = document.getElementById("inbox-filters");
  var listTimer = null, partsTimer = null, fresh = {}, wantRead = false, wasClosed = false;

  if (filters) filters.addEventListener("change", function () { filters.submit(); });

  function thread() { return document.getElementById("thread-messages"); }
  function atBottom(el) { return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 40; }
  function toBottom() { var el = thread(); if (el) el.scrollTop = el.scrollHeight; }
  toBottom();

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    });
  }

  function refreshList() {
    var query = inbox.dataset.query ? inbox.dataset.query + "&" : "";
    get(inbox.dataset.listUrl + "?" + query + "open=" + encodeURIComponent(openId)).then(function (html) {
      listWrap.innerHTML = html;
      Object.keys(fresh).forEach(function (id) {
        var row = listWrap.querySelector('[data-conversation="' + id + '"]');
        if (row) row.classList.add("fresh");
      });
      fresh = {};
    }).catch(function () { /* the next event or reconnect refreshes again */ });
  }

  function refreshParts() {
    if (!openId) return;
    var stick = atBottom(thread());
    var url = inbox.dataset.partsUrl + (wantRead && !document.hidden ? "?read=1" : "");
    wantRead = false;
    get(url).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      ["thread-head", "thread-messages", "customer-panel"].forEach(function (id) {
        var now = document.getElementById(id), next = doc.getElementById(id);
        if (now && next) now.replaceWith(next);
      });
      if (stick) toBottom();
      scheduleList();
    }).catch(function () {});
  }

  function scheduleList() { clearTimeout(listTimer); listTimer = setTimeout(refreshList, 120); }
  function scheduleParts() { clearTimeout(partsTimer); partsTimer = setTimeout(refreshParts, 80); }

  function concerns(frame) {
    var data = frame.data || {};
    var id = data.conversation_id || data.conversation || (frame.event.indexOf("conversation.") === 0 ? data.id : "");
    if (id && String(id) === openId) return true;
    if (!openId) return false;
    if (data.customer && String(data.customer) === inbox.dataset.customer) return true;
    if (frame.event === "message.updated" && data.id && document.querySelector('[data-message="' + data.id + '"]')) return true;
    return frame.event.indexOf("order.") === 0 && (!data.customer_id || String(data.customer_id) === inbox.dataset.customer);
  }

  document.addEventListener("account:event", function (ev) {
    var frame = ev.detail || {};
    if (frame.type !== "event" || LIVE.indexOf(frame.event) < 0) return;
    var data = frame.data || {};
    var id = data.conversation_id || data.conversation || (frame.event.indexOf("conversation.") === 0 ? data.id : "");
    if (id && frame.event === "conversation.message") fresh[String(id)] = true;
    if (concerns(frame)) {
      if (frame.event === "conversation.message") wantRead = true;
      scheduleParts();
    } else {
      scheduleList();
    }
  });
  document.addEventListener("account:open", function () {
    if (liveState) liveState.textContent = t("live", "Live");
    // Catch up on what happened before the socket opened (or while it was down).
    wasClosed = false;
    if (openId) scheduleParts(); else scheduleList();
  });
  document.addEventListener("account:close", function () {
    wasClosed = true;
    if (liveState) liveState.textContent = t("reconnecting", "Reconnecting…");
  });

  var form = document.getElementById("reply-form");
  if (form && inbox.dataset.apiUrl) {
    var text = document.getElementById("reply-text");
    var alertBox = document.getElementById("reply-alert");
    var button = form.querySelector("button[type=submit]");
    function say(message) { alertBox.textContent = message; alertBox.hidden = !message; }
    text.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = text.value.trim();
      if (!body) return;
      button.disabled = true;
      say("");
      fetch(inbox.dataset.apiUrl + "messages/", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value },
        body: JSON.stringify({ text: body })
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (json) { return { ok: r.ok, json: json }; });
      }).then(function (res) {
        if (res.ok) { text.value = ""; refreshParts(); return; }
        var error = (res.json && res.json.error) || {};
        var prefix = error.code === "window_closed" ? t("not_sent", "Not sent:") + " " : "";
        say(prefix + (error.message || t("send_failed", "The message could not be sent. Try again.")));
      }).catch(function () {
        say(t("connection_dropped", "The message could not be sent: the connection dropped. Try again."));
      }).then(function () { button.disabled = false; text.focus(); });
    });
  }
})();
