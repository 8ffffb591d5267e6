/*! aiplatform campaign tracker: no cookies, no identifiers, no dependencies.
 *
 * <script defer src="/static/canvas/tracker.js" data-campaign="<campaign id>" data-api="/t/e/"></script>
 *
 * Sends, as text/plain JSON with fetch keepalive (no CORS preflight; survives
 * leaving the page):
 *   - a page view on load, with the ids of the components on the page
 *     (elements with data-component-id);
 *   - a click on any element marked data-track="name" (properties from
 *     data-track-prop-<key>="value");
 *   - a form_submit for every form submitted (name from data-track, name or id),
 *     and, when the form has a filled email field, the lead (its fields but
 *     passwords, card numbers and hidden ones) to data-leads (default /t/f/);
 *   - a conversion for a click or submit on an element marked
 *     data-track-conversion="type" (value from data-track-value, currency from
 *     data-track-currency), or from the API:
 *       canvasTrack.conversion("purchase", {value: 49, currency: "EUR"})
 *       canvasTrack.event("video_play", {props: {length: "2m"}})
 * UTM source/medium/campaign/term/content and click ids (gclid, fbclid, msclkid,
 * ttclid, li_fat_id, twclid) of the landing URL are kept for the tab's session
 * (sessionStorage) and sent with every event.
 * Skipped: file: pages, and browsers driven by automation (navigator.webdriver,
 * Cypress, Phantom) unless the tag has data-allow-webdriver.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-campaign]");
  if (!script) return;
  var campaign = script.getAttribute("data-campaign");
  var api = script.getAttribute("data-api") || new URL("/t/e/", script.src).href;
  var leads = script.getAttribute("data-leads") || api.replace(/e\/?$/, "f/");
  var SECRET = /pass|card|cc[-_]?num|cvv|cvc|iban|ssn|secret|token|csrf/i;
  var allowAutomation = script.hasAttribute("data-allow-webdriver");
  var w = window, doc = document, loc = w.location;
  var CLICK_IDS = ["gclid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid"];
  var UTM = ["source", "medium", "campaign", "term", "content"];
  var MAX_PROPS = 30;

  function automated() {
    return !!(w.navigator.webdriver || w.Cypress || w._phantom || w.__nightmare);
  }
  var skip = !campaign || loc.protocol === "file:" || (automated() && !allowAutomation);

  function attribution() {
    var key = "cvtrack:" + campaign, kept = null;
    try { kept = JSON.parse(w.sessionStorage.getItem(key) || "null"); } catch (e) { kept = null; }
    var params = new URLSearchParams(loc.search), utm = {}, ck = {}, found = false;
    UTM.forEach(function (k) { var v = params.get("utm_" + k); if (v) { utm[k] = v.slice(0, 100); found = true; } });
    CLICK_IDS.forEach(function (k) { var v = params.get(k); if (v) { ck[k] = v.slice(0, 255); found = true; } });
    if (found) {
      kept = {utm: utm, ck: ck};
      try { w.sessionStorage.setItem(key, JSON.stringify(kept)); } catch (e) { /* private mode */ }
    }
    return kept || {utm: {}, ck: {}};
  }
  var attr = attribution();

  function post(url, body) {
    try {
      if (w.fetch) {
        w.fetch(url, {method: "POST", body: body, keepalive: true, credentials: "omit",
                      headers: {"Content-Type": "text/plain"}}).catch(function () {});
      } else if (w.navigator.sendBeacon) {
        w.navigator.sendBeacon(url, new Blob([body], {type: "text/plain"}));
      }
    } catch (e) { /* a tracker never breaks the page */ }
  }

  function send(payload) {
    if (skip) return;
    payload.c = campaign;
    payload.u = loc.href.slice(0, 2000);
    payload.r = (doc.referrer || "").slice(0, 2000);
    payload.w = w.innerWidth || undefined;
    payload.utm = attr.utm;
    payload.ck = attr.ck;
    post(api, JSON.stringify(payload));
  }

  // A form with a filled email field is a lead: its fields go to the account's
  // integrations (never password, card or hidden fields).
  function lead(form, name) {
    var fields = {}, email = false, n = 0;
    for (var i = 0; i < form.elements.length && n < MAX_PROPS; i++) {
      var el = form.elements[i], key = el.name || el.id, type = (el.type || "").toLowerCase();
      if (!key || !el.value || SECRET.test(key) || /^(password|hidden|file|submit|button)$/.test(type)) continue;
      if ((type === "checkbox" || type === "radio") && !el.checked) continue;
      fields[key.slice(0, 64)] = String(el.value).slice(0, 500); n++;
      if ((type === "email" || /e-?mail/i.test(key)) && el.value.indexOf("@") > 0) email = true;
    }
    if (email) post(leads, JSON.stringify({c: campaign, n: name, f: fields}));
  }

  function componentOf(el) {
    var host = el && el.closest ? el.closest("[data-component-id]") : null;
    return host ? host.getAttribute("data-component-id") : undefined;
  }

  function props(el) {
    var out = {}, n = 0;
    for (var i = 0; i < el.attributes.length && n < MAX_PROPS; i++) {
      var a = el.attributes[i];
      if (a.name.indexOf("data-track-prop-") === 0) { out[a.name.slice(16).slice(0, 120)] = a.value.slice(0, 500); n++; }
    }
    return n ? out : undefined;
  }

  function number(value) {
    if (value === undefined || value === null || value === "") return undefined;
    var v = typeof value === "number" ? value : parseFloat(String(value).replace(/[^0-9.\-]/g, ""));
    return isFinite(v) && v >= 0 ? Math.round(v * 100) / 100 : undefined;
  }

  function currency(value) {
    return /^[A-Za-z]{3}$/.test(value || "") ? String(value).toUpperCase() : undefined;
  }

  function conversionFrom(el) {
    if (!el.hasAttribute("data-track-conversion")) return;
    send({t: "conversion", n: (el.getAttribute("data-track-conversion") || "conversion").slice(0, 120),
          cp: componentOf(el), v: number(el.getAttribute("data-track-value")),
          cur: currency(el.getAttribute("data-track-currency")), p: props(el)});
  }

  function pageview() {
    var seen = {}, ids = [];
    doc.querySelectorAll("[data-component-id]").forEach(function (el) {
      var id = el.getAttribute("data-component-id");
      if (id && !seen[id] && ids.length < 100) { seen[id] = 1; ids.push(id); }
    });
    send({t: "view", cs: ids});
  }

  doc.addEventListener("click", function (ev) {
    var el = ev.target && ev.target.closest ? ev.target.closest("[data-track],[data-track-conversion]") : null;
    if (!el || el.tagName === "FORM") return; // forms count on submit
    if (el.hasAttribute("data-track")) {
      send({t: "click", n: (el.getAttribute("data-track") || "click").slice(0, 120), cp: componentOf(el), p: props(el)});
    }
    conversionFrom(el);
  }, true);

  doc.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form || form.tagName !== "FORM") return;
    var name = form.getAttribute("data-track") || form.getAttribute("name") || form.id || "form";
    send({t: "form_submit", n: name.slice(0, 120), cp: componentOf(form), p: props(form)});
    if (!skip) lead(form, name.slice(0, 50));
    conversionFrom(form);
  }, true);

  w.canvasTrack = {
    event: function (name, options) {
      options = options || {};
      send({t: "click", n: String(name || "event").slice(0, 120), cp: options.component, p: options.props});
    },
    conversion: function (type, options) {
      options = options || {};
      send({t: "conversion", n: String(type || "conversion").slice(0, 120), cp: options.component,
            v: number(options.value), cur: currency(options.currency), p: options.props});
    },
    pageview: pageview
  };

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", pageview);
  else pageview();
})();
