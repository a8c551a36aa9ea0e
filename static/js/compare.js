// Before/after slider: the "after" image is clipped to the slider's position over "before".
(function () {
  "use strict";
  function setup(root) {
    var range = root.querySelector(".compare-range"), wrap = root.querySelector(".compare-after-wrap");
    function update() { wrap.style.clipPath = "inset(0 " + (100 - range.value) + "% 0 0)"; }
    range.addEventListener("input", update); update();
  }
  function init() { document.querySelectorAll("[data-compare]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
