// Operation forms answer a refused request with 422 and the reason, retargeted to #op-error:
// htmx does not swap 4xx responses by default, so allow it for these.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr.status === 422 && e.detail.xhr.getResponseHeader("HX-Retarget") === "#op-error") {
      e.detail.shouldSwap = true; e.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var box = document.getElementById("op-error");
    if (box && e.detail.successful && e.detail.elt.closest && e.detail.elt.closest("form.op")) box.innerHTML = "";
  });
})();
