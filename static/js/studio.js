// Every page: the phone menu, toasts, busy buttons (one request per click), and new job cards
// brought into view. Plain JS, no dependencies; every page also works without it.
(function () {
  "use strict";

  // --- phone menu ---------------------------------------------------------------------------------
  document.addEventListener("click", function (e) {
    var toggle = e.target.closest("[data-menu-toggle]");
    if (!toggle) return;
    var bar = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = !bar.classList.contains("open");
    bar.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // --- prompt ideas on the Create page fill the prompt instead of reloading ------------------------
  document.addEventListener("click", function (e) {
    var idea = e.target.closest("[data-idea]");
    var box = idea && document.getElementById("id_prompt");
    if (!box) return;
    e.preventDefault();
    box.value = idea.dataset.idea;
    box.focus();
  });

  // --- toasts ---------------------------------------------------------------------------------------
  // window.studioToast("Saved", {kind: "error", href: "/jobs/…", link: "Open"}); servers send the
  // same through an HX-Trigger header: {"toast": {"message": "…", "kind": "…", "href": "…"}}.
  function toast(message, opts) {
    opts = opts || {};
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast" + (opts.kind === "error" ? " error" : "");
    el.setAttribute("role", opts.kind === "error" ? "alert" : "status");
    var text = document.createElement("span");
    text.className = "grow";
    text.textContent = message;
    el.appendChild(text);
    if (opts.href) {
      var a = document.createElement("a");
      a.href = opts.href;
      a.textContent = opts.link || "Open";
      el.appendChild(a);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Dismiss";
    close.addEventListener("click", function () { el.remove(); });
    el.appendChild(close);
    box.appendChild(el);
    while (box.children.length > 3) box.firstElementChild.remove();
    // Errors stay until dismissed or replaced; good news leaves by itself.
    if (opts.kind !== "error") setTimeout(function () { el.remove(); }, opts.ms || 6000);
  }
  window.studioToast = toast;
  document.body.addEventListener("toast", function (e) {
    var d = e.detail || {};
    toast(d.message || d.value, d);
  });

  // --- confirmations: a dialog of our own instead of the browser's confirm() ---------------------
  // <form data-confirm="Delete …?" data-confirm-action="Delete">, or the same on a submit button;
  // data-confirm-when="#select=value" asks only when that field has that value.
  var confirmed = null;
  function ask(message, action, onYes) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") { if (window.confirm(message)) onYes(); return; }
    dialog.querySelector("[data-confirm-message]").textContent = message;
    var yes = dialog.querySelector("[data-confirm-yes]");
    yes.textContent = action || "Continue";
    dialog.returnValue = "";
    dialog.onclose = function () { if (dialog.returnValue === "yes") onYes(); };
    dialog.showModal();
    dialog.querySelector("[data-confirm-no]").focus();
  }
  document.addEventListener("submit", function (e) {
    var form = e.target, button = e.submitter;
    var holder = button && button.hasAttribute("data-confirm") ? button : form.hasAttribute("data-confirm") ? form : null;
    if (!holder || confirmed === form) { confirmed = null; return; }
    var when = holder.getAttribute("data-confirm-when");
    if (when) {
      var parts = when.split("="), field = document.querySelector(parts[0]);
      if (!field || field.value !== parts[1]) return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
    ask(holder.getAttribute("data-confirm"), holder.getAttribute("data-confirm-action"), function () {
      confirmed = form;
      if (form.requestSubmit) form.requestSubmit(button || undefined); else form.submit();
    });
  }, true);

  // --- busy buttons -------------------------------------------------------------------------------
  function buttonsOf(elt) {
    var form = elt.tagName === "FORM" ? elt : elt.closest("form");
    if (form) return Array.prototype.slice.call(form.querySelectorAll("button:not([type=button])"));
    return elt.tagName === "BUTTON" ? [elt] : [];
  }
  function setBusy(elt, busy) {
    buttonsOf(elt).forEach(function (b) {
      if (busy) { b.disabled = true; b.setAttribute("aria-busy", "true"); }
      else { b.disabled = false; b.removeAttribute("aria-busy"); }
    });
  }
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    // Polling job cards and search-as-you-type do not lock buttons.
    if (elt.matches && elt.matches("form, button, [data-busy]") && (e.detail.requestConfig || {}).verb !== "get") setBusy(elt, true);
  });
  document.addEventListener("htmx:afterRequest", function (e) { setBusy(e.detail.elt, false); });
  // A plain form (no htmx) is sent once: a second click while the page is leaving does nothing.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || form.hasAttribute("hx-post") || form.hasAttribute("hx-get") || (form.method || "").toLowerCase() !== "post") return;
    if (form.dataset.submitting) { e.preventDefault(); return; }
    form.dataset.submitting = "1";
    var b = e.submitter;
    if (b) setTimeout(function () { b.setAttribute("aria-busy", "true"); b.disabled = true; }, 0);
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (f) {
      delete f.dataset.submitting;
      f.querySelectorAll("button[aria-busy]").forEach(function (b) { b.disabled = false; b.removeAttribute("aria-busy"); });
    });
  });
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    toast(status >= 500 ? "Something went wrong on our side. Try again in a moment." : "That did not work (" + status + "). Reload the page and try again.", { kind: "error" });
  });
  document.addEventListener("htmx:sendError", function () {
    toast("The studio cannot be reached. Check your connection and try again.", { kind: "error" });
  });

  // --- new job cards: one per job, in view, briefly highlighted -------------------------------------
  function inView(el) {
    var r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= (window.innerHeight || document.documentElement.clientHeight);
  }
  document.addEventListener("htmx:load", function (e) {
    var root = e.detail.elt;
    if (!root.querySelectorAll) return;
    var cards = root.matches && root.matches(".job-card[data-new]") ? [root] : Array.prototype.slice.call(root.querySelectorAll(".job-card[data-new]"));
    cards.forEach(function (card) {
      card.removeAttribute("data-new");
      var same = document.querySelectorAll("#" + CSS.escape(card.id));
      var keep = card;
      if (same.length > 1) {
        // A resent form answered with the job it already made: keep the card that was there.
        keep = same[0] === card ? same[1] : same[0];
        card.remove();
      }
      keep.classList.remove("flash");
      void keep.offsetWidth; // restart the animation
      keep.classList.add("flash");
      if (!inView(keep)) keep.scrollIntoView({ behavior: "smooth", block: "center" });
    });
  });
})();
