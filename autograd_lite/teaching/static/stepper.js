(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var position = 0;
  function byId(key) { return document.getElementById(key); }
  function gradLine(key) {
    var node = byId(key);
    if (!node) { return null; }
    var texts = node.getElementsByTagName("text");
    return texts.length ? texts[texts.length - 1] : null;
  }
  function show(index) {
    position = Math.max(0, Math.min(data.steps.length - 1, index));
    var known = {};
    var received = {};
    Object.keys(data.seed).forEach(function (key) { known[key] = data.seed[key]; });
    for (var i = 0; i <= position; i++) {
      var grads = data.steps[i].grads;
      Object.keys(grads).forEach(function (key) {
        known[key] = grads[key];
        if (i === position) { received[key] = true; }
      });
    }
    data.gradient_keys.forEach(function (key) {
      var line = gradLine(key);
      if (line) { line.textContent = "grad " + (known[key] === undefined ? "?" : known[key]); }
      var node = byId(key);
      if (node) { node.classList.toggle("received", received[key] === true); }
    });
    data.steps.forEach(function (step, i) {
      var node = byId(step.node);
      if (node) {
        node.classList.toggle("current", i === position);
        node.classList.toggle("done", i < position);
      }
    });
    var step = data.steps[position];
    var shown = byId(step.node);
    if (shown && shown.scrollIntoView) { shown.scrollIntoView({block: "nearest", inline: "center"}); }
    byId("step-text").textContent = step.text;
    byId("counter").textContent = "Step " + (position + 1) + " of " + data.steps.length;
    byId("note").textContent = byId(step.node) ? "" : "(this op is outside the drawn part of the graph)";
    byId("previous").disabled = position === 0;
    byId("next").disabled = position === data.steps.length - 1;
  }
  byId("previous").addEventListener("click", function () { show(position - 1); });
  byId("next").addEventListener("click", function () { show(position + 1); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight" || event.key === "ArrowDown") { show(position + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft" || event.key === "ArrowUp") { show(position - 1); event.preventDefault(); }
  });
  show(0);
})();
