(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var mode = data.mode;
  var position = 0;
  var graph = document.getElementById("graph");
  var drawings = [
    {svg: document.getElementById("graph-wide"), prefix: ""},
    {svg: document.getElementById("graph-tall"), prefix: "tb-"}
  ];
  var active = drawings[0];
  var zoom = {scale: 1, cx: 0, cy: 0};  // scale 1: the whole graph fits
  function byId(key) { return document.getElementById(key); }
  function steps() { return data.modes[mode]; }

  // ----- the drawings: each box's value and gradient lines, found once ---------------------
  drawings.forEach(function (drawing) {
    var box = drawing.svg.getAttribute("viewBox").split(/[\s,]+/).map(Number);
    drawing.box = {x: box[0], y: box[1], width: box[2], height: box[3]};
    drawing.lines = {};
    Array.prototype.forEach.call(drawing.svg.querySelectorAll("g.node"), function (node) {
      var texts = node.getElementsByTagName("text");
      var found = {value: null, grad: null};
      Array.prototype.forEach.call(texts, function (text) {
        if (/^value /.test(text.textContent)) { found.value = text; }
        if (/^grad /.test(text.textContent)) { found.grad = text; }
      });
      drawing.lines[node.id.slice(drawing.prefix.length)] = found;
    });
  });
  function node(drawing, key) { return key ? byId(drawing.prefix + key) : null; }

  function fitScale(drawing) {
    var width = graph.clientWidth, height = graph.clientHeight;
    return Math.min(width / drawing.box.width, height / drawing.box.height);
  }
  function chooseDrawing() {  // the drawing (left to right, top to bottom) that fits the window larger
    var best = fitScale(drawings[0]) >= fitScale(drawings[1]) ? drawings[0] : drawings[1];
    drawings.forEach(function (drawing) { drawing.svg.classList.toggle("hidden", drawing !== best); });
    if (best !== active) { active = best; zoom.scale = 1; }
    if (zoom.scale === 1 && fitScale(active) < 0.35) {  // too small to read: zoom in and follow the steps
      zoom.scale = 0.8 / fitScale(active);
    }
  }
  function applyZoom() {
    var box = active.box;
    if (zoom.scale <= 1) {
      zoom.scale = 1;
      active.svg.setAttribute("viewBox", [box.x, box.y, box.width, box.height].join(" "));
      return;
    }
    var width = box.width / zoom.scale, height = box.height / zoom.scale;
    var x = Math.min(Math.max(zoom.cx - width / 2, box.x), box.x + box.width - width);
    var y = Math.min(Math.max(zoom.cy - height / 2, box.y), box.y + box.height - height);
    zoom.cx = x + width / 2; zoom.cy = y + height / 2;
    active.svg.setAttribute("viewBox", [x, y, width, height].join(" "));
  }
  function toDrawing(clientX, clientY) {
    var point = active.svg.createSVGPoint();
    point.x = clientX; point.y = clientY;
    return point.matrixTransform(active.svg.getScreenCTM().inverse());
  }
  function follow(key) {  // when zoomed in, bring the step's op to the middle
    var element = node(active, key);
    if (zoom.scale <= 1 || !element) { return; }
    var rect = element.getBoundingClientRect();
    var centre = toDrawing(rect.left + rect.width / 2, rect.top + rect.height / 2);
    zoom.cx = centre.x; zoom.cy = centre.y;
    applyZoom();
  }
  function zoomBy(factor, clientX, clientY) {
    var box = active.box;
    if (zoom.scale <= 1) { zoom.cx = box.x + box.width / 2; zoom.cy = box.y + box.height / 2; }
    var anchor = clientX === undefined ? {x: zoom.cx, y: zoom.cy} : toDrawing(clientX, clientY);
    var next = Math.max(1, Math.min(zoom.scale * factor, 40));
    zoom.cx = anchor.x + (zoom.cx - anchor.x) * zoom.scale / next;
    zoom.cy = anchor.y + (zoom.cy - anchor.y) * zoom.scale / next;
    zoom.scale = next;
    applyZoom();
  }

  // ----- one step -----------------------------------------------------------------------
  function stateAt(index) {
    var list = steps(), start = index;
    while (start > 0 && !list[start].base) { start -= 1; }
    var state = {};
    var base = list[start].base || {};
    Object.keys(base).forEach(function (key) { state[key] = base[key].slice(); });
    for (var i = start; i <= index; i++) {
      var changes = list[i].set;
      Object.keys(changes).forEach(function (key) {
        var line = state[key] || [null, null];
        if (changes[key][0] !== null) { line[0] = changes[key][0]; }
        if (changes[key][1] !== null) { line[1] = changes[key][1]; }
        state[key] = line;
      });
    }
    return {state: state, start: start};
  }
  function setLine(text, content) {
    if (!text || content === null || content === undefined) { return; }
    text.textContent = content;
    text.classList.toggle("unknown", / \?$/.test(content));
  }
  function drawState(index) {
    var list = steps(), step = list[index], found = stateAt(index);
    var received = {}, done = {};
    step.received.forEach(function (key) { received[key] = true; });
    for (var i = found.start; i < index; i++) { if (list[i].node) { done[list[i].node] = true; } }
    drawings.forEach(function (drawing) {
      Object.keys(found.state).forEach(function (key) {
        var lines = drawing.lines[key];
        if (!lines) { return; }
        setLine(lines.value, found.state[key][0]);
        setLine(lines.grad, found.state[key][1]);
        node(drawing, key).classList.toggle("received", received[key] === true);
      });
      Array.prototype.forEach.call(drawing.svg.querySelectorAll("g.node"), function (element) {
        var key = element.id.slice(drawing.prefix.length);
        if (key.charAt(0) !== "n") { return; }
        element.classList.toggle("current", key === step.node);
        element.classList.toggle("done", done[key] === true && key !== step.node);
      });
    });
  }
  function drawGrids(grids) {
    var holder = byId("grids");
    holder.textContent = "";
    grids.forEach(function (grid) {
      var figure = document.createElement("figure");
      var caption = document.createElement("figcaption");
      caption.textContent = grid.caption;
      var table = document.createElement("table");
      table.className = "grid";
      grid.text.forEach(function (row, i) {
        var tr = document.createElement("tr");
        row.forEach(function (text, j) {
          var td = document.createElement("td");
          var scale = grid.scale[i][j];
          var where = grid.vector ? "[" + j + "]" : "[" + i + ", " + j + "]";
          td.title = grid.caption + " " + where + " = " + text;
          td.setAttribute("data-value", text);
          if (scale === null) { td.style.background = "#fff59d"; }
          else if (scale >= 0) { td.style.background = "rgba(229, 57, 53, " + (0.08 + 0.85 * scale).toFixed(3) + ")"; }
          else { td.style.background = "rgba(30, 136, 229, " + (0.08 - 0.85 * scale).toFixed(3) + ")"; }
          tr.appendChild(td);
        });
        table.appendChild(tr);
      });
      figure.appendChild(caption);
      figure.appendChild(table);
      holder.appendChild(figure);
    });
  }
  function anchor() { return (mode === "reverse" ? "" : mode + "-") + "step-" + (position + 1); }
  function show(index) {
    var list = steps();
    position = Math.max(0, Math.min(list.length - 1, index));
    var step = list[position];
    drawState(position);
    follow(step.node);
    byId("phase").textContent = step.phase;
    byId("step-text").textContent = step.text;
    drawGrids(step.grids);
    byId("counter").textContent = "Step " + (position + 1) + " of " + list.length;
    var slider = byId("slider");
    slider.max = String(list.length);
    slider.value = String(position + 1);
    var outside = step.node && !node(active, step.node);
    var notes = [];
    if (outside) { notes.push("(this op is outside the drawn part of the graph)"); }
    if (mode !== "reverse" && data.forward_note) { notes.push(data.forward_note); }
    byId("note").textContent = notes.join(" ");
    byId("previous").disabled = position === 0;
    byId("first").disabled = position === 0;
    byId("next").disabled = position === list.length - 1;
    byId("permalink").href = "#" + anchor();
    try { history.replaceState(null, "", "#" + anchor()); } catch (error) { /* a sandboxed frame has no history */ }
  }
  function setMode(next, index) {
    if (!data.modes[next]) { return; }
    mode = next;
    Array.prototype.forEach.call(document.querySelectorAll("#modes input"), function (input) {
      input.checked = input.value === mode;
    });
    show(index);
  }
  function fromHash() {
    var match = /^#(?:(forward|both|reverse)-)?step-(\d+)$/.exec(location.hash);
    if (!match) { return false; }
    setMode(match[1] || "reverse", parseInt(match[2], 10) - 1);
    return true;
  }

  // ----- controls -------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll("#modes input"), function (input) {
    input.disabled = !data.modes[input.value];
    input.addEventListener("change", function () { setMode(input.value, 0); });
  });
  byId("first").addEventListener("click", function () { show(0); });
  byId("previous").addEventListener("click", function () { show(position - 1); });
  byId("next").addEventListener("click", function () { show(position + 1); });
  byId("slider").addEventListener("input", function () { show(parseInt(byId("slider").value, 10) - 1); });
  byId("zoom-in").addEventListener("click", function () { zoomBy(1.5); });
  byId("zoom-out").addEventListener("click", function () { zoomBy(1 / 1.5); });
  byId("zoom-fit").addEventListener("click", function () { zoom.scale = 1; applyZoom(); });
  window.addEventListener("hashchange", fromHash);
  window.addEventListener("resize", function () { chooseDrawing(); applyZoom(); follow(steps()[position].node); });
  document.addEventListener("keydown", function (event) {
    if (event.target && event.target.tagName === "INPUT" && event.target.type === "range") { return; }
    var keys = {ArrowRight: 1, ArrowDown: 1, PageDown: 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1};
    if (keys[event.key]) { show(position + keys[event.key]); event.preventDefault(); return; }
    if (event.key === "Home") { show(0); event.preventDefault(); }
    if (event.key === "End") { show(steps().length - 1); event.preventDefault(); }
    if (event.key === "+" || event.key === "=") { zoomBy(1.5); }
    if (event.key === "-") { zoomBy(1 / 1.5); }
    if (event.key === "0") { zoom.scale = 1; applyZoom(); }
  });
  graph.addEventListener("wheel", function (event) {
    zoomBy(event.deltaY < 0 ? 1.2 : 1 / 1.2, event.clientX, event.clientY);
    event.preventDefault();
  }, {passive: false});
  var drag = null;
  graph.addEventListener("pointerdown", function (event) {
    if (zoom.scale <= 1) { return; }
    drag = {x: event.clientX, y: event.clientY, cx: zoom.cx, cy: zoom.cy, perPixel: 1 / active.svg.getScreenCTM().a};
    graph.classList.add("dragging");
  });
  window.addEventListener("pointermove", function (event) {
    if (!drag) { return; }
    zoom.cx = drag.cx - (event.clientX - drag.x) * drag.perPixel;
    zoom.cy = drag.cy - (event.clientY - drag.y) * drag.perPixel;
    applyZoom();
  });
  window.addEventListener("pointerup", function () { drag = null; graph.classList.remove("dragging"); });

  chooseDrawing();
  applyZoom();
  if (!fromHash()) { setMode(mode, 0); }
})();
