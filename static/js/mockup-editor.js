// Mockup editor helpers: copy buttons and live slider read-outs (HTMX does the preview swaps).
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.dataset.copy);
    if (!field) return;
    var done = function () { button.dataset.label = button.dataset.label || button.textContent; button.textContent = "Copied"; setTimeout(function () { button.textContent = button.dataset.label; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); document.execCommand("copy"); done(); });
    } else { field.select(); document.execCommand("copy"); done(); }
  });
  document.addEventListener("input", function (ev) {
    var out = ev.target.id && document.getElementById(ev.target.id + "-out");
    if (out) out.textContent = ev.target.value;
  });
})();
