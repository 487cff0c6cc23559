// symgraph explorer: pan and zoom, scopes that open and close on click, search, a panel
// with the selected node's facts, and the forward / gradient / optimised views of one graph.
// The project's own code (MIT, as symgraph); no network, no libraries. All text from the
// graph is set with textContent, never parsed as HTML.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("sg-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var AUTO_OPEN = 60;        // scopes open by themselves while the view stays this small
  var ROW = 74, GAP = 18, BOX_H = 34;
  var FILL = {input: "#cfe3f7", parameter: "#f6c98e", constant: "#f2f2f2",
              operation: "#ffffff", gradient: "#e8a0a0", output: "#a9d79a", group: "#d9d2e9"};
  var svg = document.getElementById("canvas");
  var world = el("g", {id: "world"}, svg);
  var panel = document.getElementById("panel");
  var state = {view: -1, selected: -1, scale: 1, tx: 0, ty: 0, matches: [], match: -1,
               query: ""};
  var views = DATA.views.map(function (v) { return {data: v, prep: null, open: null}; });

  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function div(tag, text, cls, parent) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  // --- per-view tables, built the first time a view is shown ---------------------------
  function prepare(v) {
    if (v.prep) { return v.prep; }
    var nodes = v.data.nodes, groups = v.data.groups;
    var kids = groups.map(function () { return []; });
    var order = [0], i, g;
    for (g = 1; g < groups.length; g++) { kids[groups[g].p].push(g); }
    for (i = 0; i < order.length; i++) {          // breadth first: parents before children
      Array.prototype.push.apply(order, kids[order[i]]);
    }
    var count = groups.map(function () { return 0; });
    var grads = groups.map(function () { return 0; });
    for (i = 0; i < nodes.length; i++) {
      for (g = nodes[i].g; g >= 0; g = groups[g].p) {
        count[g] += 1;
        if (nodes[i].gr) { grads[g] += 1; }
      }
    }
    var byUid = new Map();
    nodes.forEach(function (n, k) { byUid.set(n.u, k); });
    var pre = new Int32Array(groups.length), stack = [0], next = 0;
    while (stack.length) {                        // preorder: a scope's subtree is a range
      g = stack.pop();
      pre[g] = next++;
      for (i = kids[g].length - 1; i >= 0; i--) { stack.push(kids[g][i]); }
    }
    v.prep = {kids: kids, order: order, count: count, byUid: byUid, pre: pre,
              gradGroup: grads.map(function (k, q) { return 2 * k > count[q]; })};
    v.open = new Set([0]);
    autoOpen(v);
    return v.prep;
  }

  function autoOpen(v) {
    // Open scopes breadth first while the drawing stays small: a small graph shows whole,
    // a 100,000-node graph opens at its top level.
    var p = v.prep, shown = p.kids[0].length + directNodes(v, 0);
    var queue = p.kids[0].slice();
    while (queue.length) {
      var g = queue.shift();
      var more = p.kids[g].length + directNodes(v, g) - 1;
      if (shown + more > AUTO_OPEN) { continue; }
      v.open.add(g);
      shown += more;
      Array.prototype.push.apply(queue, p.kids[g]);
    }
  }

  function directNodes(v, g) {
    if (!v.direct) {
      v.direct = v.data.groups.map(function () { return 0; });
      v.data.nodes.forEach(function (n) { v.direct[n.g] += 1; });
    }
    return v.direct[g];
  }

  // --- what is drawn: nodes of open scopes, boxes for closed ones ------------------------
  function visibleItems(v) {
    var nodes = v.data.nodes, groups = v.data.groups, p = v.prep, N = nodes.length;
    var shownAs = new Int32Array(groups.length);  // -1: open all the way up; else the box
    shownAs[0] = -1;
    for (var k = 1; k < p.order.length; k++) {
      var g = p.order[k], up = shownAs[groups[g].p];
      shownAs[g] = up !== -1 ? up : (v.open.has(g) ? -1 : g);
    }
    var itemOf = new Int32Array(N), items = [], seen = new Map();
    for (var i = 0; i < N; i++) {
      var box = shownAs[nodes[i].g];
      var key = box === -1 ? i : N + box;
      itemOf[i] = key;
      if (!seen.has(key)) { seen.set(key, items.length); items.push(key); }
    }
    var edges = new Map();
    for (i = 0; i < N; i++) {
      var b = seen.get(itemOf[i]), ins = nodes[i].i;
      for (var j = 0; j < ins.length; j++) {
        var a = seen.get(itemOf[ins[j]]);
        if (a !== b) { edges.set(a * 1048576 + b, [a, b]); }
      }
    }
    return {items: items, edges: Array.from(edges.values()), N: N};
  }

  // --- a layered layout: longest-path ranks, sources just above their readers, one
  //     barycentre sweep down and one up to untangle each rank ----------------------------
  function layout(v, vis) {
    var n = vis.items.length, rank = new Int32Array(n), ins = [], outs = [], i, e;
    // Gradient nodes are drawn under the forward graph, as the Graphviz gradient view
    // does: reading a forward value does not pull a gradient node up among them.
    var grad = new Uint8Array(n), lastForward = 0;
    for (i = 0; i < n; i++) {
      var key = vis.items[i];
      grad[i] = key < vis.N ? (v.data.nodes[key].gr ? 1 : 0) : (v.prep.gradGroup[key - vis.N] ? 1 : 0);
      ins.push([]); outs.push([]);
    }
    var topo = topoOrder(n, vis.edges), ord = new Int32Array(n);
    topo.forEach(function (it, k) { ord[it] = k; });
    vis.edges.forEach(function (ed) {   // edges against the order close a cycle: not ranked
      if (ord[ed[0]] < ord[ed[1]]) { ins[ed[1]].push(ed[0]); outs[ed[0]].push(ed[1]); }
    });
    topo.forEach(function (i) {
      var fed = false;
      for (e = 0; e < ins[i].length; e++) {
        var u = ins[i][e];
        if (grad[i] && !grad[u]) { continue; }
        fed = true;
        rank[i] = Math.max(rank[i], rank[u] + 1);
      }
      if (!grad[i]) { lastForward = Math.max(lastForward, rank[i]); }
    });
    topo.forEach(function (i) {                       // again, now that the forward is done
      if (!grad[i]) { return; }
      var r = lastForward + 1;
      for (e = 0; e < ins[i].length; e++) {
        if (grad[ins[i][e]]) { r = Math.max(r, rank[ins[i][e]] + 1); }
      }
      rank[i] = r;
    });
    for (i = 0; i < n; i++) {
      if (!ins[i].length && outs[i].length && !grad[i]) {
        var lo = Infinity;
        for (e = 0; e < outs[i].length; e++) { lo = Math.min(lo, rank[outs[i][e]]); }
        rank[i] = Math.max(0, lo - 1);
      }
    }
    var rows = [];
    for (i = 0; i < n; i++) { (rows[rank[i]] = rows[rank[i]] || []).push(i); }
    rows = rows.filter(function (r) { return r; });
    var rowOf = new Int32Array(n), slot = new Float64Array(n);
    rows.forEach(function (r, k) { r.forEach(function (it, s) { rowOf[it] = k; slot[it] = s; }); });
    // Boxes of one scope stay side by side in every rank (the scope's preorder number
    // first), so the frames of sibling scopes do not interleave.
    var home = new Int32Array(n);
    for (i = 0; i < n; i++) {
      var k0 = vis.items[i];
      home[i] = v.prep.pre[k0 < vis.N ? v.data.nodes[k0].g : v.data.groups[k0 - vis.N].p];
    }
    function sweep(list, neighbours) {
      list.forEach(function (r) {
        var key = new Map();
        r.forEach(function (it) {
          var nb = neighbours[it], sum = 0;
          for (var q = 0; q < nb.length; q++) { sum += slot[nb[q]]; }
          key.set(it, nb.length ? sum / nb.length : slot[it]);
        });
        r.sort(function (a, b) { return home[a] - home[b] || key.get(a) - key.get(b) || a - b; });
        r.forEach(function (it, s) { slot[it] = s; });
      });
    }
    sweep(rows.slice(1), ins);
    sweep(rows.slice(0, -1).reverse(), outs);
    var pos = [], width = new Float64Array(n);
    for (i = 0; i < n; i++) { width[i] = boxWidth(v, vis.items[i], vis.N); }
    // Each box goes under the mean of the boxes it reads (in rank order, pushed right
    // where it would overlap), then the rank is shifted to sit best under them: so a
    // chain stays straight and a scope's boxes stay under one another.
    rows.forEach(function (r, k) {
      var want = r.map(function (it) {
        var sum = 0, cnt = 0;
        for (var q = 0; q < ins[it].length; q++) {
          var p = pos[ins[it][q]];
          if (p) { sum += p.x; cnt += 1; }
        }
        return cnt ? sum / cnt : NaN;
      });
      var xs = [], right = -Infinity, total = 0, moved = 0, known = 0;
      r.forEach(function (it, q) {
        var lo = right + GAP + width[it] / 2;
        var x = isNaN(want[q]) ? (isFinite(right) ? lo : width[it] / 2) : Math.max(want[q], lo);
        xs.push(x);
        right = x + width[it] / 2;
        total += width[it] + GAP;
        if (!isNaN(want[q])) { moved += x - want[q]; known += 1; }
      });
      var shift = known ? -moved / known : -(xs[0] - width[r[0]] / 2 + total / 2);
      r.forEach(function (it, q) {
        pos[it] = {x: xs[q] + shift, y: k * ROW, w: width[it], ord: ord[it]};
      });
    });
    return pos;
  }

  function topoOrder(n, edges) {
    // Kahn's algorithm over the drawn boxes; two closed scopes may read each other (a
    // cycle between boxes), so when none is free the earliest waiting box goes next.
    var indeg = new Int32Array(n), out = [], i;
    for (i = 0; i < n; i++) { out.push([]); }
    edges.forEach(function (ed) { indeg[ed[1]] += 1; out[ed[0]].push(ed[1]); });
    var done = new Uint8Array(n), queue = [], head = 0, order = [], scan = 0;
    for (i = 0; i < n; i++) { if (!indeg[i]) { queue.push(i); } }
    while (order.length < n) {
      if (head === queue.length) {
        while (done[scan]) { scan += 1; }
        queue.push(scan);
      }
      var it = queue[head++];
      if (done[it]) { continue; }
      done[it] = 1;
      order.push(it);
      for (var k = 0; k < out[it].length; k++) {
        var w = out[it][k];
        indeg[w] -= 1;
        if (indeg[w] === 0 && !done[w]) { queue.push(w); }
      }
    }
    return order;
  }

  function itemText(v, key, N) {
    if (key < N) {
      var nd = v.data.nodes[key];
      return [nd.l, nd.t];
    }
    var g = key - N, grp = v.data.groups[g];
    return ["+ " + (grp.l || "(top)"), v.prep.count[g] + " nodes"];
  }

  function boxWidth(v, key, N) {
    var t = itemText(v, key, N);
    return Math.min(320, Math.max(t[0].length, t[1].length) * 6.6 + 22);
  }

  // --- drawing -----------------------------------------------------------------------------
  function render(focusKey) {
    var v = views[state.view];
    prepare(v);
    var vis = visibleItems(v), pos = layout(v, vis), N = vis.N;
    v.vis = vis; v.pos = pos;
    while (world.firstChild) { world.removeChild(world.firstChild); }
    drawFrames(v, vis, pos);
    var edgeLayer = el("g", {"class": "edges"}, world);
    vis.edges.forEach(function (ed) {
      var a = pos[ed[0]], b = pos[ed[1]];
      var y1 = a.y + BOX_H / 2, y2 = b.y - BOX_H / 2, mid = (y1 + y2) / 2;
      el("path", {d: "M" + a.x + "," + y1 + " C" + a.x + "," + mid + " " + b.x + "," + mid +
                  " " + b.x + "," + y2, "class": a.ord < b.ord ? "edge" : "edge back"},
         edgeLayer);
    });
    var boxLayer = el("g", {"class": "boxes"}, world);
    vis.items.forEach(function (key, k) {
      var p = pos[k], isNode = key < N, t = itemText(v, key, N);
      var kind = isNode ? v.data.nodes[key].k : "group";
      var g = el("g", {"class": "item " + (isNode ? "node" : "group") + (isNode &&
                 v.data.nodes[key].u === state.selected ? " selected" : ""),
                 transform: "translate(" + p.x + "," + p.y + ")"}, boxLayer);
      g.setAttribute(isNode ? "data-uid" : "data-group", isNode ? v.data.nodes[key].u : key - N);
      el("rect", {x: -p.w / 2, y: -BOX_H / 2, width: p.w, height: BOX_H,
                  rx: kind === "operation" || kind === "gradient" ? 14 : 4,
                  fill: FILL[kind] || "#ffffff", "class": "box " + kind}, g);
      var a = el("text", {y: -3, "class": "label"}, g);
      a.textContent = clip(t[0]);
      var b = el("text", {y: 11, "class": "type"}, g);
      b.textContent = clip(t[1]);
      var tip = el("title", {}, g);
      tip.textContent = isNode ? t[0] + "\n" + t[1] : t[0].slice(2) + ": " + t[1] + " (click to open)";
      g.addEventListener("click", function (ev) {
        ev.stopPropagation();
        if (isNode) { select(v.data.nodes[key].u, false); } else { toggle(key - N, true); }
      });
    });
    document.getElementById("status").textContent = vis.items.length + " boxes, " +
      vis.edges.length + " edges of " + N + " nodes";
    if (focusKey !== undefined) { centreOn(focusKey); }
  }

  function clip(s) { return s.length > 48 ? s.slice(0, 47) + "\u2026" : s; }

  function drawFrames(v, vis, pos) {
    // A frame around the boxes of each open scope; its tab closes the scope.
    var groups = v.data.groups, N = vis.N, box = new Map();
    vis.items.forEach(function (key, k) {
      var g = key < N ? v.data.nodes[key].g : groups[key - N].p;
      for (; g > 0; g = groups[g].p) {
        var p = pos[k], b = box.get(g);
        if (!b) { b = {x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity}; box.set(g, b); }
        b.x0 = Math.min(b.x0, p.x - p.w / 2); b.x1 = Math.max(b.x1, p.x + p.w / 2);
        b.y0 = Math.min(b.y0, p.y - BOX_H / 2); b.y1 = Math.max(b.y1, p.y + BOX_H / 2);
      }
    });
    // An outer frame is padded by one tab's height for each open scope inside it, so the
    // tabs of nested scopes never overlap.
    var below = new Map();
    box.forEach(function (b, g) {
      var d = 1;
      for (var q = groups[g].p; q > 0; q = groups[q].p, d++) {
        below.set(q, Math.max(below.get(q) || 0, d));
      }
    });
    var layer = el("g", {"class": "frames"}, world);
    box.forEach(function (b, g) {
      var pad = 6 + 16 * (below.get(g) || 0);
      el("rect", {x: b.x0 - pad, y: b.y0 - pad - 14, width: b.x1 - b.x0 + 2 * pad,
                  height: b.y1 - b.y0 + 2 * pad + 14, rx: 8, "class": "frame"}, layer);
      var tab = el("text", {x: b.x0 - pad + 6, y: b.y0 - pad - 2, "class": "tab",
                            "data-close": g}, layer);
      tab.textContent = "\u2212 " + (groups[g].l || "scope");
      tab.addEventListener("click", function (ev) { ev.stopPropagation(); toggle(g, false); });
    });
  }

  // --- actions -------------------------------------------------------------------------------
  function toggle(g, open) {
    var v = views[state.view];
    if (open) { v.open.add(g); } else { v.open.delete(g); }
    render();
    var N = v.data.nodes.length;
    centreOn(open ? firstNodeKey(v, g) : N + g);
  }

  function firstNodeKey(v, g) {
    var nodes = v.data.nodes, groups = v.data.groups;
    for (var i = 0; i < nodes.length; i++) {
      for (var q = nodes[i].g; q >= 0; q = groups[q].p) { if (q === g) { return i; } }
    }
    return 0;
  }

  function centreOn(key) {
    var v = views[state.view], k = v.vis.items.indexOf(key);
    if (k < 0) {            // a node inside a closed scope: centre on the scope's box
      var nd = v.data.nodes[key];
      if (!nd) { return; }
      for (var g = nd.g; g > 0 && k < 0; g = v.data.groups[g].p) {
        k = v.vis.items.indexOf(v.data.nodes.length + g);
      }
      if (k < 0) { return; }
    }
    var p = v.pos[k], r = svg.getBoundingClientRect();
    state.tx = r.width / 2 - p.x * state.scale;
    state.ty = r.height / 2 - p.y * state.scale;
    apply();
  }

  function fit() {
    var v = views[state.view], r = svg.getBoundingClientRect();
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    v.pos.forEach(function (p) {
      x0 = Math.min(x0, p.x - p.w / 2); x1 = Math.max(x1, p.x + p.w / 2);
      y0 = Math.min(y0, p.y - BOX_H); y1 = Math.max(y1, p.y + BOX_H);
    });
    if (!isFinite(x0)) { return; }
    // Fit the whole drawing, but never so small that labels cannot be read: a long
    // chain is shown from its top, to be scrolled (dragged) down.
    state.scale = Math.min(1.2, Math.max(0.45, Math.min(r.width / (x1 - x0 + 40),
                                                        r.height / (y1 - y0 + 40))));
    state.tx = r.width / 2 - (x0 + x1) / 2 * state.scale;
    var h = (y1 - y0) * state.scale;
    state.ty = h + 40 <= r.height ? r.height / 2 - (y0 + y1) / 2 * state.scale
                                  : 30 - y0 * state.scale;
    apply();
  }

  function apply() {
    world.setAttribute("transform", "translate(" + state.tx + "," + state.ty + ") scale(" +
                       state.scale + ")");
  }

  function revealAndSelect(v, index) {
    var groups = v.data.groups;
    for (var g = v.data.nodes[index].g; g > 0; g = groups[g].p) { v.open.add(g); }
    state.selected = v.data.nodes[index].u;
    state.scale = Math.max(state.scale, 1);       // a found node is shown at a readable size
    render(index);
    showPanel(v, index);
  }

  function select(uid, reveal) {
    var v = views[state.view], index = v.prep.byUid.get(uid);
    if (index === undefined) { return; }
    if (reveal) { revealAndSelect(v, index); return; }
    state.selected = uid;
    var old = world.querySelector(".item.selected");
    if (old) { old.classList.remove("selected"); }
    var now = world.querySelector('.item[data-uid="' + uid + '"]');
    if (now) { now.classList.add("selected"); }
    showPanel(v, index);
  }

  function gotoView(title, uid) {
    for (var k = 0; k < views.length; k++) {
      if (views[k].data.title === title) {
        showView(k);
        select(uid, true);
        return;
      }
    }
  }

  function linkTo(parent, text, onClick) {
    var a = div("a", text, "jump", parent);
    a.href = "#";
    a.addEventListener("click", function (ev) { ev.preventDefault(); onClick(); });
    return a;
  }

  function showPanel(v, index) {
    var nd = v.data.nodes[index];
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    div("h2", nd.l, "", panel);
    var table = div("dl", null, "", panel);
    function row(term, value) {
      if (value === undefined || value === null || value === "") { return null; }
      div("dt", term, "", table);
      return div("dd", value, "", table);
    }
    row("op", nd.o + (nd.a ? " (" + nd.a + ")" : ""));
    row("name", nd.n);
    row("type", nd.t);
    row("kind", nd.gr ? "gradient node" : nd.k);
    row("scope", nd.s);
    row("defined at", nd.w || "(not recorded)").className = "where";
    if (nd.f) {
      var dd = row("after optimisation", nd.f);
      if (nd.fu !== undefined && hasView("optimized") && nd.f.indexOf("dead") !== 0) {
        div("span", " ", "", dd);
        linkTo(dd, "show", function () { gotoView("optimized", nd.fu); });
      }
    }
    if (nd.r && nd.r.length && hasView("gradient")) {
      var gd = row("gradient nodes", nd.r.length + ": ");
      nd.r.slice(0, 12).forEach(function (uid) {
        linkTo(gd, labelOf("gradient", uid), function () { gotoView("gradient", uid); });
        div("span", " ", "", gd);
      });
    }
    if (nd.i.length) {
      var id = row("inputs", "");
      nd.i.slice(0, 12).forEach(function (j) {
        linkTo(id, v.data.nodes[j].l, function () { select(v.data.nodes[j].u, true); });
        div("span", " ", "", id);
      });
    }
  }

  function hasView(title) { return views.some(function (v) { return v.data.title === title; }); }

  function labelOf(title, uid) {
    for (var k = 0; k < views.length; k++) {
      if (views[k].data.title === title) {
        var p = prepare(views[k]), i = p.byUid.get(uid);
        return i === undefined ? "#" + uid : views[k].data.nodes[i].l;
      }
    }
    return "#" + uid;
  }

  function search(query) {
    var v = views[state.view], q = query.trim().toLowerCase();
    var out = document.getElementById("found");
    if (!q) { out.textContent = ""; return; }
    if (q !== state.query || state.view !== state.searchView) {
      state.query = q; state.searchView = state.view; state.match = -1;
      state.matches = [];
      v.data.nodes.forEach(function (nd, i) {
        if (nd.l.toLowerCase().indexOf(q) >= 0 || nd.o.toLowerCase() === q ||
            (nd.n && nd.n.toLowerCase().indexOf(q) >= 0) ||
            (nd.s && nd.s.toLowerCase().indexOf(q) >= 0)) { state.matches.push(i); }
      });
    }
    if (!state.matches.length) { out.textContent = "no match"; return; }
    state.match = (state.match + 1) % state.matches.length;
    out.textContent = (state.match + 1) + " of " + state.matches.length;
    revealAndSelect(v, state.matches[state.match]);
  }

  function showView(k) {
    state.view = k;
    document.querySelectorAll("#views button").forEach(function (b, i) {
      b.classList.toggle("on", i === k);
    });
    render();
    fit();
    var v = views[k], i = v.prep.byUid.get(state.selected);
    if (i !== undefined) { showPanel(v, i); }
  }

  // --- wiring --------------------------------------------------------------------------------
  var bar = document.getElementById("views");
  views.forEach(function (v, k) {
    var b = div("button", v.data.title, "", bar);
    b.type = "button";
    b.addEventListener("click", function () { showView(k); });
  });
  document.getElementById("fit").addEventListener("click", fit);
  var box = document.getElementById("search");
  box.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { search(box.value); } });
  document.getElementById("go").addEventListener("click", function () { search(box.value); });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = svg.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
    var f = Math.exp(-ev.deltaY * 0.0015), s = Math.min(4, Math.max(0.02, state.scale * f));
    state.tx = mx - (mx - state.tx) * s / state.scale;
    state.ty = my - (my - state.ty) * s / state.scale;
    state.scale = s;
    apply();
  }, {passive: false});
  var drag = null;
  svg.addEventListener("mousedown", function (ev) { drag = {x: ev.clientX, y: ev.clientY, tx: state.tx, ty: state.ty}; });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) { return; }
    state.tx = drag.tx + ev.clientX - drag.x; state.ty = drag.ty + ev.clientY - drag.y;
    apply();
  });
  window.addEventListener("mouseup", function () { drag = null; });
  document.getElementById("title").textContent = DATA.title;
  document.title = DATA.title;
  showView(0);
  window.symgraphExplorer = {
    firstPaintMs: performance.now(), search: search, showView: showView, views: views.length,
    centreOnGroup: function (g) { centreOn(views[state.view].data.nodes.length + g); }};
})();
