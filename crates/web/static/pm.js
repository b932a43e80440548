// Peering Manager for Rust: the little interactivity the pages need.
// Plain JavaScript, no framework; every page works without it except the
// search-as-you-type pickers, which fall back to plain selects.
(function () {
  "use strict";

  // Uncaught errors are kept where the end-to-end tests can see them.
  window.__pmErrors = [];
  window.addEventListener("error", function (e) { window.__pmErrors.push(String(e.message)); });
  // Anything our Content-Security-Policy blocks is a bug in our pages.
  document.addEventListener("securitypolicyviolation", function (e) {
    window.__pmErrors.push("CSP blocked " + e.violatedDirective + ": " + (e.blockedURI || "inline"));
  });

  function csrf() {
    var el = document.querySelector("input[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  // A job page keeps itself up to date while the job is unfinished: it reads
  // the job's API representation every second (same session cookie).
  var JOB_COLOURS = { completed: "success", running: "warning", errored: "danger", failed: "danger", pending: "primary" };
  function jobTime(s) { return s ? s.replace("T", " ").replace(/\.\d+/, "").replace(/Z$|[+-]00:00$/, "") : "—"; }
  function levelColour(l) { return { success: "success", info: "info", warning: "warning", failure: "danger" }[l] || "secondary"; }
  function pollJob(root) {
    var url = root.dataset.jobPoll;
    function text(id, v) { var el = document.getElementById(id); if (el) el.textContent = v; }
    function apply(j) {
      var status = j.status ? j.status.value : "";
      var badge = document.getElementById("job-status");
      if (badge) { badge.textContent = j.status.label; badge.className = "badge " + (JOB_COLOURS[status] || "secondary"); }
      text("job-created", jobTime(j.created));
      text("job-started", jobTime(j.started));
      text("job-completed", jobTime(j.completed));
      text("job-output", j.output || "");
      var data = j.data || {};
      var p = data.progress, bar = document.getElementById("job-progress");
      if (p && bar) {
        bar.hidden = false;
        bar.querySelector(".bar").style.width = (p.total ? Math.round(100 * p.done / p.total) : 0) + "%";
        bar.querySelector(".label").textContent = p.done + " / " + p.total;
      }
      var body = document.getElementById("job-log");
      var lines = data.main && data.main.log ? data.main.log : [];
      if (body && lines.length) {
        body.textContent = "";
        lines.forEach(function (l) {
          var tr = document.createElement("tr");
          var t = document.createElement("td"); t.className = "nowrap small"; t.textContent = jobTime(l[0]);
          var b = document.createElement("span"); b.className = "badge " + levelColour(l[1]); b.textContent = l[1];
          var lv = document.createElement("td"); lv.appendChild(b);
          var m = document.createElement("td"); m.textContent = l[4];
          tr.appendChild(t); tr.appendChild(lv); tr.appendChild(m);
          body.appendChild(tr);
        });
      }
      if (status !== "pending" && status !== "scheduled") {
        var c = document.querySelector("[data-job-cancel]");
        if (c) c.remove();
      }
      return status === "pending" || status === "scheduled" || status === "running";
    }
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (!j) return;
          if (apply(j)) setTimeout(tick, 1000);
          else window.location.reload(); // finished: the page now offers Re-run
        })
        .catch(function () { setTimeout(tick, 3000); });
    }
    setTimeout(tick, 1000);
  }

  // Template editor: line numbers, and a preview rendered by the server
  // (POST /api/render/preview/, nothing saved) shortly after each edit or
  // when the preview target changes; an error marks its line.
  function templateEditor(root) {
    var text = document.getElementById("tpl-text");
    var gutter = document.getElementById("tpl-gutter");
    var target = document.getElementById("tpl-target");
    var subject = document.getElementById("tpl-subject");
    var out = document.getElementById("tpl-preview");
    var subjectOut = document.getElementById("tpl-subject-preview");
    var error = document.getElementById("tpl-error");
    var vars = document.getElementById("tpl-vars");
    var timer = null, seq = 0;
    function numbers(errLine) {
      var n = text.value.split("\n").length;
      gutter.textContent = "";
      for (var i = 1; i <= n; i++) {
        var s = document.createElement("span");
        if (i === errLine) s.className = "err";
        s.textContent = String(i);
        gutter.appendChild(s);
        gutter.appendChild(document.createTextNode("\n"));
      }
      gutter.scrollTop = text.scrollTop;
    }
    function showVariables(list) {
      if (!list || !list.length) return;
      vars.textContent = "";
      list.forEach(function (v) {
        var dt = document.createElement("dt"), code = document.createElement("code"), kind = document.createElement("span");
        code.textContent = v.name;
        kind.className = "muted small";
        kind.textContent = " " + v.kind;
        dt.appendChild(code); dt.appendChild(kind);
        var dd = document.createElement("dd");
        dd.className = "small";
        dd.textContent = (v.fields || []).join(", ");
        vars.appendChild(dt); vars.appendChild(dd);
      });
    }
    function render() {
      var mine = ++seq;
      var body = {
        kind: root.dataset.kind, name: root.dataset.name, template: text.value,
        jinja2_trim: root.dataset.trim === "true", jinja2_lstrip: root.dataset.lstrip === "true"
      };
      if (subject) body.subject = subject.value;
      if (target) body[target.name] = parseInt(target.value, 10);
      if (root.dataset.contentType) body.content_type = root.dataset.contentType;
      fetch("/api/render/preview/", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
        body: JSON.stringify(body)
      }).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
        .then(function (res) {
          if (mine !== seq) return; // a newer edit is on its way
          showVariables(res.j.variables);
          out.classList.toggle("stale", !res.ok); // the last good preview stays, dimmed
          if (res.ok) {
            error.hidden = true;
            out.textContent = res.j.rendered;
            if (subjectOut) subjectOut.textContent = res.j.subject || "";
            numbers(null);
          } else if (res.j.template !== undefined) {
            error.hidden = false;
            error.textContent = "In " + res.j.template + (res.j.line ? ", line " + res.j.line : "") + ": " + res.j.message;
            numbers(res.j.line || null);
          } else {
            error.hidden = false;
            error.textContent = res.j.detail || JSON.stringify(res.j);
          }
        })
        .catch(function (e) { error.hidden = false; error.textContent = String(e); });
    }
    function later() { clearTimeout(timer); timer = setTimeout(render, 350); }
    text.addEventListener("input", function () { numbers(null); later(); });
    text.addEventListener("scroll", function () { gutter.scrollTop = text.scrollTop; });
    if (subject) subject.addEventListener("input", later);
    if (target) target.addEventListener("change", function () {
      var u = new URL(window.location.href);
      u.searchParams.set(target.name, target.value);
      window.history.replaceState(null, "", u.toString());
      document.getElementById("tpl-form").action = u.pathname + u.search;
      render();
    });
    // Tab inserts two spaces instead of leaving the editor.
    text.addEventListener("keydown", function (e) {
      if (e.key !== "Tab" || e.shiftKey) return;
      e.preventDefault();
      var a = text.selectionStart, b = text.selectionEnd;
      text.value = text.value.slice(0, a) + "  " + text.value.slice(b);
      text.selectionStart = text.selectionEnd = a + 2;
      later();
    });
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
      // Narrowed by another field's value (the connections of the chosen router).
      var by = select.dataset.narrowBy && document.getElementById(select.dataset.narrowBy);
      if (by && by.value) q += "&" + select.dataset.narrowParam + "=" + encodeURIComponent(by.value);
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

    // Up to 1,500 px the filter panel sits above the table (pm.css): fold it unless filters are on.
    document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) {
      if (window.innerWidth <= 1500 && !d.hasAttribute("data-active")) d.open = false;
    });
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
    // Error pages: "Back" returns to the previous page when there is one.
    document.querySelectorAll("[data-history-back]").forEach(function (a) {
      a.addEventListener("click", function (e) {
        if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
      });
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
    var editor = document.querySelector("[data-editor]");
    if (editor) templateEditor(editor);
    var job = document.querySelector("[data-job-poll]");
    if (job) pollJob(job);
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
