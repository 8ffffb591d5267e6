// The live board of a project: React Flow (vendored UMD, no build step) drawing the
// project's rows, kept in step with the server over ws/canvas/<project_id>/.
//
// The server is the source of truth (canvas/services/board.py): every node row has
// a version; an operation is sent with the version this page last saw, and the
// server either applies it (an `applied` frame to everyone, our acknowledgement
// matched by op_id) or refuses it (`error`, with the current row when stale): the
// local change is then rolled back to that row and the message shown. Operations
// on one node are sent one at a time (the next waits for the previous to be
// acknowledged, so it carries the new version). A reconnect (with backoff) gets a
// fresh snapshot, which replaces everything drawn.
(function () {
  "use strict";
  var dataNode = document.getElementById("board-data");
  var mount = document.getElementById("board");
  if (!dataNode || !mount || !window.React || !window.ReactFlow) return;
  var cfg = JSON.parse(dataNode.textContent);
  var T = cfg.text;
  var R = window.React;
  var RF = window.ReactFlow;
  var h = R.createElement;
  var CONNECTION = "connection";
  var CLIENT = Math.random().toString(36).slice(2, 8);
  var COLORS = ["#E11D48", "#2563EB", "#16A34A", "#D97706", "#7C3AED", "#0891B2", "#DB2777", "#65A30D"];
  var CURSOR_EVERY_MS = 50;
  var VIEW_SAVE_MS = 800;

  function key(kind, id) { return kind + ":" + id; }
  function ref(k) { var i = k.indexOf(":"); return { kind: k.slice(0, i), id: k.slice(i + 1) }; }
  function round2(v) { return Math.round(v * 100) / 100; }
  function colorOf(text) {
    var n = 0;
    for (var i = 0; i < text.length; i++) n = (n * 31 + text.charCodeAt(i)) >>> 0;
    return COLORS[n % COLORS.length];
  }
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, name) { return values[name] !== undefined ? values[name] : ""; });
  }

  // --- a tiny event hub: React components subscribe to the parts they draw ----------
  function Hub() { this.handlers = {}; }
  Hub.prototype.on = function (name, fn) {
    (this.handlers[name] = this.handlers[name] || []).push(fn);
    var list = this.handlers[name];
    return function () { var i = list.indexOf(fn); if (i >= 0) list.splice(i, 1); };
  };
  Hub.prototype.emit = function (name, value) {
    (this.handlers[name] || []).slice().forEach(function (fn) { fn(value); });
  };
  var hub = new Hub();

  // --- the websocket, reconnecting with backoff (AIP.socket, js/live.js) --------------
  function BoardSocket(url, onFrame, onStatus) {
    var socket = AIP.socket(url, {
      first: 500, most: 15000,
      open: function () { onStatus("live"); },
      message: onFrame,
      close: function (state) {
        if (state.code === 4401 || state.code === 4404) { onStatus("gone", state.code); return; }
        if (state.retryIn !== null) onStatus("reconnecting", Math.round(state.retryIn / 1000));
      },
    });
    this.send = function (frame) { return socket.send(frame); };
    this.close = function () { socket.close(); };
  }

  // --- rows -> React Flow nodes and edges ---------------------------------------------
  var COLLAPSED_HEIGHT = 44;

  function flowNode(row, prev) {
    var node = {
      id: key(row.kind, row.id),
      type: row.kind,
      position: { x: row.x, y: row.y },
      data: { row: row },
      selected: prev ? prev.selected : false,
      draggable: cfg.editable,
      connectable: cfg.editable,
      deletable: cfg.editable,
      dragHandle: ".board-node-head",
    };
    if (row.w !== undefined) {
      node.width = row.w;
      node.height = row.kind === "folder" && row.collapsed ? COLLAPSED_HEIGHT : row.h;
    }
    return node;
  }

  function flowEdge(row) {
    var style = row.style || {};
    return {
      id: key(CONNECTION, row.id),
      source: key(row.source.kind, row.source.id),
      target: key(row.target.kind, row.target.id),
      data: { row: row },
      deletable: cfg.editable,
      style: { stroke: style.color || "#6B7280", strokeWidth: style.width || 2 },
    };
  }

  // --- node components ----------------------------------------------------------------
  var actions = {}; // filled by the Board component

  function handles() {
    return [
      h(RF.Handle, { key: "t", type: "target", position: RF.Position.Left, isConnectable: cfg.editable }),
      h(RF.Handle, { key: "s", type: "source", position: RF.Position.Right, isConnectable: cfg.editable }),
    ];
  }

  function rename(row) {
    if (!cfg.editable) return;
    var title = window.prompt(T.rename, row.title || "");
    if (title === null || title.trim() === row.title) return;
    actions.op({ op: "update", kind: row.kind, id: row.id, title: title });
  }

  function resizer(props, minW, minH) {
    var row = props.data.row;
    return h(RF.NodeResizer, {
      key: "resizer",
      isVisible: cfg.editable && props.selected && !(row.kind === "folder" && row.collapsed),
      minWidth: minW,
      minHeight: minH,
      onResizeEnd: function (_, p) { actions.resized(props.id, p); },
    });
  }

  // Which folder each piece is filed in (seed 003 canvas_folder_items), for the
  // folders' counts: frames that do not say (a move) leave a piece where it was.
  var filed = {}; // piece id -> { folder: id or null, live: bool }
  function file(row) {
    var was = filed[row.id] || { folder: null, live: true };
    var now = { folder: "folder" in row ? row.folder : was.folder, live: !row.deleted };
    row.folder = now.folder;
    filed[row.id] = now;
    if (now.folder !== was.folder || now.live !== was.live) hub.emit("folders");
  }
  function piecesIn(folderId) {
    return Object.keys(filed).filter(function (id) { return filed[id].live && filed[id].folder === folderId; }).length;
  }
  function useFolders() {
    var pair = R.useState(0);
    R.useEffect(function () { return hub.on("folders", function () { pair[1](function (n) { return n + 1; }); }); }, []);
  }

  // The latest job of each type of each piece (analysis, script), as the queue reports it.
  var jobs = {}; // piece id -> { job_type: job }
  function jobSeen(job) {
    (jobs[job.piece] = jobs[job.piece] || {})[job.job_type] = job;
    hub.emit("jobs:" + job.piece);
  }
  function useJobs(pieceId) {
    var pair = R.useState(0);
    R.useEffect(function () {
      return hub.on("jobs:" + pieceId, function () { pair[1](function (n) { return n + 1; }); });
    }, [pieceId]);
    return jobs[pieceId] || {};
  }
  function jobBadges(pieceId) {
    var mine = useJobs(pieceId);
    return Object.keys(mine).sort().map(function (type) {
      var job = mine[type];
      var label = (T.job_types[type] || type) + ": " + format(T.job_status[job.status] || job.status, { n: job.progress + "%" });
      return h("span", { key: type, className: "badge badge-" + job.status, "data-testid": "piece-job",
                         "data-job-status": job.status, title: job.error || "" }, label);
    });
  }

  function FolderNode(props) {
    var row = props.data.row;
    useFolders();
    var items = piecesIn(row.id);
    return h("div", { className: "board-node board-folder" + (row.collapsed ? " is-collapsed" : ""),
                      style: { borderColor: row.color, background: row.color + "14" },
                      "data-testid": "folder-node" },
      resizer(props, 120, 80),
      h("div", { className: "board-node-head", style: { background: row.color } },
        h("span", { className: "board-node-kind" }, T.folder),
        h("span", { className: "board-node-title", onDoubleClick: function () { rename(row); } }, row.title),
        cfg.editable ? h("button", {
          type: "button", className: "board-mini nodrag", title: row.collapsed ? T.expand : T.collapse,
          onClick: function () { actions.op({ op: "update", kind: "folder", id: row.id, collapsed: !row.collapsed }); },
        }, row.collapsed ? "▸" : "▾") : null),
      row.collapsed ? null : h("div", { className: "board-node-body muted small" },
        items ? format(T.folder_items, { n: items }) : T.folder_empty),
      handles());
  }

  function PieceNode(props) {
    var row = props.data.row;
    return h("div", { className: "board-node board-piece", "data-testid": "piece-node" },
      h("div", { className: "board-node-head" },
        h("span", { className: "board-node-kind" }, row.platform || row.content_type),
        h("span", { className: "board-node-title", onDoubleClick: function () { rename(row); } },
          row.title || row.source_url)),
      row.thumbnail_url ? h("img", { className: "board-thumb", src: row.thumbnail_url, alt: "", loading: "lazy" }) : null,
      h("div", { className: "board-node-body small" },
        h("span", { className: "badge badge-" + row.processing_status, "data-testid": "piece-status" },
          T.status[row.processing_status] || row.processing_status),
        jobBadges(row.id),
        row.source_url && /^https?:/.test(row.source_url)
          ? h("a", { className: "nodrag", href: row.source_url, target: "_blank", rel: "noopener" }, T.open) : null,
        cfg.piece_url ? h("a", { className: "nodrag", "data-testid": "piece-details",
                                 href: cfg.piece_url.replace("00000000-0000-0000-0000-000000000000", row.id) },
                          T.details) : null),
      handles());
  }

  // Chat histories live outside the node rows (a move must not resend them).
  var chats = {};
  function chatState(id) {
    if (!chats[id]) chats[id] = { history: [], streaming: null, error: "" };
    return chats[id];
  }
  function useChat(id) {
    var pair = R.useState(0);
    R.useEffect(function () {
      return hub.on("chat:" + id, function () { pair[1](function (n) { return n + 1; }); });
    }, [id]);
    return chatState(id);
  }

  function ChatNode(props) {
    var row = props.data.row;
    var chat = useChat(row.id);
    var draft = R.useState("");
    var list = R.useRef(null);
    R.useEffect(function () { if (list.current) list.current.scrollTop = list.current.scrollHeight; });
    function ask(event) {
      event.preventDefault();
      var text = draft[0].trim();
      if (!text || chat.streaming) return;
      if (actions.ask(row.id, text)) draft[1]("");
    }
    var messages = chat.history.map(function (m, i) {
      return h("div", { key: i, className: "board-chat-msg from-" + m.role },
        m.role === "user" && m.by ? h("span", { className: "muted small" }, m.by + ": ") : null,
        h("span", { className: "board-chat-text" }, m.content),
        m.role === "assistant" && m.credits ? h("span", { className: "muted small board-chat-cost" },
          " · " + format(T.credits, { n: m.credits })) : null);
    });
    if (chat.streaming) {
      messages.push(h("div", { key: "streaming", className: "board-chat-msg from-assistant is-streaming",
                               "data-testid": "chat-streaming" },
        h("span", { className: "board-chat-text" }, chat.streaming.text || "…")));
    }
    return h("div", { className: "board-node board-chat", "data-testid": "chat-node" },
      resizer(props, 220, 200),
      h("div", { className: "board-node-head" },
        h("span", { className: "board-node-kind" }, T.chat),
        h("span", { className: "board-node-title", onDoubleClick: function () { rename(row); } }, row.title)),
      h("div", { className: "board-chat-list nodrag nowheel", ref: list, "data-testid": "chat-messages" },
        messages.length ? messages : h("p", { className: "muted small" }, T.chat_empty)),
      chat.error ? h("p", { className: "board-chat-error small", role: "alert" }, chat.error) : null,
      cfg.editable ? h("form", { className: "board-chat-form nodrag", onSubmit: ask },
        h("textarea", { className: "nodrag nowheel", rows: 2, value: draft[0], placeholder: T.ask_placeholder,
                        "aria-label": T.ask_placeholder,
                        onChange: function (e) { draft[1](e.target.value); },
                        onKeyDown: function (e) { if (e.key === "Enter" && !e.shiftKey) ask(e); } }),
        h("button", { type: "submit", disabled: !!chat.streaming }, T.ask)) : null,
      handles());
  }

  var nodeTypes = { folder: FolderNode, content_piece: PieceNode, chat_interface: ChatNode };

  // --- the board ----------------------------------------------------------------------
  function Cursors(props) {
    return h(RF.ViewportPortal, null, Object.keys(props.cursors).map(function (id) {
      var c = props.cursors[id];
      return h("div", { key: id, className: "board-cursor", "data-testid": "cursor",
                        style: { transform: "translate(" + c.x + "px," + c.y + "px)", color: c.color } },
        h("svg", { width: 16, height: 16, viewBox: "0 0 16 16" },
          h("path", { d: "M0 0 L0 12 L4 9 L7 15 L9 14 L6 8 L11 8 Z", fill: "currentColor" })),
        h("span", { className: "board-cursor-name", style: { background: c.color } }, c.name));
    }));
  }

  function Board() {
    var rf = RF.useReactFlow();
    var nodesState = R.useState([]);
    var edgesState = R.useState([]);
    var nodes = nodesState[0], setNodes = nodesState[1];
    var edges = edgesState[0], setEdges = edgesState[1];
    var statusState = R.useState({ state: "connecting" });
    var alertState = R.useState("");
    var peopleState = R.useState({});
    var cursorsState = R.useState({});
    var undoState = R.useState(0);
    var settingsState = R.useState((cfg.canvas_data && cfg.canvas_data.settings) || {});
    var settings = settingsState[0];
    var me = R.useRef(null);
    var st = R.useRef(null);
    if (st.current === null) {
      st.current = { server: {}, pending: {}, queued: {}, inflight: {}, undo: [], seq: 0, socket: null,
                     lastCursor: 0, viewTimer: null };
    }
    var s = st.current;

    function say(message) {
      alertState[1](message);
      if (message) setTimeout(function () { alertState[1](function (m) { return m === message ? "" : m; }); }, 6000);
    }

    // Draw one row (the server's), or take it off the board when deleted.
    function draw(row) {
      var k = key(row.kind, row.id);
      if (row.kind === CONNECTION) {
        setEdges(function (list) {
          var rest = list.filter(function (e) { return e.id !== k; });
          return row.deleted ? rest : rest.concat([flowEdge(row)]);
        });
        return;
      }
      setNodes(function (list) {
        var found = false;
        var next = [];
        list.forEach(function (n) {
          if (n.id !== k) { next.push(n); return; }
          found = true;
          if (!row.deleted) {
            var fresh = flowNode(row, n);
            if (n.dragging || n.resizing) { fresh.position = n.position; fresh.width = n.width; fresh.height = n.height; fresh.dragging = n.dragging; }
            next.push(fresh);
          }
        });
        if (!found && !row.deleted) next.push(flowNode(row, null));
        return next;
      });
    }

    function remember(row) {
      if (row.kind === "content_piece") file(row);
      s.server[key(row.kind, row.id)] = row;
    }

    function loadSnapshot(frame) {
      s.server = {};
      filed = {};
      jobs = {};
      (frame.jobs || []).forEach(jobSeen);
      s.pending = {};
      s.queued = {};
      s.inflight = {};
      frame.nodes.forEach(remember);
      frame.connections.forEach(remember);
      frame.nodes.forEach(function (row) {
        if (row.kind === "chat_interface" && row.history) {
          var chat = chatState(row.id);
          chat.history = row.history;
          chat.streaming = row.streaming ? { answer_id: row.streaming.answer_id, text: row.streaming.text || "" } : null;
          hub.emit("chat:" + row.id);
        }
      });
      setNodes(frame.nodes.map(function (row) { return flowNode(row, null); }));
      setEdges(frame.connections.map(flowEdge));
    }

    // --- operations ----------------------------------------------------------------
    function send(op, opts) {
      var k = op.kind && op.id ? key(op.kind, op.id) : null;
      if (k && s.pending[k]) {
        (s.queued[k] = s.queued[k] || []).push([op, opts]);
        return;
      }
      var opId = CLIENT + "-" + (++s.seq);
      var before = k ? s.server[k] : null;
      if (k) {
        if (!before) { say(T.gone); return; }
        op.version = before.version;
        s.pending[k] = opId;
      }
      s.inflight[opId] = { key: k, op: op, before: before, undo: !(opts && opts.undo) };
      var frame = { type: "op", op_id: opId };
      Object.keys(op).forEach(function (name) { frame[name] = op[name]; });
      if (!s.socket || !s.socket.send(frame)) {
        delete s.inflight[opId];
        if (k) delete s.pending[k];
        if (before) draw(before);
        say(T.offline);
      }
    }

    function settle(k) {
      if (!k) return;
      delete s.pending[k];
      var next = (s.queued[k] || []).shift();
      if (next) send(next[0], next[1]);
    }

    function inverse(op, before, node) {
      var ref = { kind: node.kind, id: node.id };
      if (op.op === "move") return Object.assign(ref, { op: "move", x: before.x, y: before.y });
      if (op.op === "resize") return Object.assign(ref, { op: "resize", w: before.w, h: before.h });
      if (op.op === "delete") return Object.assign(ref, { op: "restore" });
      if (op.op === "restore" || op.op === "create" || op.op === "connect") return Object.assign(ref, { op: "delete" });
      if (op.op === "update") {
        var back = Object.assign(ref, { op: "update" });
        if ("title" in op) back.title = before.title;
        if ("color" in op) back.color = before.color;
        if ("collapsed" in op) back.collapsed = before.collapsed;
        if ("style" in op) back.style = before.style;
        if ("folder" in op) back.folder = before.folder || null;
        return back;
      }
      return null;
    }

    function onApplied(frame) {
      [frame.node].concat(frame.related || []).forEach(function (row) { remember(row); draw(row); });
      var mine = frame.op_id ? s.inflight[frame.op_id] : null;
      if (!mine) return;
      delete s.inflight[frame.op_id];
      if (mine.undo) {
        var back = inverse(mine.op, mine.before, frame.node);
        if (back) { s.undo.push(back); if (s.undo.length > 100) s.undo.shift(); undoState[1](s.undo.length); }
      }
      settle(mine.key || key(frame.node.kind, frame.node.id));
    }

    function onError(frame) {
      var mine = frame.op_id ? s.inflight[frame.op_id] : null;
      if (frame.op_id && frame.op_id.indexOf("chat:") === 0) {
        var chatId = frame.op_id.split(":")[2];
        var chat = chatState(chatId);
        chat.error = frame.message;
        hub.emit("chat:" + chatId);
        return;
      }
      say(frame.message);
      if (!mine) return;
      delete s.inflight[frame.op_id];
      if (frame.current) remember(frame.current);
      var k = mine.key;
      if (k) {
        // What was queued behind a refused change was made on top of it: drop it too.
        delete s.queued[k];
        delete s.pending[k];
        var row = s.server[k];
        if (row) draw(row);
      } else if (mine.op.op === "connect") {
        setEdges(function (list) { return list.slice(); });
      }
    }

    function onChatFrame(frame) {
      var chat = chatState(frame.chat_id);
      if (frame.type === "chat_started") {
        chat.history = chat.history.concat([frame.question]);
        chat.streaming = { answer_id: frame.answer_id, text: "" };
        chat.error = "";
      } else if (frame.type === "chat_token") {
        if (!chat.streaming || chat.streaming.answer_id !== frame.answer_id) chat.streaming = { answer_id: frame.answer_id, text: "" };
        chat.streaming.text += frame.text;
      } else if (frame.type === "chat_done") {
        chat.streaming = null;
        if (frame.answer) chat.history = chat.history.concat([frame.answer]);
        chat.error = frame.status === "failed" ? frame.message : "";
      }
      hub.emit("chat:" + frame.chat_id);
    }

    function onFrame(frame) {
      var t = frame.type;
      if (t === "snapshot") {
        me.current = frame.you;
        loadSnapshot(frame);
        peopleState[1]({});
        cursorsState[1]({});
      } else if (t === "applied") onApplied(frame);
      else if (t === "job") jobSeen(frame.job);
      else if (t === "error") onError(frame);
      else if (t === "join" || t === "here") {
        var u = frame.user;
        peopleState[1](function (p) { var n = Object.assign({}, p); n[u.client_id] = u; return n; });
      } else if (t === "leave") {
        var gone = frame.user.client_id;
        peopleState[1](function (p) { var n = Object.assign({}, p); delete n[gone]; return n; });
        cursorsState[1](function (c) { var n = Object.assign({}, c); delete n[gone]; return n; });
      } else if (t === "cursor") {
        var who = frame.user;
        cursorsState[1](function (c) {
          var n = Object.assign({}, c);
          n[who.client_id] = { x: frame.x, y: frame.y, name: who.name, color: colorOf(who.user_id) };
          return n;
        });
      } else if (t === "chat_started" || t === "chat_token" || t === "chat_done") onChatFrame(frame);
    }

    R.useEffect(function () {
      if (cfg.snapshot) onFrame(Object.assign({ type: "snapshot" }, cfg.snapshot));
      var proto = location.protocol === "https:" ? "wss://" : "ws://";
      var wasLive = false;
      s.socket = new BoardSocket(proto + location.host + cfg.ws_path, onFrame, function (state, detail) {
        if (state === "live" && wasLive) say(T.resynced);
        if (state === "live") wasLive = true;
        statusState[1]({ state: state, detail: detail });
      });
      function onKey(event) {
        var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
        if (!typing && (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
          event.preventDefault();
          actions.undo();
        }
      }
      window.addEventListener("keydown", onKey);
      return function () { window.removeEventListener("keydown", onKey); s.socket.close(); };
    }, []);

    actions.op = function (op) { if (cfg.editable) send(op); };
    actions.undo = function () {
      var back = s.undo.pop();
      undoState[1](s.undo.length);
      if (back) send(back, { undo: true });
    };
    actions.resized = function (id, p) {
      var row = s.server[id];
      if (!row) return;
      var r = ref(id);
      send({ op: "resize", kind: r.kind, id: r.id, w: round2(p.width), h: round2(p.height) });
      if (round2(p.x) !== row.x || round2(p.y) !== row.y) send({ op: "move", kind: r.kind, id: r.id, x: round2(p.x), y: round2(p.y) });
    };
    actions.ask = function (chatId, text) {
      if (!s.socket) return false;
      var ok = s.socket.send({ type: "chat", op_id: "chat:" + (++s.seq) + ":" + chatId, chat_id: chatId, text: text });
      if (!ok) say(T.offline);
      return ok;
    };

    function onNodesChange(changes) {
      var allowed = changes.filter(function (c) { return c.type !== "remove"; });
      setNodes(function (list) { return RF.applyNodeChanges(allowed, list); });
    }
    function onEdgesChange(changes) {
      var allowed = changes.filter(function (c) { return c.type !== "remove"; });
      setEdges(function (list) { return RF.applyEdgeChanges(allowed, list); });
    }
    function onDelete(removed) {
      var gone = {};
      removed.nodes.forEach(function (n) { gone[n.id] = true; var r = ref(n.id); send({ op: "delete", kind: r.kind, id: r.id }); });
      removed.edges.forEach(function (e) {
        if (gone[e.source] || gone[e.target]) return; // the server deletes a node's connections with it
        send({ op: "delete", kind: CONNECTION, id: ref(e.id).id });
      });
    }
    function onNodeDragStop(_, node, dragged) {
      (dragged && dragged.length ? dragged : [node]).forEach(function (n) {
        var row = s.server[n.id];
        var x = round2(n.position.x), y = round2(n.position.y);
        if (!row || (row.x === x && row.y === y)) return;
        var r = ref(n.id);
        send({ op: "move", kind: r.kind, id: r.id, x: x, y: y });
        if (r.kind !== "content_piece") return;
        var into = folderUnder(n);
        if (into !== (row.folder || null)) send({ op: "update", kind: r.kind, id: r.id, folder: into });
      });
    }
    // The folder a dropped piece's centre is over (the top-most), or null: dropping a
    // piece on a folder files it there, dragging it out takes it out.
    function folderUnder(n) {
      function box(node) {
        var m = node.measured || {};
        return { x: node.position.x, y: node.position.y, w: m.width || node.width || 0, h: m.height || node.height || 0 };
      }
      var p = box(n), cx = p.x + p.w / 2, cy = p.y + p.h / 2, hit = null;
      rf.getNodes().forEach(function (f) {
        if (f.type !== "folder") return;
        var b = box(f);
        if (cx >= b.x && cx <= b.x + b.w && cy >= b.y && cy <= b.y + b.h) hit = ref(f.id).id;
      });
      return hit;
    }
    function onConnect(params) {
      if (params.source === params.target) return;
      send({ op: "connect", source: ref(params.source), target: ref(params.target) });
    }
    function onMouseMove(event) {
      var now = Date.now();
      if (now - s.lastCursor < CURSOR_EVERY_MS || !s.socket) return;
      s.lastCursor = now;
      var p = rf.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      s.socket.send({ type: "cursor", x: round2(p.x), y: round2(p.y) });
    }
    function saveView(viewport, nextSettings) {
      if (!cfg.editable) return;
      clearTimeout(s.viewTimer);
      s.viewTimer = setTimeout(function () {
        var v = viewport || rf.getViewport();
        var body = { canvas_data: { viewport: { x: round2(v.x), y: round2(v.y), zoom: Math.round(v.zoom * 1000) / 1000 },
                                    settings: nextSettings || settingsState[0] } };
        fetch(cfg.api_url, {
          method: "PATCH", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": cookie("csrftoken") },
          body: JSON.stringify(body),
        }).then(function (r) { if (!r.ok) return r.json().then(function (j) { say((j.error && j.error.message) || T.view_not_saved); }); })
          .catch(function () { say(T.view_not_saved); });
      }, VIEW_SAVE_MS);
    }
    function toggle(name) {
      var next = Object.assign({}, settings);
      next[name] = !next[name];
      settingsState[1](next);
      saveView(null, next);
    }
    function create(kind) {
      var rect = mount.getBoundingClientRect();
      var c = rf.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 });
      var op = { op: "create", kind: kind, x: round2(c.x - 150), y: round2(c.y - 100) };
      op.title = kind === "folder" ? T.new_folder : T.new_chat;
      send(op);
    }

    var status = statusState[0];
    var statusText = status.state === "live" ? T.live
      : status.state === "reconnecting" ? format(T.reconnecting, { n: status.detail })
      : status.state === "gone" ? T.gone_socket : T.connecting;
    var people = peopleState[0];
    var viewport = cfg.canvas_data && cfg.canvas_data.viewport;

    var toolbar = h("div", { className: "board-toolbar" },
      cfg.editable ? [
        h("button", { key: "f", type: "button", onClick: function () { create("folder"); }, "data-testid": "add-folder" }, T.add_folder),
        h("button", { key: "c", type: "button", onClick: function () { create("chat_interface"); }, "data-testid": "add-chat" }, T.add_chat),
        h("button", { key: "u", type: "button", onClick: actions.undo, disabled: !s.undo.length, "data-testid": "undo" }, T.undo),
      ] : h("span", { className: "badge", "data-testid": "read-only" }, T.read_only),
      h("label", { className: "board-toggle" },
        h("input", { type: "checkbox", checked: !!settings.minimap, onChange: function () { toggle("minimap"); } }), T.minimap),
      h("label", { className: "board-toggle" },
        h("input", { type: "checkbox", checked: !!settings.snap, onChange: function () { toggle("snap"); } }), T.snap),
      h("span", { className: "board-people", "data-testid": "board-people" },
        Object.keys(people).map(function (id) {
          var u = people[id];
          return h("span", { key: id, className: "board-person", title: u.name, style: { background: colorOf(u.user_id) } }, u.name);
        })),
      h("span", { className: "board-status board-status-" + status.state, "data-testid": "board-status", "data-state": status.state }, statusText));

    return h("div", { className: "board-wrap", onMouseMove: onMouseMove },
      toolbar,
      alertState[0] ? h("div", { className: "board-alert", role: "alert", "data-testid": "board-alert" }, alertState[0]) : null,
      h("div", { className: "board-canvas" },
        h(RF.ReactFlow, {
          nodes: nodes, edges: edges, nodeTypes: nodeTypes,
          onNodesChange: onNodesChange, onEdgesChange: onEdgesChange, onDelete: onDelete,
          onNodeDragStop: onNodeDragStop, onConnect: onConnect,
          onMoveEnd: function (_, v) { saveView(v); },
          defaultViewport: viewport || { x: 0, y: 0, zoom: 1 },
          fitView: !viewport && cfg.snapshot && cfg.snapshot.nodes.length > 0,
          minZoom: 0.05, maxZoom: 8,
          nodesDraggable: cfg.editable, nodesConnectable: cfg.editable, edgesFocusable: cfg.editable,
          deleteKeyCode: cfg.editable ? ["Delete", "Backspace"] : null,
          snapToGrid: !!settings.snap, snapGrid: [16, 16],
          proOptions: { hideAttribution: false },
        },
          h(RF.Background, { gap: 16 }),
          h(RF.Controls, { showInteractive: false }),
          settings.minimap ? h(RF.MiniMap, { pannable: true, zoomable: true }) : null,
          h(Cursors, { cursors: cursorsState[0] }))));
  }

  var root = window.ReactDOM.createRoot(mount);
  root.render(h(RF.ReactFlowProvider, null, h(Board)));
})();
