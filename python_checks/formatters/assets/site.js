/* privacy_guard docs site: interaction over the server-rendered page.
 * A classic script (no modules, no fetch) so the page works opened from file://. The graph
 * (window.PRIVACY_GUARD: node names and edges by node index) is already drawn as SVG; this adds
 * tabs, pan/zoom, search, selection with the policy card, focus on upstream/downstream, and the
 * findings filters. */
(function () {
  "use strict";
  var data = window.PRIVACY_GUARD || { nodes: [], edges: [] };
  var svg = document.getElementById("lineage");
  var nodeEls = {};
  var parents = {};
  var children = {};
  var selected = null;

  data.nodes.forEach(function (n) {
    nodeEls[n.i] = document.getElementById("node-" + n.i);
    parents[n.i] = [];
    children[n.i] = [];
  });
  data.edges.forEach(function (e) {
    parents[e[1]].push(e[0]);
    children[e[0]].push(e[1]);
  });
  var edgeEls = Array.prototype.slice.call(document.querySelectorAll("#lineage path.edge"));

  /* ---- tabs ---- */
  function showTab(name) {
    document.querySelectorAll(".tabs button").forEach(function (b) {
      b.classList.toggle("active", b.getAttribute("data-tab") === name);
    });
    document.querySelectorAll(".tab").forEach(function (t) {
      var active = t.id === "tab-" + name;
      t.classList.toggle("active", active);
      t.hidden = !active;
    });
  }
  document.querySelectorAll(".tabs button").forEach(function (b) {
    b.addEventListener("click", function () { showTab(b.getAttribute("data-tab")); });
  });

  /* ---- pan / zoom (the viewBox) ---- */
  var full = { x: 0, y: 0, w: +svg.getAttribute("data-width"), h: +svg.getAttribute("data-height") };
  var view = { x: full.x, y: full.y, w: full.w, h: full.h };
  function applyView() { svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" ")); }
  function fit() { view = { x: full.x, y: full.y, w: full.w, h: full.h }; applyView(); }
  function svgPoint(evt) {
    var r = svg.getBoundingClientRect();
    // preserveAspectRatio "xMidYMid meet": one scale for both axes, content centred.
    var scale = Math.max(view.w / r.width, view.h / r.height);
    var offsetX = (r.width * scale - view.w) / 2, offsetY = (r.height * scale - view.h) / 2;
    return { x: view.x - offsetX + (evt.clientX - r.left) * scale, y: view.y - offsetY + (evt.clientY - r.top) * scale, scale: scale };
  }
  svg.addEventListener("wheel", function (evt) {
    evt.preventDefault();
    var p = svgPoint(evt);
    var factor = evt.deltaY < 0 ? 0.85 : 1 / 0.85;
    var w = Math.min(Math.max(view.w * factor, 120), full.w * 4);
    factor = w / view.w;
    view = { x: p.x - (p.x - view.x) * factor, y: p.y - (p.y - view.y) * factor, w: view.w * factor, h: view.h * factor };
    applyView();
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (evt) {
    if (evt.button !== 0) return;
    drag = { x: evt.clientX, y: evt.clientY, view: { x: view.x, y: view.y, w: view.w, h: view.h }, moved: false };
  });
  window.addEventListener("mousemove", function (evt) {
    if (!drag) return;
    var dx = evt.clientX - drag.x, dy = evt.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; svg.classList.add("dragging"); }
    var r = svg.getBoundingClientRect();
    var scale = Math.max(drag.view.w / r.width, drag.view.h / r.height);
    view.x = drag.view.x - dx * scale;
    view.y = drag.view.y - dy * scale;
    applyView();
  });
  window.addEventListener("mouseup", function () {
    svg.classList.remove("dragging");
    setTimeout(function () { drag = null; }, 0);
  });
  document.getElementById("fit").addEventListener("click", fit);

  function centreOn(index) {
    if (full.w <= 1600 && full.h <= 1200) return;  // a small graph is readable whole: keep it in view
    var el = nodeEls[index];
    var box = el.getBBox();
    var m = el.transform.baseVal.consolidate().matrix;
    var w = Math.min(view.w, 1400), h = w * (view.h / view.w);
    view = { x: m.e + box.width / 2 - w / 2, y: m.f + box.height / 2 - h / 2, w: w, h: h };
    applyView();
  }

  /* ---- lineage focus ---- */
  function reach(start, links) {
    var seen = {}, stack = [start];
    seen[start] = true;
    while (stack.length) {
      links[stack.pop()].forEach(function (next) {
        if (!seen[next]) { seen[next] = true; stack.push(next); }
      });
    }
    return seen;
  }
  function applyFocus() {
    var mode = document.getElementById("focus-mode").value;
    var keep = null;
    if (selected !== null && mode !== "all") {
      var up = mode === "down" ? {} : reach(selected, parents);
      var down = mode === "up" ? {} : reach(selected, children);
      keep = {};
      keep[selected] = true;
      Object.keys(up).forEach(function (k) { keep[k] = true; });
      Object.keys(down).forEach(function (k) { keep[k] = true; });
    }
    data.nodes.forEach(function (n) { nodeEls[n.i].classList.toggle("dim", keep !== null && !keep[n.i]); });
    edgeEls.forEach(function (e) {
      var s = e.getAttribute("data-source"), t = e.getAttribute("data-target");
      e.classList.toggle("dim", keep !== null && !(keep[s] && keep[t]));
    });
  }
  document.getElementById("focus-mode").addEventListener("change", applyFocus);

  document.getElementById("show-nonpersonal").addEventListener("change", function (evt) {
    var hide = !evt.target.checked;
    var hidden = {};
    data.nodes.forEach(function (n) {
      var np = nodeEls[n.i].getAttribute("data-personal") === "0";
      nodeEls[n.i].classList.toggle("hidden-np", hide && np);
      if (hide && np) hidden[n.i] = true;
    });
    edgeEls.forEach(function (e) {
      e.classList.toggle("hidden-np", !!(hidden[e.getAttribute("data-source")] || hidden[e.getAttribute("data-target")]));
    });
  });

  /* ---- selection and cards ---- */
  function select(index, centre) {
    if (selected !== null) nodeEls[selected].classList.remove("selected");
    document.querySelectorAll("#cards .card").forEach(function (c) { c.hidden = true; });
    selected = index;
    var card = document.getElementById(index === null ? "card-none" : "card-" + index);
    card.hidden = false;
    document.getElementById("cards").scrollTop = 0;
    if (index !== null) {
      nodeEls[index].classList.add("selected");
      if (centre) centreOn(index);
      if (document.getElementById("focus-mode").value === "all") document.getElementById("focus-mode").value = "both";
      history.replaceState(null, "", "#" + encodeURIComponent(data.nodes[index].name));
    }
    applyFocus();
  }
  data.nodes.forEach(function (n) {
    var el = nodeEls[n.i];
    el.addEventListener("click", function () { if (!drag || !drag.moved) select(n.i, false); });
    el.addEventListener("keydown", function (evt) { if (evt.key === "Enter" || evt.key === " ") { evt.preventDefault(); select(n.i, false); } });
  });
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest ? evt.target.closest("a.goto") : null;
    if (!link) return;
    evt.preventDefault();
    showTab("lineage");
    select(+link.getAttribute("data-index"), true);
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape") { select(null); document.getElementById("focus-mode").value = "all"; applyFocus(); }
  });

  /* ---- search ---- */
  var search = document.getElementById("search");
  function matches(query) {
    var q = query.trim().toLowerCase();
    if (!q) return [];
    return data.nodes.filter(function (n) { return n.name.toLowerCase().indexOf(q) !== -1; });
  }
  search.addEventListener("input", function () {
    var found = matches(search.value);
    var hit = {};
    found.forEach(function (n) { hit[n.i] = true; });
    data.nodes.forEach(function (n) { nodeEls[n.i].classList.toggle("match", !!hit[n.i]); });
    document.getElementById("search-count").textContent = search.value.trim() ? found.length + " match" + (found.length === 1 ? "" : "es") : "";
    var exact = found.filter(function (n) { return n.name.toLowerCase() === search.value.trim().toLowerCase(); });
    if (exact.length) select(exact[0].i, true);
  });
  search.addEventListener("keydown", function (evt) {
    if (evt.key !== "Enter") return;
    var found = matches(search.value);
    if (found.length) select(found[0].i, true);
  });

  /* ---- findings filters ---- */
  var rows = Array.prototype.slice.call(document.querySelectorAll("#findings-table tbody tr"));
  function filterFindings() {
    var category = document.getElementById("filter-category").value;
    var severity = document.getElementById("filter-severity").value;
    var text = document.getElementById("filter-text").value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var ok = (!category || row.getAttribute("data-category") === category) &&
        (!severity || row.getAttribute("data-severity") === severity) &&
        (!text || row.textContent.toLowerCase().indexOf(text) !== -1);
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    document.getElementById("findings-count").textContent = "Showing " + shown + " of " + rows.length;
  }
  ["filter-category", "filter-severity", "filter-text"].forEach(function (id) {
    document.getElementById(id).addEventListener("input", filterFindings);
    document.getElementById(id).addEventListener("change", filterFindings);
  });
  filterFindings();

  /* ---- deep link: index.html#<model name> opens its card ---- */
  var wanted = decodeURIComponent(location.hash.replace(/^#/, ""));
  var initial = data.nodes.filter(function (n) { return n.name === wanted; });
  if (initial.length) select(initial[0].i, true);
})();
