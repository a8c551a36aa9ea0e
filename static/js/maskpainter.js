// Mask painter: brush and eraser on a canvas over the image. The canvas has the image's natural
// size; on submit of a form marked data-uses-mask, a black-and-white PNG of the strokes goes
// into its hidden mask_data field (white = the region to act on). Plain JS, no dependencies.
(function () {
  "use strict";
  function setup(root) {
    var canvas = root.querySelector("canvas");
    var w = parseInt(root.dataset.width, 10), h = parseInt(root.dataset.height, 10);
    canvas.width = w; canvas.height = h;
    var ctx = canvas.getContext("2d");
    var size = root.querySelector("[data-brush-size]");
    var painting = false, last = null, painted = false;
    // Brush size is in screen pixels; convert to image pixels so it feels the same at any zoom.
    function scale() { var r = canvas.getBoundingClientRect(); return r.width ? w / r.width : 1; }
    function point(e) {
      var r = canvas.getBoundingClientRect();
      return { x: (e.clientX - r.left) * (w / r.width), y: (e.clientY - r.top) * (h / r.height) };
    }
    function tool() { var t = root.querySelector("input[name=painter-tool]:checked"); return t ? t.value : "brush"; }
    function stroke(a, b) {
      ctx.globalCompositeOperation = tool() === "eraser" ? "destination-out" : "source-over";
      ctx.strokeStyle = "rgba(255,40,90,1)"; ctx.fillStyle = ctx.strokeStyle;
      ctx.lineWidth = parseFloat(size.value) * scale(); ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x + 0.01, b.y); ctx.stroke();
      if (tool() === "brush") painted = true;
    }
    canvas.addEventListener("pointerdown", function (e) {
      painting = true; last = point(e); stroke(last, last); canvas.setPointerCapture(e.pointerId); e.preventDefault();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!painting) return; var p = point(e); stroke(last, p); last = p;
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (n) {
      canvas.addEventListener(n, function () { painting = false; });
    });
    root.querySelector("[data-clear]").addEventListener("click", function () {
      ctx.clearRect(0, 0, w, h); painted = false;
    });
    function maskDataUrl() {
      var data = ctx.getImageData(0, 0, w, h).data, any = false;
      var out = document.createElement("canvas"); out.width = w; out.height = h;
      var octx = out.getContext("2d"), img = octx.createImageData(w, h), d = img.data;
      for (var i = 0; i < data.length; i += 4) {
        var on = data[i + 3] >= 128 ? 255 : 0; if (on) any = true;
        d[i] = d[i + 1] = d[i + 2] = on; d[i + 3] = 255;
      }
      if (!any) return "";
      octx.putImageData(img, 0, 0);
      return out.toDataURL("image/png");
    }
    function fill(form) {
      var field = form.querySelector("input[name=mask_data]");
      if (field) field.value = painted ? maskDataUrl() : "";
    }
    // Capture phase: runs before htmx serialises the form.
    document.addEventListener("submit", function (e) {
      if (e.target.matches && e.target.matches("form[data-uses-mask]")) fill(e.target);
    }, true);
    document.addEventListener("htmx:configRequest", function (e) {
      var form = e.detail.elt && e.detail.elt.closest && e.detail.elt.closest("form[data-uses-mask]");
      if (form) { fill(form); e.detail.parameters["mask_data"] = form.querySelector("input[name=mask_data]").value; }
    });
  }
  function init() { document.querySelectorAll("[data-painter]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
