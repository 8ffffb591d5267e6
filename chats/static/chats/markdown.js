// A small, safe Markdown renderer for chat answers (no dependencies, no CDN).
//
// Safety: the text is HTML-escaped first; only the tags this file writes reach
// the page, and a link keeps only http(s) and mailto addresses. It is re-run on
// the whole answer as tokens arrive, so it must accept half-written Markdown
// (an unclosed ``` fence is shown as code until it closes).
//
// Supported: ``` fences, `code`, # headings, **bold**, *italic* / _italic_,
// ~~strike~~, [links](https://…), - / * / 1. lists, > quotes, ---, tables are
// left as text, and [n] citation marks become superscripts.
(function (global) {
  "use strict";

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // Inline marks, on text that is already escaped.
  function inline(text) {
    var codes = [];
    text = text.replace(/`([^`\n]+)`/g, function (_, code) {
      codes.push(code);
      return "\u0000" + (codes.length - 1) + "\u0000";
    });
    text = text.replace(/\[([^\]\n]+)\]\(((?:https?:\/\/|mailto:)[^\s)]+)\)/g, function (_, label, url) {
      return '<a href="' + url + '" target="_blank" rel="noopener noreferrer nofollow">' + label + "</a>";
    });
    text = text.replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>")
      .replace(/__([^_\n]+)__/g, "<strong>$1</strong>")
      .replace(/(^|[^*\w])\*([^*\s][^*\n]*?)\*(?!\w)/g, "$1<em>$2</em>")
      .replace(/(^|[^_\w])_([^_\s][^_\n]*?)_(?!\w)/g, "$1<em>$2</em>")
      .replace(/~~([^~\n]+)~~/g, "<del>$1</del>")
      .replace(/\[(\d{1,2})\](?!\()/g, '<sup class="cite-mark">[$1]</sup>');
    return text.replace(/\u0000(\d+)\u0000/g, function (_, i) { return "<code>" + codes[+i] + "</code>"; });
  }

  function blocks(text) {
    var lines = text.split("\n");
    var out = [];
    var para = [];
    var list = null; // {tag, items}
    var quote = [];

    function flushPara() {
      if (para.length) out.push("<p>" + para.map(inline).join("<br>") + "</p>");
      para = [];
    }
    function flushList() {
      if (list) out.push("<" + list.tag + ">" + list.items.map(function (i) { return "<li>" + inline(i) + "</li>"; }).join("") + "</" + list.tag + ">");
      list = null;
    }
    function flushQuote() {
      if (quote.length) out.push("<blockquote>" + blocks(quote.join("\n")) + "</blockquote>");
      quote = [];
    }
    function flushAll() { flushPara(); flushList(); flushQuote(); }

    lines.forEach(function (line) {
      var m;
      if (/^\s*&gt;\s?/.test(line)) { flushPara(); flushList(); quote.push(line.replace(/^\s*&gt;\s?/, "")); return; }
      flushQuote();
      if (!line.trim()) { flushPara(); flushList(); return; }
      if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        flushAll();
        var level = Math.min(m[1].length + 2, 6); // inside a message: h3..h6
        out.push("<h" + level + ">" + inline(m[2]) + "</h" + level + ">");
        return;
      }
      if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { flushAll(); out.push("<hr>"); return; }
      if ((m = /^\s*[-*+]\s+(.*)$/.exec(line))) {
        flushPara();
        if (!list || list.tag !== "ul") { flushList(); list = { tag: "ul", items: [] }; }
        list.items.push(m[1]);
        return;
      }
      if ((m = /^\s*\d{1,3}[.)]\s+(.*)$/.exec(line))) {
        flushPara();
        if (!list || list.tag !== "ol") { flushList(); list = { tag: "ol", items: [] }; }
        list.items.push(m[1]);
        return;
      }
      if (list && /^\s{2,}\S/.test(line)) { list.items[list.items.length - 1] += " " + line.trim(); return; }
      flushList();
      para.push(line);
    });
    flushAll();
    return out.join("");
  }

  function render(source) {
    var text = escapeHtml(String(source || "").replace(/\r\n?/g, "\n"));
    var parts = text.split(/^```[^\n]*$/m);
    // Even parts are prose, odd parts are code (an unclosed fence runs to the end).
    return parts.map(function (part, i) {
      if (i % 2 === 1) return "<pre><code>" + part.replace(/^\n/, "").replace(/\n$/, "") + "</code></pre>";
      return blocks(part);
    }).join("");
  }

  global.ChatMarkdown = { render: render, escapeHtml: escapeHtml };
})(window);
