// Before/after slider: "before" shows left of the handle and "after" right of it, each clipped
// over the checkerboard, so a transparent result never shows the original through itself.
(function () {
  "use strict";
  function setup(root) {
    var range = root.querySelector(".compare-range");
    var before = root.querySelector(".compare-before-wrap"), after = root.querySelector(".compare-after-wrap");
    var line = root.querySelector(".compare-line");
    function update() {
      var v = +range.value;
      before.style.clipPath = "inset(0 " + (100 - v) + "% 0 0)";
      after.style.clipPath = "inset(0 0 0 " + v + "%)";
      if (line) line.style.left = v + "%";
    }
    range.addEventListener("input", update);
    update();
  }
  function init() { document.querySelectorAll("[data-compare]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
