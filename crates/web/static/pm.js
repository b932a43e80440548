// Peering Manager for Rust: the little interactivity the pages need.
// Plain JavaScript, no framework; every page works without it except the
// search-as-you-type pickers, which fall back to plain selects.
(function () {
  "use strict";

  // Uncaught errors are kept where the end-to-end tests can see them.
  window.__pmErrors = [];
  window.addEventListener("error", function (e) { window.__pmErrors.push(String(e.message)); });

  function csrf() {
    var el = document.querySelector("input[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  // Pickers: a <select class="picker" data-api="/api/.../"> becomes a
  // search-as-you-type box; the select stays in the form and holds the value.
  function Picker(select) {
    var multiple = select.multiple;
    var api = select.dataset.api;
    var params = select.dataset.params || "";
    var valueField = select.dataset.valueField || "id";
    var box = document.createElement("div");
    box.className = "picker-box";
    var input = document.createElement("input");
    input.type = "text";
    input.className = "picker-input";
    input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-label", (select.labels && select.labels[0] ? select.labels[0].textContent : "Search"));
    input.id = select.id ? select.id + "_search" : "";
    var menu = document.createElement("div");
    menu.className = "picker-menu";
    menu.hidden = true;
    select.hidden = true;
    select.parentNode.insertBefore(box, select);
    box.appendChild(input);
    box.appendChild(menu);
    if (select.labels && select.labels[0]) select.labels[0].htmlFor = input.id;
    var timer = null, seq = 0, results = [], active = -1;

    function selected() {
      return Array.prototype.filter.call(select.options, function (o) { return o.selected && o.value !== ""; });
    }
    function renderChips() {
      Array.prototype.slice.call(box.querySelectorAll(".chip")).forEach(function (c) { c.remove(); });
      selected().forEach(function (o) {
        var chip = document.createElement("span");
        chip.className = "chip" + (multiple ? "" : " single");
        chip.textContent = o.textContent;
        var x = document.createElement("button");
        x.type = "button";
        x.textContent = "×";
        x.title = "Remove";
        x.addEventListener("click", function (e) {
          e.stopPropagation();
          o.selected = false;
          if (!multiple) select.value = "";
          renderChips();
          select.dispatchEvent(new Event("change", { bubbles: true }));
        });
        chip.appendChild(x);
        box.insertBefore(chip, input);
      });
      input.placeholder = selected().length ? "" : (multiple ? "Type to search…" : "Type to search…");
    }
    function choose(item) {
      var value = String(item[valueField]);
      var opt = Array.prototype.find.call(select.options, function (o) { return o.value === value; });
      if (!multiple) {
        Array.prototype.forEach.call(select.options, function (o) { o.selected = false; });
      }
      if (!opt) {
        opt = new Option(item.display || item.name || value, value, true, true);
        select.appendChild(opt);
      }
      opt.selected = true;
      input.value = "";
      close();
      renderChips();
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function close() { menu.hidden = true; active = -1; }
    function show() {
      menu.innerHTML = "";
      if (!results.length) {
        var none = document.createElement("div");
        none.className = "none";
        none.textContent = "No results";
        menu.appendChild(none);
      }
      results.forEach(function (item, i) {
        var d = document.createElement("div");
        d.textContent = item.display || item.name || item[valueField];
        d.className = i === active ? "active" : "";
        d.addEventListener("mousedown", function (e) { e.preventDefault(); choose(item); });
        menu.appendChild(d);
      });
      menu.hidden = false;
    }
    function search() {
      var mine = ++seq;
      var q = "?brief=1&limit=50&q=" + encodeURIComponent(input.value.trim()) + (params ? "&" + params : "");
      fetch(api + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          if (mine !== seq) return;
          var chosen = selected().map(function (o) { return o.value; });
          results = (data.results || []).filter(function (i) { return chosen.indexOf(String(i[valueField])) < 0; });
          active = results.length ? 0 : -1;
          show();
        })
        .catch(function () { results = []; show(); });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 150); });
    input.addEventListener("focus", function () { search(); });
    input.addEventListener("blur", function () { setTimeout(close, 120); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { active = Math.min(active + 1, results.length - 1); show(); e.preventDefault(); }
      else if (e.key === "ArrowUp") { active = Math.max(active - 1, 0); show(); e.preventDefault(); }
      else if (e.key === "Enter") { if (!menu.hidden && results[active]) { choose(results[active]); } e.preventDefault(); }
      else if (e.key === "Escape") { close(); }
      else if (e.key === "Backspace" && !input.value) {
        var s = selected();
        if (s.length) { s[s.length - 1].selected = false; if (!multiple) select.value = ""; renderChips(); }
      }
    });
    box.addEventListener("click", function () { input.focus(); });
    renderChips();
  }

  function tableSelection(form) {
    var all = form.querySelector("[data-select-all]");
    var bar = form.querySelector("[data-bulk-bar]");
    var matching = form.querySelector("[data-all-matching]");
    if (!all || !bar) return;
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=pk]"));
    function update() {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      bar.hidden = n === 0;
      all.checked = n > 0 && n === boxes.length;
      if (matching) {
        matching.hidden = !all.checked;
        if (!all.checked) matching.querySelector("input").checked = false;
      }
    }
    all.addEventListener("change", function () { boxes.forEach(function (b) { b.checked = all.checked; }); update(); });
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("select.picker"), function (s) { new Picker(s); });
    Array.prototype.forEach.call(document.querySelectorAll("#bulk-form"), tableSelection);

    // On narrow screens the filter panel sits above the table: fold it unless filters are on.
    document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) {
      if (window.innerWidth < 1100 && !d.hasAttribute("data-active")) d.open = false;
    });
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    document.querySelectorAll("[data-dismiss]").forEach(function (b) {
      b.addEventListener("click", function () { b.parentNode.remove(); });
    });
    document.querySelectorAll("[data-open]").forEach(function (b) {
      b.addEventListener("click", function () {
        var d = document.getElementById(b.dataset.open);
        if (d && d.showModal) d.showModal();
      });
    });
    document.querySelectorAll("dialog [data-close]").forEach(function (b) {
      b.addEventListener("click", function () { b.closest("dialog").close(); });
    });
    document.querySelectorAll("[data-move]").forEach(function (b) {
      b.addEventListener("click", function () {
        var li = b.closest("li");
        if (b.dataset.move === "up" && li.previousElementSibling) li.parentNode.insertBefore(li, li.previousElementSibling);
        if (b.dataset.move === "down" && li.nextElementSibling) li.parentNode.insertBefore(li.nextElementSibling, li);
      });
    });
    document.querySelectorAll("[data-toggle-sidebar]").forEach(function (b) {
      b.addEventListener("click", function () { document.body.classList.toggle("nav-open"); });
    });
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var text = document.getElementById(b.dataset.copy).textContent;
        if (navigator.clipboard) navigator.clipboard.writeText(text).then(function () { b.textContent = "Copied"; });
      });
    });
    document.querySelectorAll("input[type=color][data-color-for]").forEach(function (c) {
      var text = document.getElementById(c.dataset.colorFor);
      c.addEventListener("input", function () { text.value = c.value.replace("#", ""); });
      text.addEventListener("input", function () { if (/^[0-9a-fA-F]{6}$/.test(text.value)) c.value = "#" + text.value; });
    });
    document.querySelectorAll("input[type=file][data-load-into]").forEach(function (f) {
      f.addEventListener("change", function () {
        var file = f.files[0];
        if (!file) return;
        file.text().then(function (t) {
          document.getElementById(f.dataset.loadInto).value = t;
          var fmt = document.getElementById("id_format");
          var ext = file.name.split(".").pop().toLowerCase();
          if (fmt && ["csv", "json", "yaml", "yml"].indexOf(ext) >= 0) fmt.value = ext === "yml" ? "yaml" : ext;
        });
      });
    });
    // Slug follows the name on add forms until edited by hand.
    var name = document.querySelector(".edit-form #id_name"), slug = document.querySelector(".edit-form #id_slug");
    if (name && slug && !slug.value) {
      var touched = false;
      slug.addEventListener("input", function () { touched = true; });
      name.addEventListener("input", function () {
        if (!touched) slug.value = name.value.toLowerCase().trim().replace(/[^a-z0-9_]+/g, "-").replace(/^-+|-+$/g, "");
      });
    }
    // "/" focuses the global search.
    document.addEventListener("keydown", function (e) {
      var t = e.target.tagName;
      if (e.key === "/" && t !== "INPUT" && t !== "TEXTAREA" && t !== "SELECT") {
        var s = document.getElementById("global-search");
        if (s) { s.focus(); e.preventDefault(); }
      }
    });
    // PeeringDB divergence: "apply" PATCHes the AS through the API, then reloads.
    document.querySelectorAll("[data-apply]").forEach(function (b) {
      b.addEventListener("click", function () {
        b.disabled = true;
        fetch(b.dataset.api, {
          method: "PATCH", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
          body: b.dataset.apply
        }).then(function (r) {
          if (r.ok) { window.location.reload(); return; }
          return r.text().then(function (t) { b.disabled = false; b.title = t; b.classList.add("danger"); });
        });
      });
    });
    // AS add form: name, IRR AS-SET and max prefixes from the PeeringDB
    // cache once the ASN is typed (fields already filled are left alone).
    var asn = document.querySelector(".edit-form #id_asn");
    if (asn && window.location.pathname === "/autonomous-systems/add/") {
      asn.addEventListener("change", function () {
        var n = parseInt(asn.value, 10);
        if (!n) return;
        fetch("/api/peeringdb/networks/?asn=" + n, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (data) {
            var net = (data.results || [])[0];
            if (!net) return;
            [["id_name", net.name], ["id_irr_as_set", net.irr_as_set],
             ["id_ipv6_max_prefixes", net.info_prefixes6], ["id_ipv4_max_prefixes", net.info_prefixes4]].forEach(function (p) {
              var el = document.getElementById(p[0]);
              if (el && (el.value === "" || el.value === "0") && p[1] !== null && p[1] !== undefined) el.value = p[1];
            });
          })
          .catch(function () {});
      });
    }
    window.__pmReady = true;
  });
})();
