/* The app shell: collapse the sidebar to icons (remembered), close the phone drawer and
   the user menu, and the global search's type-ahead. Everything works without it. */
(function () {
  "use strict";
  var root = document.documentElement;
  var KEY = "shell.sidebar";

  var collapse = document.querySelector("[data-shell-collapse]");
  function showCollapsed() {
    if (collapse) collapse.setAttribute("aria-expanded", root.classList.contains("sidebar-collapsed") ? "false" : "true");
  }
  if (collapse) {
    showCollapsed();
    collapse.addEventListener("click", function () {
      root.classList.toggle("sidebar-collapsed");
      try { localStorage.setItem(KEY, root.classList.contains("sidebar-collapsed") ? "collapsed" : "open"); } catch (e) {}
      showCollapsed();
    });
  }

  var drawer = document.getElementById("nav-toggle");
  var menu = document.querySelector(".user-menu");
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (drawer && drawer.checked) drawer.checked = false;
    if (menu && menu.open) menu.open = false;
  });
  document.addEventListener("click", function (event) {
    if (menu && menu.open && !menu.contains(event.target)) menu.open = false;
  });

  // --- type-ahead ---------------------------------------------------------------------
  var form = document.querySelector("form.global-search");
  if (!form) return;
  var input = form.querySelector("input[type=search]");
  var list = form.querySelector(".search-suggest");
  var url = form.getAttribute("data-suggest");
  var timer = null, controller = null, active = -1, lastQuery = "";

  function close() {
    list.hidden = true;
    list.innerHTML = "";
    active = -1;
    input.setAttribute("aria-expanded", "false");
  }
  function links() { return list.querySelectorAll("a"); }
  function mark(index) {
    var all = links();
    active = Math.max(-1, Math.min(index, all.length - 1));
    for (var i = 0; i < all.length; i++) all[i].setAttribute("aria-selected", i === active ? "true" : "false");
  }
  function render(data) {
    list.innerHTML = "";
    if (!data.results.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.style.padding = ".4rem .5rem";
      none.textContent = data.empty_text;
      list.appendChild(none);
    }
    data.results.forEach(function (hit) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      var a = document.createElement("a");
      a.href = hit.url;
      var text = document.createElement("span");
      var title = document.createElement("span");
      title.className = "title";
      title.textContent = hit.title;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = hit.kind_label;
      text.appendChild(title);
      text.appendChild(kind);
      a.appendChild(text);
      li.appendChild(a);
      list.appendChild(li);
    });
    var more = document.createElement("li");
    more.className = "more";
    var all = document.createElement("a");
    all.href = data.search_url;
    all.textContent = data.all_text;
    more.appendChild(all);
    list.appendChild(more);
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
  }
  function suggest() {
    var q = input.value.trim();
    if (q.length < 2) { close(); return; }
    if (q === lastQuery && !list.hidden) return;
    lastQuery = q;
    if (controller) controller.abort();
    controller = typeof AbortController === "function" ? new AbortController() : null;
    fetch(url + "?q=" + encodeURIComponent(q), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && input.value.trim() === q) render(data); })
      .catch(function () {});
  }
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(suggest, 160);
  });
  input.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown") { mark(active + 1); event.preventDefault(); }
    else if (event.key === "ArrowUp") { mark(active - 1); event.preventDefault(); }
    else if (event.key === "Enter" && active >= 0) { links()[active].click(); event.preventDefault(); }
    else if (event.key === "Escape") { close(); }
  });
  document.addEventListener("click", function (event) { if (!form.contains(event.target)) close(); });
})();
