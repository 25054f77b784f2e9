/* privacy_guard docs site: interaction over the server-rendered page.
 * A classic script (no modules, no fetch) so the page works opened from file://. A small site's
 * graph (window.PRIVACY_GUARD: node names and edges by node index) is already drawn as SVG; a large
 * site draws one model's neighbourhood from the `graph` data chunk. Data chunks (findings rows,
 * meeting points, cards) are inline in a small site and loaded by <script> tags from data/ in a
 * large one. This adds tabs, pan/zoom, search, selection with the policy card, focus on
 * upstream/downstream, the overview drill-down and the findings filters and pages. */
(function () {
  "use strict";
  var data = window.PRIVACY_GUARD || { nodes: [], edges: [] };
  var svg = document.getElementById("lineage") || document.getElementById("neighbourhood");
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
  var full = { x: 0, y: 0, w: +svg.getAttribute("data-width") || 1, h: +svg.getAttribute("data-height") || 1 };
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
  if (!data.large) document.getElementById("focus-mode").addEventListener("change", applyFocus);

  if (!data.large) document.getElementById("show-nonpersonal").addEventListener("change", function (evt) {
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
    if (data.large) { if (index !== null) openLarge(index); return; }
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
  document.getElementById("print").addEventListener("click", function () { window.print(); });
  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape" && !data.large) { select(null); document.getElementById("focus-mode").value = "all"; applyFocus(); }
  });

  /* ---- search ---- */
  var search = document.getElementById("search");
  var searchable = data.large ? data.names.map(function (name, i) { return { i: i, name: name }; }) : data.nodes;
  function matches(query) {
    var q = query.trim().toLowerCase();
    if (!q) return [];
    return searchable.filter(function (n) { return n.name.toLowerCase().indexOf(q) !== -1; });
  }
  search.addEventListener("input", function () {
    var found = matches(search.value);
    if (data.large) {
      document.getElementById("search-count").textContent = search.value.trim() ? found.length + " match" + (found.length === 1 ? "" : "es") : "";
      var same = found.filter(function (n) { return n.name.toLowerCase() === search.value.trim().toLowerCase(); });
      if (same.length) select(same[0].i, true);
      return;
    }
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

  /* ---- lazy data: chunks come inline (small site) or from data/<name>.js through a <script> tag ---- */
  var waiting = {};
  window.PG_ARRIVED = function (name) {
    (waiting[name] || []).forEach(function (done) { done(); });
    delete waiting[name];
  };
  function need(names, done) {
    var missing = names.filter(function (name) { return !(name in window.PG_DATA); });
    if (!missing.length) { done(); return; }
    var left = missing.length;
    missing.forEach(function (name) {
      var first = !waiting[name];
      (waiting[name] = waiting[name] || []).push(function () { left -= 1; if (!left) done(); });
      if (!first) return;
      var tag = document.createElement("script");
      tag.src = "data/" + name + ".js";
      tag.onerror = function () { console.error("privacy-guard: missing data/" + name + ".js"); };
      document.body.appendChild(tag);
    });
  }
  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    if (text instanceof Node) td.appendChild(text); else td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function modelLink(index, name) {
    if (index < 0) return document.createTextNode(name);
    var a = document.createElement("a");
    a.href = "#"; a.className = "goto"; a.setAttribute("data-index", index); a.textContent = name;
    return a;
  }

  /* ---- findings: counts are server-rendered; rows are filtered and paged here ---- */
  var PAGE = 100, page = 0, filtered = [];
  var findingsBody = document.querySelector("#findings-table tbody");
  function value(id) { return document.getElementById(id).value; }
  function filterFindings() {
    if (!findingsBody) return;
    var rule = value("filter-category");
    var chunks = data.rules.map(function (r, i) { return r === rule || !rule ? "findings-" + i : null; }).filter(Boolean);
    need(chunks, function () {
      var severity = value("filter-severity"), department = value("filter-department"), agreement = value("filter-agreement");
      var waiver = value("filter-waiver"), text = value("filter-text").trim().toLowerCase();
      var all = [];
      chunks.forEach(function (name) { all = all.concat(window.PG_DATA[name]); });
      filtered = all.filter(function (f) {
        return (!severity || f[0] === severity) && (!department || f[7].indexOf(department) !== -1) &&
          (!agreement || f[8] === agreement) && (!waiver || (waiver === "waived") === f[9]) &&
          (!text || (f[3] + " " + f[4] + " " + f[5] + " " + f[6]).toLowerCase().indexOf(text) !== -1);
      });
      var total = data.rules.length ? data.rules.reduce(function (n, r, i) { return n + ((window.PG_DATA["findings-" + i] || []).length); }, 0) : 0;
      document.getElementById("findings-count").textContent = "Showing " + filtered.length + " of " + (rule ? filtered.length + " in " + rule : total);
      page = Math.min(page, Math.max(0, Math.ceil(filtered.length / PAGE) - 1));
      drawFindings();
    });
  }
  function drawFindings() {
    findingsBody.textContent = "";
    filtered.slice(page * PAGE, (page + 1) * PAGE).forEach(function (f) {
      var row = document.createElement("tr");
      row.setAttribute("data-category", f[1]);
      row.setAttribute("data-severity", f[0]);
      var sev = document.createElement("span");
      sev.className = "sev " + f[0]; sev.textContent = f[0];
      cell(row, sev);
      cell(row, f[1], "ident");
      cell(row, modelLink(f[2], f[3]), "ident");
      cell(row, f[6], "ident path");
      cell(row, f[4] + (f[9] ? " (waived)" : ""));
      cell(row, f[5]);
      findingsBody.appendChild(row);
    });
    var pages = Math.max(1, Math.ceil(filtered.length / PAGE));
    document.getElementById("findings-page").textContent = "page " + (page + 1) + " of " + pages;
    document.getElementById("findings-prev").disabled = page === 0;
    document.getElementById("findings-next").disabled = page + 1 >= pages;
  }
  if (findingsBody) {
    ["filter-category", "filter-severity", "filter-department", "filter-agreement", "filter-waiver", "filter-text"].forEach(function (id) {
      document.getElementById(id).addEventListener("input", function () { page = 0; filterFindings(); });
    });
    document.getElementById("findings-prev").addEventListener("click", function () { page -= 1; drawFindings(); });
    document.getElementById("findings-next").addEventListener("click", function () { page += 1; drawFindings(); });
  }
  document.querySelectorAll("a.pick-rule, a.pick-department").forEach(function (a) {
    a.addEventListener("click", function (evt) {
      evt.preventDefault();
      if (a.classList.contains("pick-rule")) document.getElementById("filter-category").value = a.getAttribute("data-rule");
      else document.getElementById("filter-department").value = a.getAttribute("data-department");
      page = 0;
      filterFindings();
    });
  });
  var findingsLoaded = false;
  document.querySelector('.tabs button[data-tab="findings"]').addEventListener("click", function () {
    if (!findingsLoaded) { findingsLoaded = true; filterFindings(); }
  });
  if (!data.large) { findingsLoaded = true; filterFindings(); }

  /* ---- overview: a meeting point lists its models (paged) ---- */
  var pointShown = 0, pointRows = [];
  function showPoint(index) {
    need(["meet-" + index], function () {
      pointRows = window.PG_DATA["meet-" + index];
      pointShown = 0;
      document.querySelector("#point-models tbody").textContent = "";
      document.getElementById("point-title").textContent = data.points[index].split("+").join(" + ") + ": " + pointRows.length + " node" + (pointRows.length === 1 ? "" : "s");
      document.getElementById("point-detail").hidden = false;
      document.querySelectorAll(".point-row, .combo").forEach(function (el) { el.classList.toggle("selected", +el.getAttribute("data-point") === index); });
      morePoint();
      document.getElementById("point-detail").scrollIntoView({ block: "nearest" });
    });
  }
  function morePoint() {
    var body = document.querySelector("#point-models tbody");
    pointRows.slice(pointShown, pointShown + PAGE).forEach(function (m) {
      var row = document.createElement("tr");
      cell(row, modelLink(m[0], m[1]), "ident");
      cell(row, m[2]); cell(row, m[3] || "—"); cell(row, m[4] || "—"); cell(row, String(m[5])); cell(row, m[6]);
      body.appendChild(row);
    });
    pointShown = Math.min(pointRows.length, pointShown + PAGE);
    document.getElementById("point-more").hidden = pointShown >= pointRows.length;
  }
  document.getElementById("point-more") && document.getElementById("point-more").addEventListener("click", morePoint);
  document.querySelectorAll("[data-point]").forEach(function (el) {
    var open = function () { showPoint(+el.getAttribute("data-point")); };
    el.addEventListener("click", open);
    el.addEventListener("keydown", function (evt) { if (evt.key === "Enter") open(); });
  });

  /* ---- large site: one model's neighbourhood (bounded depth) and its card from a data chunk ---- */
  var depth = 2, MAX_PER_COLUMN = 25, focusIndex = null;
  function openLarge(index) {
    focusIndex = index;
    showTab("lineage");
    var chunk = "cards-" + Math.floor(index / data.cards_per_chunk);
    need(["graph", chunk], function () {
      var cards = document.getElementById("cards");
      cards.innerHTML = window.PG_DATA[chunk][index];
      cards.querySelector("article.card").hidden = false;
      cards.scrollTop = 0;
      drawNeighbourhood();
      history.replaceState(null, "", "#" + encodeURIComponent(data.names[index]));
    });
  }
  function drawNeighbourhood() {
    var graph = window.PG_DATA.graph;
    if (!graph.children) {
      graph.children = graph.parents.map(function () { return []; });
      graph.parents.forEach(function (ps, child) { ps.forEach(function (p) { graph.children[p].push(child); }); });
    }
    var columns = {}, distance = {}, hidden = 0, truncated = false;
    columns[0] = [focusIndex]; distance[focusIndex] = 0;
    [[-1, graph.parents], [1, graph.children]].forEach(function (side) {
      var frontier = [focusIndex];
      for (var d = 1; d <= depth && frontier.length; d++) {
        var next = [];
        frontier.forEach(function (n) { side[1][n].forEach(function (m) { if (!(m in distance)) { distance[m] = side[0] * d; next.push(m); } }); });
        if (next.length > MAX_PER_COLUMN) { hidden += next.length - MAX_PER_COLUMN; next = next.slice(0, MAX_PER_COLUMN); }
        columns[side[0] * d] = next;
        frontier = next;
        if (d === depth && next.some(function (n) { return side[1][n].length; })) truncated = true;
      }
    });
    // Order each column by where its links sit in the column nearer the focus (fewer crossings).
    [[-1, graph.children], [1, graph.parents]].forEach(function (side) {
      for (var d = 1; columns[side[0] * d]; d++) {
        var nearer = {};
        columns[side[0] * (d - 1)].forEach(function (n, row) { nearer[n] = row; });
        var rank = function (n) {
          var rows = side[1][n].filter(function (m) { return m in nearer; }).map(function (m) { return nearer[m]; });
          return rows.length ? rows.reduce(function (a, b) { return a + b; }, 0) / rows.length : 0;
        };
        columns[side[0] * d].sort(function (a, b) { return rank(a) - rank(b); });
      }
    });
    var keys = Object.keys(columns).map(Number).sort(function (a, b) { return a - b; });
    var W = 230, H = 46, place = {};
    var tallest = Math.max.apply(null, keys.map(function (k) { return columns[k].length; }));
    keys.forEach(function (k, c) {
      columns[k].forEach(function (n, r) { place[n] = { x: 20 + c * (W + 60), y: 20 + (tallest - columns[k].length) * H / 2 + r * H }; });
    });
    var hood = document.getElementById("neighbourhood");
    hood.textContent = "";
    function el(tag, attrs, parent) {
      var e = document.createElementNS(hood.namespaceURI, tag);
      Object.keys(attrs).forEach(function (a) { e.setAttribute(a, attrs[a]); });
      (parent || hood).appendChild(e);
      return e;
    }
    Object.keys(place).forEach(function (child) {
      graph.parents[child].forEach(function (p) {
        if (!(p in place)) return;
        var a = place[p], b = place[child];
        el("path", { "class": "edge plain", d: "M" + (a.x + W - 20) + "," + (a.y + 17) + " C" + (a.x + W + 20) + "," + (a.y + 17) + " " + (b.x - 40) + "," + (b.y + 17) + " " + b.x + "," + (b.y + 17) });
      });
    });
    var count = 0;
    Object.keys(place).forEach(function (key) {
      var n = +key, info = graph.nodes[n], at = place[n];
      var g = el("g", { "class": "node " + (info[2] ? "personal" : "nonpersonal") + (info[2] && !info[5] ? " combined" : "") + (n === focusIndex ? " selected" : "") + (info[4] ? " sev-" + info[4] : ""),
        transform: "translate(" + at.x + "," + at.y + ")", "data-index": n, "data-name": info[0], tabindex: "0" });
      el("title", {}, g).textContent = info[0] + (info[3] ? " — " + info[3] + " finding(s)" : "");
      el("rect", { "class": "box", width: W - 20, height: 34, rx: 5, style: "--dept: " + (info[5] || "#9aa5b1") }, g);
      el("text", { "class": "label", x: 8, y: 14 }, g).textContent = info[0].length > 27 ? info[0].slice(0, 26) + "…" : info[0];
      el("text", { "class": "sub", x: 8, y: 28 }, g).textContent = info[1].length > 33 ? info[1].slice(0, 32) + "…" : info[1];
      if (info[3]) { var badge = el("g", { "class": "badge", transform: "translate(" + (W - 22) + ",2)" }, g); el("circle", { r: 9 }, badge); el("text", { y: 3.5 }, badge).textContent = info[3]; }
      g.addEventListener("click", function () { if (!drag || !drag.moved) select(n, true); });
      count += 1;
    });
    var width = 40 + keys.length * (W + 60), height = 40 + tallest * H;
    full = { x: 0, y: 0, w: width, h: height };
    fit();
    hood.setAttribute("data-drawn", count);
    document.getElementById("hood-title").textContent = graph.nodes[focusIndex][0] + ": " + count + " nodes within " + depth + " steps" + (hidden ? " (" + hidden + " more not drawn)" : "");
    document.getElementById("hood-more").hidden = !truncated;
  }
  if (data.large) {
    document.getElementById("hood-more").addEventListener("click", function () { depth += 1; drawNeighbourhood(); });
  }

  /* ---- deep link: index.html#<model name> opens its card ---- */
  var wanted = decodeURIComponent(location.hash.replace(/^#/, ""));
  var initial = searchable.filter(function (n) { return n.name === wanted; });
  if (initial.length) select(initial[0].i, true);
})();
