// Drag four corners over a product photo to set its print area; keeps a hidden JSON field
// (photo pixels, clockwise from top-left) and refreshes a live preview image. No dependencies.
(function () {
  "use strict";
  function init(box) {
    var width = +box.dataset.width, height = +box.dataset.height;
    var input = document.querySelector(box.dataset.input);
    var preview = document.querySelector(box.dataset.preview);
    var polygon = box.querySelector("polygon");
    var points;
    try { points = JSON.parse(input.value); } catch (e) { points = []; }
    if (!Array.isArray(points) || points.length !== 4) {
      points = [[width * 0.3, height * 0.3], [width * 0.7, height * 0.3], [width * 0.7, height * 0.7], [width * 0.3, height * 0.7]];
    }
    var handles = points.map(function (p, i) {
      var h = document.createElement("button");
      h.type = "button";
      h.className = "corner";
      h.setAttribute("aria-label", ["Top-left", "Top-right", "Bottom-right", "Bottom-left"][i] + " corner (arrow keys move it)");
      box.appendChild(h);
      h.addEventListener("pointerdown", function (ev) {
        ev.preventDefault();
        h.setPointerCapture(ev.pointerId);
        function move(e) {
          var r = box.getBoundingClientRect();
          points[i] = [clamp((e.clientX - r.left) / r.width, 0, 1) * width, clamp((e.clientY - r.top) / r.height, 0, 1) * height];
          draw(); schedule();
        }
        function up() { h.removeEventListener("pointermove", move); h.removeEventListener("pointerup", up); refresh(); }
        h.addEventListener("pointermove", move);
        h.addEventListener("pointerup", up);
      });
      h.addEventListener("keydown", function (e) {
        var step = (e.shiftKey ? 10 : 1) * width / 200, d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
        if (!d) return;
        e.preventDefault();
        points[i] = [clamp(points[i][0] + d[0], 0, width), clamp(points[i][1] + d[1], 0, height)];
        draw(); schedule();
      });
      return h;
    });
    function clamp(v, a, b) { return Math.max(a, Math.min(b, v)); }
    function draw() {
      points.forEach(function (p, i) {
        handles[i].style.left = (p[0] / width * 100) + "%";
        handles[i].style.top = (p[1] / height * 100) + "%";
      });
      polygon.setAttribute("points", points.map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join(" "));
      input.value = JSON.stringify(points.map(function (p) { return [Math.round(p[0] * 10) / 10, Math.round(p[1] * 10) / 10]; }));
    }
    var timer = null;
    function schedule() { if (!timer) timer = setTimeout(refresh, 350); }
    function refresh() {
      clearTimeout(timer); timer = null;
      if (!preview) return;
      var blend = document.querySelector("[name=blend]");
      preview.src = box.dataset.previewUrl + "?points=" + encodeURIComponent(input.value) + (blend ? "&blend=" + blend.value : "");
    }
    var blendSelect = document.querySelector("[name=blend]");
    if (blendSelect) blendSelect.addEventListener("change", refresh);
    draw();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-printarea]").forEach(init);
  });
})();
