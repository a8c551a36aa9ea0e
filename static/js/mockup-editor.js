// Mockup editor: print-area guides and the design's outline drawn over the preview, dragged to
// move and resized by its corner handle (the sliders follow, and the preview re-renders when the
// pointer is released); copy buttons; slider read-outs; a smooth swap between previews.
// Plain JS, no dependencies. Without it the sliders and the "Update preview" button still work.
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";

  // --- copy buttons and slider read-outs ----------------------------------------------------------
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.dataset.copy);
    if (!field) return;
    var label = button.dataset.label || button.innerHTML;
    button.dataset.label = label;
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.innerHTML = label; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); document.execCommand("copy"); done(); });
    } else { field.select(); document.execCommand("copy"); done(); }
  });
  function showValue(input) {
    var out = input.id && document.getElementById(input.id + "-out");
    if (out) out.textContent = input.value;
  }
  document.addEventListener("input", function (ev) {
    showValue(ev.target);
    if (ev.target.type === "range" && overlay) overlay.fromSliders();
  });
  document.addEventListener("click", function (ev) {
    if (!ev.target.closest("[data-reset-placement]")) return;
    var values = { x: 0.5, y: 0.5, scale: 1, rotate: 0 };
    Object.keys(values).forEach(function (k) { var el = document.getElementById(k); el.value = values[k]; showValue(el); });
    var fit = document.getElementById("fit");
    fit.value = "contain";
    fit.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // --- geometry: the flat print area ↔ the product photo (canonical pixels) -----------------------
  function solve(A, b) {
    var n = b.length, i, j, k;
    for (i = 0; i < n; i++) A[i] = A[i].concat([b[i]]);
    for (i = 0; i < n; i++) {
      var p = i;
      for (j = i + 1; j < n; j++) if (Math.abs(A[j][i]) > Math.abs(A[p][i])) p = j;
      var t = A[i]; A[i] = A[p]; A[p] = t;
      for (j = i + 1; j < n; j++) {
        var f = A[j][i] / A[i][i];
        for (k = i; k <= n; k++) A[j][k] -= f * A[i][k];
      }
    }
    var x = new Array(n);
    for (i = n - 1; i >= 0; i--) {
      var s = A[i][n];
      for (j = i + 1; j < n; j++) s -= A[i][j] * x[j];
      x[i] = s / A[i][i];
    }
    return x;
  }
  function homography(src, dst) {
    var A = [], b = [];
    for (var i = 0; i < 4; i++) {
      var x = src[i][0], y = src[i][1], u = dst[i][0], v = dst[i][1];
      A.push([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.push(u);
      A.push([0, 0, 0, x, y, 1, -v * x, -v * y]); b.push(v);
    }
    return solve(A, b).concat([1]);
  }
  function invert(m) {
    var a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
    var A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
    var det = a * A + b * B + c * C;
    return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det,
            B / det, (a * i - c * g) / det, -(a * f - c * d) / det,
            C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
  }
  function apply(h, x, y) {
    var w = h[6] * x + h[7] * y + h[8];
    return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
  }
  function mapping(geo) {
    var fw = geo.flat[0], fh = geo.flat[1], a = geo.area;
    if (a.type === "cylinder") {
      var tmax = a.span_deg * Math.PI / 180, limit = Math.min(tmax, Math.PI / 2);
      return {
        toImage: function (u, v) {
          var t = Math.max(-limit, Math.min(limit, u / fw * 2 * tmax - tmax));
          return [a.cx + a.radius * Math.sin(t), a.top + v / fh * (a.bottom - a.top) + a.ry * Math.cos(t)];
        },
        toFlat: function (x, y) {
          var t = Math.asin(Math.max(-1, Math.min(1, (x - a.cx) / a.radius)));
          return [(t + tmax) / (2 * tmax) * fw, (y - a.ry * Math.cos(t) - a.top) / (a.bottom - a.top) * fh];
        }
      };
    }
    var H = homography([[0, 0], [fw, 0], [fw, fh], [0, fh]], a.points), Hi = invert(H);
    return {
      toImage: function (u, v) { return apply(H, u, v); },
      toFlat: function (x, y) { return apply(Hi, x, y); }
    };
  }
  // The design's rectangle as the renderer places it (mockups/render.py placement_matrix).
  function designFrame(geo, p) {
    var fw = geo.flat[0], fh = geo.flat[1], sw = geo.source[0], sh = geo.source[1], sx, sy;
    if (p.fit === "stretch") { sx = fw / sw; sy = fh / sh; }
    else { sx = sy = (p.fit === "cover" ? Math.max : Math.min)(fw / sw, fh / sh); }
    sx *= p.scale; sy *= p.scale;
    var r = p.rotate * Math.PI / 180, c = Math.cos(r), s = Math.sin(r), cx = p.x * fw, cy = p.y * fh;
    return {
      hw: sw / 2, hh: sh / 2, cx: cx, cy: cy,
      at: function (dx, dy) { var X = dx * sx, Y = dy * sy; return [cx + c * X - s * Y, cy + s * X + c * Y]; }
    };
  }
  function outline(points, map) {
    return points.map(function (q) { var m = map.toImage(q[0], q[1]); return m[0].toFixed(1) + "," + m[1].toFixed(1); }).join(" ");
  }
  function edge(from, to, n) {
    var out = [];
    for (var i = 0; i < n; i++) out.push([from[0] + (to[0] - from[0]) * i / n, from[1] + (to[1] - from[1]) * i / n]);
    return out;
  }
  function ring(a, b, c, d, n) { return edge(a, b, n).concat(edge(b, c, n), edge(c, d, n), edge(d, a, n)); }

  // --- the overlay ----------------------------------------------------------------------------------
  var overlay = null;
  function el(name, attrs) {
    var e = document.createElementNS(SVGNS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function slider(name) { return document.getElementById(name); }
  function setSlider(name, value) {
    var input = slider(name);
    if (!input) return;
    var min = +input.min, max = +input.max;
    input.value = Math.max(min, Math.min(max, Math.round(value * 100) / 100));
    showValue(input);
  }
  function commit() {
    var x = slider("x");
    if (x) x.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function Overlay(stage, geo) {
    var self = this, map = mapping(geo), W = geo.canvas[0], H = geo.canvas[1];
    var p = {};
    for (var k in geo.placement) p[k] = geo.placement[k];
    var svg = el("svg", { "class": "guides", viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none" });
    var fw = geo.flat[0], fh = geo.flat[1];
    var area = el("polygon", { "class": "print-area", points: outline(ring([0, 0], [fw, 0], [fw, fh], [0, fh], 24), map) });
    var areaLabel = el("text", { "class": "print-area-label" });
    var design = el("polygon", { "class": "design-box", tabindex: "0", role: "slider", "aria-label": "Design position: drag, or use the arrow keys; + and − resize", "aria-valuetext": "" });
    var handle = el("circle", { "class": "resize-handle", r: String(Math.max(W, H) / 80) });
    svg.appendChild(area);
    svg.appendChild(areaLabel);
    svg.appendChild(design);
    svg.appendChild(handle);
    stage.appendChild(svg);
    var labelAt = map.toImage(0, 0);
    areaLabel.setAttribute("x", labelAt[0]);
    areaLabel.setAttribute("y", labelAt[1] - H / 120);
    areaLabel.setAttribute("font-size", String(Math.round(H / 45)));
    areaLabel.textContent = "Print area";

    function draw() {
      var f = designFrame(geo, p);
      var corners = [f.at(-f.hw, -f.hh), f.at(f.hw, -f.hh), f.at(f.hw, f.hh), f.at(-f.hw, f.hh)];
      design.setAttribute("points", outline(ring(corners[0], corners[1], corners[2], corners[3], 16), map));
      var h = map.toImage(corners[2][0], corners[2][1]);
      handle.setAttribute("cx", h[0]);
      handle.setAttribute("cy", h[1]);
      design.setAttribute("aria-valuetext", "left " + Math.round(p.x * 100) + "%, top " + Math.round(p.y * 100) + "%, size " + Math.round(p.scale * 100) + "%");
    }
    function pointer(e) {
      var r = svg.getBoundingClientRect();
      var x = (e.clientX - r.left) / r.width * W, y = (e.clientY - r.top) / r.height * H;
      return map.toFlat(x, y);
    }
    var drag = null;
    function start(mode, e) {
      e.preventDefault();
      (e.target.setPointerCapture ? e.target : svg).setPointerCapture(e.pointerId);
      var f = designFrame(geo, p);
      drag = { mode: mode, from: pointer(e), x: p.x, y: p.y, scale: p.scale, centre: [f.cx, f.cy] };
      stage.classList.add("dragging");
    }
    design.addEventListener("pointerdown", function (e) { start("move", e); });
    handle.addEventListener("pointerdown", function (e) { start("scale", e); });
    svg.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var now = pointer(e);
      if (drag.mode === "move") {
        p.x = Math.max(0, Math.min(1, drag.x + (now[0] - drag.from[0]) / fw));
        p.y = Math.max(0, Math.min(1, drag.y + (now[1] - drag.from[1]) / fh));
        setSlider("x", p.x); setSlider("y", p.y);
      } else {
        var d0 = Math.hypot(drag.from[0] - drag.centre[0], drag.from[1] - drag.centre[1]) || 1;
        var d1 = Math.hypot(now[0] - drag.centre[0], now[1] - drag.centre[1]);
        p.scale = Math.max(0.1, Math.min(2, drag.scale * d1 / d0));
        setSlider("scale", p.scale);
      }
      draw();
    });
    function end() {
      if (!drag) return;
      drag = null;
      stage.classList.remove("dragging");
      p.x = +slider("x").value; p.y = +slider("y").value; p.scale = +slider("scale").value;
      commit();
    }
    svg.addEventListener("pointerup", end);
    svg.addEventListener("pointercancel", end);
    design.addEventListener("keydown", function (e) {
      var step = e.shiftKey ? 0.05 : 0.01, moved = true;
      if (e.key === "ArrowLeft") p.x = Math.max(0, p.x - step);
      else if (e.key === "ArrowRight") p.x = Math.min(1, p.x + step);
      else if (e.key === "ArrowUp") p.y = Math.max(0, p.y - step);
      else if (e.key === "ArrowDown") p.y = Math.min(1, p.y + step);
      else if (e.key === "+" || e.key === "=") p.scale = Math.min(2, p.scale + step);
      else if (e.key === "-" || e.key === "_") p.scale = Math.max(0.1, p.scale - step);
      else moved = false;
      if (!moved) return;
      e.preventDefault();
      setSlider("x", p.x); setSlider("y", p.y); setSlider("scale", p.scale);
      draw();
    });
    design.addEventListener("keyup", function (e) {
      if (/^Arrow|^[+=_-]$/.test(e.key)) commit();
    });
    self.fromSliders = function () {
      ["x", "y", "scale", "rotate"].forEach(function (k) { var s = slider(k); if (s) p[k] = +s.value; });
      var fit = document.getElementById("fit");
      if (fit) p.fit = fit.value;
      draw();
    };
    self.destroy = function () { svg.remove(); };
    draw();
  }

  function init(root) {
    var stage = (root || document).querySelector ? (root || document).querySelector("[data-stage]") : null;
    var data = document.getElementById("mockup-geometry");
    if (!stage || !data) return;
    if (overlay) overlay.destroy();
    overlay = new Overlay(stage, JSON.parse(data.textContent));
  }

  // --- smooth preview swaps: keep the old picture until the new one has loaded --------------------
  var previous = "";
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "preview") {
      var img = document.getElementById("mockup-preview");
      previous = img ? img.currentSrc || img.src : "";
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "preview") return;
    init(e.detail.target);
    var img = document.getElementById("mockup-preview"), stage = img && img.closest("[data-stage]");
    if (!img || !previous || img.complete) return;
    stage.style.backgroundImage = "url(" + JSON.stringify(previous) + ")";
    img.classList.add("loading");
    img.addEventListener("load", function () { img.classList.remove("loading"); stage.style.backgroundImage = ""; }, { once: true });
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(document); });
  else init(document);
})();
