// The asset page's edit tools. A refused edit (422) shows its reason under the button that was
// pressed (base.html lets htmx swap 422s); the reason stays until the next edit is sent.
// Detected objects: choosing one in the list highlights its box on the picture.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (e) {
    var form = e.detail.elt && e.detail.elt.closest && e.detail.elt.closest("form.op");
    if (!form) return;
    document.querySelectorAll(".operations .op-error").forEach(function (box) { box.innerHTML = ""; });
  });
  function highlight() {
    var chosen = document.querySelector("input[name=objects]:checked");
    document.querySelectorAll("[data-detection]").forEach(function (rect) {
      rect.classList.toggle("chosen", !!chosen && rect.dataset.detection === chosen.dataset.object);
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.name === "objects") highlight();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", highlight); else highlight();
})();
