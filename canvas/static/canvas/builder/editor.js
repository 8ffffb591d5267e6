/* The web builder's visual editor: GrapesJS 0.23 (vendor/grapes.min.js, BSD-3).
 *
 * Storage: the remote storage manager loads and autosaves the page through the
 * API (GET/PUT /api/v1/campaigns/<id>/page/, CSRF header, session cookie): the
 * editable project JSON plus the published HTML/CSS snapshot. The server
 * sanitises both; the page's CSP allows no inline script, and GrapesJS's parser
 * drops scripts and unsafe attributes, so a hostile component cannot run here.
 * Live generation: an EventSource on the generation's SSE frames adds each
 * component as it arrives.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("builder-config").textContent);
  // Labels of the editor's own blocks and devices ({% js_strings "builder-strings" %}).
  var stringsNode = document.getElementById("builder-strings");
  var strings = stringsNode ? JSON.parse(stringsNode.textContent) : {};
  function t(key, fallback) { return strings[key] || fallback; }
  var csrf = document.querySelector("#be-csrf input[name=csrfmiddlewaretoken]").value;
  var statusEl = document.querySelector("[data-testid=editor-status]");
  var genEl = document.querySelector("[data-testid=generation-status]");
  var initial = null;

  function say(el, text) { el.textContent = text; }
  function fmt(text, error) { return text.replace("%(error)s", error); }

  var editor = grapesjs.init({
    container: "#gjs",
    height: "100%",
    width: "auto",
    fromElement: false,
    parser: { optionsHtml: { allowScripts: false, allowUnsafeAttr: false, allowUnsafeAttrValue: false } },
    canvas: { scripts: [], styles: [] },
    storageManager: {
      type: "remote",
      autosave: !config.readOnly,
      autoload: true,
      stepsBeforeSave: 1,
      options: {
        remote: {
          urlLoad: config.pageUrl,
          urlStore: config.pageUrl,
          headers: { "X-CSRFToken": csrf },
          credentials: "include",
          contentTypeJson: true,
          fetchOptions: function (opts) { return opts.method === "POST" ? { method: "PUT" } : {}; },
          onStore: function (data, ed) {
            say(statusEl, config.text.saving);
            return { project: data, html: ed.getHtml(), css: ed.getCss() || "" };
          },
          onLoad: function (result) {
            if (result && result.project) { return result.project; }
            initial = result || {};
            return {};
          },
        },
      },
    },
    deviceManager: {
      devices: [
        { id: "desktop", name: t("desktop", "Desktop"), width: "" },
        { id: "phone", name: t("phone", "Phone"), width: "375px", widthMedia: "480px" },
      ],
    },
    blockManager: { appendTo: "#be-blocks", blocks: [
      { id: "section", label: t("section", "Section"), content: '<section class="be-section"><h2>Heading</h2><p>Text</p></section>' },
      { id: "text", label: t("text", "Text"), content: "<p>Write something that converts.</p>" },
      { id: "image", label: t("image", "Image"), content: { type: "image" } },
      { id: "button", label: t("button", "Button"), content: '<a class="be-button" href="#signup" data-track="cta">Call to action</a>' },
      { id: "form", label: t("signup_form", "Sign-up form"), content: '<form data-track="signup" data-track-conversion="lead"><label>Email <input type="email" name="email" required></label><button type="submit">Sign up</button></form>' },
    ] },
    styleManager: { appendTo: "#be-styles" },
    panels: { defaults: [] },
  });

  editor.on("storage:end:store", function () { say(statusEl, config.text.saved); });
  editor.on("storage:error", function (err) { say(statusEl, fmt(config.text.failed, String(err && err.message || err))); });

  editor.on("load", function () {
    if (initial && (initial.html || initial.css)) {
      editor.setComponents(initial.html || "");
      if (initial.css) { editor.setStyle(initial.css); }
    }
    loadComponentBlocks();
    if (config.eventsUrl) { follow(config.eventsUrl); }
  });

  function loadComponentBlocks() {
    fetch(config.componentsUrl, { credentials: "include", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) {
        (data.results || data || []).forEach(function (c) {
          editor.Blocks.add("cmp-" + c.id, { label: c.name + " v" + c.version, category: t("campaign", "Campaign"),
            content: wrap(c.id, c.component_type, c.code) });
        });
      });
  }

  function wrap(id, type, html) {
    return '<div data-component-id="' + id + '" class="cmp cmp-' + type + '">' + html + "</div>";
  }

  function present(id) {
    return editor.getWrapper().find('[data-component-id="' + id + '"]').length > 0;
  }

  function follow(url) {
    say(genEl, config.text.generating);
    var source = new EventSource(url, { withCredentials: true });
    source.addEventListener("component", function (e) {
      var c = JSON.parse(e.data);
      if (c.parent_id && present(c.parent_id)) {
        editor.getWrapper().find('[data-component-id="' + c.parent_id + '"]').forEach(function (old) { old.replaceWith(wrap(c.id, c.component_type, c.html)); });
      } else if (!present(c.id)) {
        editor.addComponents(wrap(c.id, c.component_type, c.html));
      }
      if (c.css) { editor.Css.addRules(c.css); }
    });
    source.addEventListener("removed", function (e) {
      var c = JSON.parse(e.data);
      editor.getWrapper().find('[data-component-id="' + c.id + '"]').forEach(function (x) { x.remove(); });
    });
    source.addEventListener("done", function () { say(genEl, config.text.done); source.close(); });
    source.addEventListener("error", function (e) {
      if (e.data) { say(genEl, fmt(config.text.genError, JSON.parse(e.data).message)); }
      source.close();
    });
  }

  document.querySelectorAll("[data-device]").forEach(function (b) {
    b.addEventListener("click", function () { editor.setDevice(b.getAttribute("data-device")); });
  });
  document.querySelectorAll("[data-cmd]").forEach(function (b) {
    b.addEventListener("click", function () {
      var um = editor.UndoManager;
      if (b.getAttribute("data-cmd") === "undo") { um.undo(); } else { um.redo(); }
    });
  });
  window.builderEditor = editor; // for the browser test and the console
})();
