// The chat page: one websocket per open chat (ws/chats/<id>/), the REST API for
// everything else (sidebar search, favorite, rename, delete, branches).
// Frames: see chats/services/streaming.py. Answers are rebuilt from `sync` and
// `token` frames by offset (code points), so a frame seen twice (two paths) or a
// reload mid-answer never duplicates text; a gap asks the server to resync.
(function () {
  "use strict";
  var dataNode = document.getElementById("chat-data");
  if (!dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  // The page's translated UI strings ({% js_strings "chat-strings" %}); English fallback.
  var stringsNode = document.getElementById("chat-strings");
  var strings = stringsNode ? JSON.parse(stringsNode.textContent) : {};
  function t(key, fallback) { return strings[key] || fallback; }
  var md = window.ChatMarkdown;
  var session = data.session;
  var list = document.getElementById("chat-messages");
  var form = document.getElementById("chat-composer");
  var input = document.getElementById("chat-input");
  var sendButton = document.getElementById("chat-send");
  var stopButton = document.getElementById("chat-stop");
  var statusLine = document.getElementById("chat-status");
  var alertBox = document.getElementById("chat-alert");
  var api = data.urls.api;

  // --- HTTP helpers ------------------------------------------------------------------
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function call(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") options.headers["X-CSRFToken"] = cookie("csrftoken");
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (r) {
      if (r.status === 204) return null;
      return r.json().then(function (json) {
        if (!r.ok) throw json.error || { message: t("request_failed", "Request failed ({status}).").replace("{status}", r.status) };
        return json;
      });
    });
  }

  function showAlert(text, seconds) {
    if (!alertBox) return;
    alertBox.hidden = false;
    if (!seconds) { alertBox.textContent = text; return; }
    var left = seconds;
    var tick = function () {
      alertBox.textContent = text.replace(/\d+ s\b/, left + " s");
      if (left-- <= 0) { alertBox.hidden = true; return; }
      setTimeout(tick, 1000);
    };
    tick();
  }
  function hideAlert() { if (alertBox) alertBox.hidden = true; }

  // --- sidebar ---------------------------------------------------------------------------
  var sidebar = document.getElementById("chat-list");
  var search = document.getElementById("chat-search");
  function renderSidebar(sessions) {
    sidebar.textContent = "";
    if (!sessions.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = t("no_chats", "No chats found.");
      sidebar.appendChild(empty);
    }
    sessions.forEach(function (s) {
      var li = document.createElement("li");
      if (session && s.id === session.id) li.className = "active";
      var a = document.createElement("a");
      a.href = data.urls.page + s.id + "/";
      var title = document.createElement("span");
      title.className = "chat-list-title";
      title.textContent = (s.is_favorite ? "★ " : "") + (s.title || t("new_chat", "New chat"));
      var who = document.createElement("span");
      who.className = "muted";
      who.textContent = s.persona ? s.persona.name : "—";
      a.appendChild(title);
      a.appendChild(who);
      li.appendChild(a);
      sidebar.appendChild(li);
    });
  }
  function refreshSidebar() {
    var q = search ? search.value.trim() : "";
    call("GET", api + (q ? "?search=" + encodeURIComponent(q) : "")).then(function (page) {
      renderSidebar(page.results);
    }).catch(function () {});
  }
  if (search) {
    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refreshSidebar, 250);
    });
  }

  if (!session) return; // the index page: picker and sidebar only

  // --- messages ----------------------------------------------------------------------------
  var byId = {};     // id -> {msg, el, text, len}
  var order = [];    // ids shown, first to last
  var streamingId = data.streaming;
  var mine = {};     // answers this tab asked for
  var pending = {};  // ids whose markdown needs a re-render

  function cps(text) { return Array.from(text).length; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function costLine(m) {
    if (m.sender !== "bot" || m.status === "streaming") return "";
    var parts = [t("credits", "{n} credits").replace("{n}", m.credits)];
    if (m.tokens_used || m.tokens_in || m.tokens_out) parts.push(t("tokens", "{n} tokens").replace("{n}", m.tokens_in + m.tokens_out));
    if (m.status === "stopped") parts.unshift(t("stopped", "Stopped"));
    return parts.join(" · ");
  }

  function renderEntry(entry) {
    var m = entry.msg;
    var node = entry.el;
    node.className = "chat-msg from-" + m.sender + " status-" + m.status;
    node.dataset.id = m.id;
    node.dataset.status = m.status;
    node.textContent = "";
    var meta = el("div", "chat-meta");
    meta.appendChild(el("span", "chat-who", m.sender === "user" ? t("you", "You") : (session.persona ? session.persona.name : t("bot", "Bot"))));
    var siblings = m.siblings || [m.id];
    if (siblings.length > 1) {
      var at = siblings.indexOf(m.id);
      var nav = el("span", "chat-branch");
      var prev = el("button", "small link", "‹");
      prev.type = "button";
      prev.disabled = at <= 0;
      prev.setAttribute("aria-label", t("previous_version", "Previous version"));
      prev.addEventListener("click", function () { chooseBranch(siblings[at - 1]); });
      var next = el("button", "small link", "›");
      next.type = "button";
      next.disabled = at >= siblings.length - 1;
      next.setAttribute("aria-label", t("next_version", "Next version"));
      next.addEventListener("click", function () { chooseBranch(siblings[at + 1]); });
      nav.appendChild(prev);
      nav.appendChild(el("span", "", (at + 1) + "/" + siblings.length));
      nav.appendChild(next);
      meta.appendChild(nav);
    }
    node.appendChild(meta);
    var body = el("div", "chat-body md");
    body.dataset.testid = "message-body";
    if (m.sender === "bot") body.innerHTML = md.render(entry.text);
    else body.textContent = entry.text;
    if (m.status === "streaming") body.appendChild(el("span", "chat-caret", "▍"));
    node.appendChild(body);
    if (m.error && m.error.message) node.appendChild(el("p", "chat-error", m.error.message));
    if (m.citations && m.citations.length) {
      var cites = el("ol", "chat-citations");
      m.citations.forEach(function (c) {
        var li = el("li");
        li.value = c.n || 0;
        li.textContent = (c.title || c.source || t("passage", "Passage")) + (c.source && c.title ? " — " + c.source : "");
        cites.appendChild(li);
      });
      node.appendChild(cites);
    }
    var foot = el("div", "chat-foot");
    var cost = costLine(m);
    if (cost) foot.appendChild(el("span", "chat-cost", cost));
    if (m.status !== "streaming") {
      var copy = el("button", "small link", t("copy", "Copy"));
      copy.type = "button";
      copy.addEventListener("click", function () { copyText(entry.text, copy); });
      foot.appendChild(copy);
      if (data.can_send && m.sender === "bot" && m.parent_id) {
        var again = el("button", "small link", t("regenerate", "Regenerate"));
        again.type = "button";
        again.addEventListener("click", function () { sendFrame({ type: "regenerate", message_id: m.id }); });
        foot.appendChild(again);
      }
      if (data.can_send && m.sender === "user") {
        var edit = el("button", "small link", t("edit", "Edit"));
        edit.type = "button";
        edit.addEventListener("click", function () { startEdit(entry); });
        foot.appendChild(edit);
      }
    }
    node.appendChild(foot);
  }

  function upsert(m) {
    var entry = byId[m.id];
    if (!entry) {
      entry = byId[m.id] = { msg: m, el: el("li"), text: m.content || "", len: cps(m.content || "") };
      // A message continues its parent: whatever was shown after the parent is another branch.
      var at = m.parent_id ? order.indexOf(m.parent_id) : -1;
      if (m.parent_id === null || at >= 0) {
        order.splice(at + 1).forEach(function (id) { if (id !== m.id && byId[id]) byId[id].el.remove(); });
      }
      order.push(m.id);
      list.appendChild(entry.el);
    } else {
      entry.msg = Object.assign(entry.msg, m);
      if (m.status !== "streaming" || m.content) { entry.text = m.content || entry.text; entry.len = cps(entry.text); }
    }
    renderEntry(entry);
    scrollDown();
    return entry;
  }

  function showBranch(messages) {
    list.textContent = "";
    byId = {};
    order = [];
    messages.forEach(upsert);
  }

  function scrollDown() {
    var nearBottom = window.innerHeight + window.scrollY >= document.body.offsetHeight - 200;
    if (nearBottom) list.lastElementChild && list.lastElementChild.scrollIntoView({ block: "end" });
  }

  var frameRequested = false;
  function scheduleRender(id) {
    pending[id] = true;
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(function () {
      frameRequested = false;
      Object.keys(pending).forEach(function (key) { if (byId[key]) renderEntry(byId[key]); });
      pending = {};
      scrollDown();
    });
  }

  function setStreaming(id) {
    streamingId = id;
    stopButton.hidden = !id;
    sendButton.disabled = !!id || !session.persona;
    statusLine.textContent = id ? t("writing", "Writing…") : "";
  }

  function copyText(text, button) {
    AIP.copy(text, button, { copied: t("copied", "Copied"), idle: t("copy", "Copy") });
  }

  function startEdit(entry) {
    var area = el("textarea", "chat-edit");
    area.value = entry.text;
    area.rows = 3;
    var save = el("button", "small", t("send_edit", "Send edit"));
    save.type = "button";
    var cancel = el("button", "small link", t("cancel", "Cancel"));
    cancel.type = "button";
    var box = el("div", "chat-edit-box");
    box.appendChild(area);
    box.appendChild(save);
    box.appendChild(cancel);
    entry.el.appendChild(box);
    area.focus();
    cancel.addEventListener("click", function () { box.remove(); });
    save.addEventListener("click", function () {
      if (sendFrame({ type: "send", content: area.value, edit_of: entry.msg.id })) box.remove();
    });
  }

  function chooseBranch(messageId) {
    call("POST", api + session.id + "/branch/", { message_id: messageId }).then(showBranch)
      .catch(function (e) { showAlert(e.message || t("could_not_switch", "Could not switch.")); });
  }

  function reloadBranch() {
    return call("GET", api + session.id + "/messages/").then(showBranch).catch(function () {});
  }

  // --- frames ---------------------------------------------------------------------------------
  function onFrame(f) {
    var entry;
    switch (f.type) {
      case "hello":
        if (f.streaming) setStreaming(f.streaming);
        else if (streamingId) { setStreaming(null); reloadBranch(); }
        break;
      case "message":
        upsert(f.message);
        if (f.message.status === "streaming") setStreaming(f.message.id);
        break;
      case "sync":
        entry = byId[f.message_id];
        if (!entry) { reloadBranch(); break; }
        entry.text = f.text;
        entry.len = f.offset;
        setStreaming(f.message_id);
        scheduleRender(f.message_id);
        break;
      case "token":
        entry = byId[f.message_id];
        if (!entry) break;
        if (f.offset > entry.len) { sendFrame({ type: "sync" }); break; } // a gap: ask again
        var pieces = Array.from(f.text);
        var skip = entry.len - f.offset;
        if (skip < pieces.length) {
          entry.text += pieces.slice(skip).join("");
          entry.len += pieces.length - skip;
          scheduleRender(f.message_id);
        }
        break;
      case "done":
      case "error":
        if (f.message_id && byId[f.message_id]) {
          finish(f);
        } else if (!f.message_id) {
          showAlert(f.message || t("something_wrong", "Something went wrong."), f.retry_after);
        }
        break;
    }
  }

  function finish(f) {
    var entry = byId[f.message_id];
    var m = entry.msg;
    m.status = f.status;
    m.content = f.content;
    m.credits = f.credits;
    m.tokens_in = f.usage ? f.usage.tokens_in : 0;
    m.tokens_out = f.usage ? f.usage.tokens_out : 0;
    m.citations = f.citations || [];
    m.error = f.type === "error" ? { code: f.code, message: f.message } : null;
    entry.text = f.content;
    entry.len = cps(f.content);
    renderEntry(entry);
    delete mine[f.message_id];
    if (streamingId === f.message_id) setStreaming(null);
    if (f.title && f.title !== session.title) {
      session.title = f.title;
      document.getElementById("chat-title").textContent = f.title;
      document.title = f.title + " · aiplatform";
    }
    reloadBranch().then(refreshSidebar); // branch counters and the sidebar order
  }

  // --- the socket -------------------------------------------------------------------------------
  var socket = null;
  function connect() { // AIP.socket (js/live.js): backoff from 500 ms to 10 s
    socket = AIP.socket(data.urls.ws + session.id + "/", {
      first: 500, most: 10000,
      open: function () { hideAlert(); },
      message: onFrame,
      close: function (state) {
        if (state.code === 4401 || state.code === 4404) { showAlert(t("not_available", "This chat is not available. Reload the page.")); return; }
        if (state.retryIn !== null) showAlert(t("connection_lost", "Connection lost. Reconnecting…"));
      },
    });
  }
  function sendFrame(frame) {
    if (!socket || !socket.send(frame)) { showAlert(t("not_connected", "Not connected yet. Try again in a moment.")); return false; }
    hideAlert();
    return true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || streamingId) return;
    if (sendFrame({ type: "send", content: text })) input.value = "";
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stopButton.addEventListener("click", function () { sendFrame({ type: "stop" }); });

  // --- header actions -----------------------------------------------------------------------------
  var star = document.getElementById("chat-star");
  star.addEventListener("click", function () {
    var on = star.getAttribute("aria-pressed") !== "true";
    call("PATCH", api + session.id + "/", { is_favorite: on }).then(function (s) {
      star.setAttribute("aria-pressed", String(s.is_favorite));
      star.textContent = s.is_favorite ? "★" : "☆";
      refreshSidebar();
    }).catch(function (e) { showAlert(e.message); });
  });
  document.getElementById("chat-rename").addEventListener("click", function () {
    var title = window.prompt(t("rename_prompt", "Rename this chat"), session.title || "");
    if (title === null) return;
    call("PATCH", api + session.id + "/", { title: title }).then(function (s) {
      session.title = s.title;
      document.getElementById("chat-title").textContent = s.title || "New chat";
      refreshSidebar();
    }).catch(function (e) { showAlert(e.message); });
  });
  document.getElementById("chat-delete").addEventListener("click", function () {
    if (!window.confirm(t("delete_confirm", "Delete this chat and all its messages?"))) return;
    call("DELETE", api + session.id + "/").then(function () { location.href = data.urls.page; })
      .catch(function (e) { showAlert(e.message); });
  });

  showBranch(data.messages);
  setStreaming(streamingId);
  connect();
})();
