// The newsroom page's live parts. Everything works without this script:
// the bars are right at page load and the Preview button renders on the server.
"use strict";

(function () {
  // ----- live delivery bars ------------------------------------------------
  function percent(part, total) { return total ? (100 * part) / total : 0; }

  function paint(box, progress) {
    box.querySelectorAll(".bar").forEach(function (bar) {
      var p = progress[bar.dataset.platform];
      if (!p) { return; }
      var done = p.failed + p.cancelled;
      var sent = percent(p.sent, p.total), failed = percent(done, p.total), pending = percent(p.pending, p.total);
      bar.querySelector("rect.sent").setAttribute("width", sent.toFixed(2));
      var f = bar.querySelector("rect.failed");
      f.setAttribute("x", sent.toFixed(2)); f.setAttribute("width", failed.toFixed(2));
      var w = bar.querySelector("rect.pending");
      w.setAttribute("x", (sent + failed).toFixed(2)); w.setAttribute("width", pending.toFixed(2));
      bar.querySelector(".n-sent").textContent = p.sent;
      bar.querySelector(".n-pending").textContent = p.pending;
      bar.querySelector(".n-failed").textContent = p.failed;
      bar.querySelector(".n-percent").textContent = Math.floor(sent);
      bar.querySelector("svg").setAttribute("aria-label",
        bar.dataset.platform + ": " + p.sent + " sent, " + p.pending + " pending, " + p.failed + " failed");
    });
  }

  function liveBars() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-progress]"));
    if (!boxes.length) { return; }
    var slugs = boxes.map(function (b) { return b.dataset.progress; }).join(",");
    function apply(all) {
      boxes.forEach(function (box) { if (all[box.dataset.progress]) { paint(box, all[box.dataset.progress]); } });
    }
    var polling = null;
    function poll() {
      if (polling) { return; }
      polling = setInterval(function () {
        fetch("/newsroom/progress?slugs=" + encodeURIComponent(slugs), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (all) { if (all) { apply(all); } })
          .catch(function () {});
      }, 2000);
    }
    if (!window.EventSource) { poll(); return; }
    var failures = 0;
    var source = new EventSource("/newsroom/events?slugs=" + encodeURIComponent(slugs));
    source.onmessage = function (event) { failures = 0; apply(JSON.parse(event.data)); };
    source.onerror = function () {
      // A stream that keeps failing (a proxy that buffers it): poll instead.
      if (++failures >= 3) { source.close(); poll(); }
    };
  }

  // ----- the write form's live preview --------------------------------------
  function livePreview() {
    var form = document.getElementById("story-form");
    var body = document.getElementById("preview-body");
    if (!form || !body) { return; }
    var count = document.getElementById("word-count");
    var summary = form.elements.namedItem("summary");
    var timer = null, asked = 0;

    function words() {
      var n = summary.value.trim() ? summary.value.trim().split(/\s+/).length : 0;
      count.textContent = n;
      count.parentElement.classList.toggle("over", n > Number(count.parentElement.dataset.max || 120));
    }

    function showErrors(errors) {
      form.querySelectorAll("[data-error-for]").forEach(function (span) {
        var problem = errors[span.dataset.errorFor];
        span.textContent = problem || "";
        span.hidden = !problem;
      });
    }

    function refresh() {
      var data = new FormData(form);
      data.delete("action");
      var mine = ++asked;
      fetch("/newsroom/preview", { method: "POST", body: new URLSearchParams(data), credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) {
          if (!answer || mine !== asked) { return; }  // an older answer arriving late
          showErrors(answer.errors || {});
          if (answer.html) {
            body.innerHTML = answer.html;  // rendered and escaped on the server
            body.dataset.slug = answer.slug;
          }
        })
        .catch(function () {});
    }

    form.addEventListener("input", function () {
      words();
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    document.querySelectorAll("button.suggest").forEach(function (button) {
      button.addEventListener("click", function () {
        var tags = form.elements.namedItem("tags");
        var have = tags.value.split(",").map(function (t) { return t.trim().toLowerCase(); });
        if (have.indexOf(button.dataset.tag.toLowerCase()) < 0) {
          tags.value = tags.value.trim() ? tags.value.replace(/[,\s]*$/, "") + ", " + button.dataset.tag : button.dataset.tag;
          form.dispatchEvent(new Event("input"));
        }
      });
    });
    words();
  }

  document.addEventListener("DOMContentLoaded", function () { liveBars(); livePreview(); });
})();
