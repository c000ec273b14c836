// The pages' first watchdog: a classic script, outside the pages' module graphs, so it
// still runs when their code does not. If a module script of the page fails to load (a
// file missing, blocked or damaged) or throws while it starts (a browser that rejects
// something the code does on import), or has not finished starting within a minute, it
// shows what happened and what to do, instead of "Starting Python…" forever. Once every
// module script of the page has run, the page's own code takes over (app/boot.js watches
// Python's start).
//
// Whether a module script ran: its load event alone does not tell, since WebKit fires it,
// and reports no error at all, when a module it imports throws. So each of the pages'
// module scripts says it ran, a "tinygpt:module-ran" event on window with its URL, as its
// first statement; loaded without saying so means its code stopped on the way. (The
// pages' modules use no top-level await, which would fire the load event earlier.)
(function () {
  "use strict";
  var LIMIT_MS = window.tinygptStartLimitMs || 60000; // tests set a shorter one first
  var done = false; // the page's code runs, or the failure is shown
  var shown = null;

  function moduleScripts() {
    return Array.prototype.slice.call(document.querySelectorAll("script[type=module][src]"));
  }

  function errorBox() {
    var box = document.querySelector("[data-testid=error]");
    if (box) return box;
    box = document.createElement("div");
    box.className = "error";
    box.setAttribute("role", "alert");
    box.setAttribute("data-testid", "error");
    var parent = document.querySelector("main") || document.body;
    parent.insertBefore(box, parent.firstChild);
    return box;
  }

  function fail(why) {
    if (done) return;
    done = true;
    clearTimeout(timer);
    var text = "TinyGPT could not start in this browser: " + String(why).slice(0, 200) +
      ". Reload the page; if it keeps failing, try a recent Chrome, Firefox or Safari.";
    var show = function () {
      var box = errorBox();
      var line = document.createElement("p");
      line.textContent = text;
      box.textContent = "";
      box.appendChild(line);
      box.hidden = false;
      shown = box;
      var status = document.querySelector("[data-testid=status], [data-testid=python-status]");
      if (status) {
        var playground = status.getAttribute("data-testid") === "status";
        status.setAttribute("data-state", playground ? "error" : "failed");
        status.textContent = playground ? "error" : "Python could not start.";
      }
      var label = document.getElementById("load-label");
      if (label) label.textContent = "TinyGPT could not start.";
    };
    if (document.body) show();
    else document.addEventListener("DOMContentLoaded", show);
  }

  function scriptName(script) {
    return (script.getAttribute("src") || "a script").replace(/^\.\//, "");
  }

  // A script element that could not be loaded (itself, or a module it imports).
  document.addEventListener("error", function (event) {
    if (event.target instanceof HTMLScriptElement) fail(scriptName(event.target) + " (or a file it needs) could not be loaded");
  }, true);

  // Code that throws while the page's modules start.
  window.addEventListener("error", function (event) {
    if (event instanceof ErrorEvent) fail(event.message || "its code stopped with an error");
  });

  function allRan() {
    if (!done) {
      done = true;
      clearTimeout(timer);
    } else if (timedOut && shown) {
      shown.hidden = true; // it was only slow: the page works after all
    }
  }

  // After a module script's load event (the window never sees load events of elements,
  // the document does), its evaluation's outcome.
  var said = []; // the URLs of the modules that said they ran
  window.addEventListener("tinygpt:module-ran", function (event) {
    said.push(String(event.detail));
    if (moduleScripts().every(function (s) { return said.indexOf(s.src) >= 0; })) allRan();
  });

  // A module script's load event comes after it (and all it imports) were run; the window
  // never sees load events of elements, the document does. (After a turn: an error event
  // with the reason may still be on its way.)
  document.addEventListener("load", function (event) {
    var script = event.target;
    if (!(script instanceof HTMLScriptElement) || script.type !== "module") return;
    setTimeout(function () {
      if (said.indexOf(script.src) < 0) fail("its code stopped with an error while it started");
    }, 0);
  }, true);

  var timedOut = false;
  var timer = setTimeout(function () {
    timedOut = true;
    fail("its code did not finish loading within a minute");
  }, LIMIT_MS);

  // A browser without JavaScript modules never runs the page's code, nor says why.
  if (!("noModule" in document.createElement("script"))) fail("it cannot run JavaScript modules");
})();
