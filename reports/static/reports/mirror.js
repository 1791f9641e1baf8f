/* Kagami web mirror: progressive enhancement of a page that works fully without JavaScript.
 *
 * With this script, applying the filters (and following the drill-down and reset links) fetches the same
 * URL the plain GET would load, swaps the page's results regions in place, records the view with
 * history.pushState (Back and Forward restore earlier views) and announces the update in the page's
 * language. Any failure falls back to ordinary navigation to that URL. Nothing submits on input or change
 * (WCAG 3.2.2 On Input): only the Apply button and the links do.
 *
 * The server renders the whole page for every request, so a swapped view and a loaded one are the same
 * HTML, and every view is audited as a page view. No build step, no library; loaded with `defer` from our
 * own static files (the Content Security Policy allows scripts from 'self' only).
 */
(function () {
  "use strict";

  var form = document.getElementById("mirror-filters");
  var status = document.getElementById("mirror-status");
  if (!form || !status || !window.fetch || !window.DOMParser || !window.URLSearchParams ||
      !(window.history && history.pushState)) {
    return; // the plain page stays as it is
  }

  var path = window.location.pathname;
  var shownSearch = window.location.search; // the query of the view on screen
  var controller = null; // the request in flight, if any
  var sequence = 0;

  function regions(doc) {
    return Array.prototype.slice.call(doc.querySelectorAll("[data-swap-region]"));
  }

  function setBusy(busy) {
    regions(document).forEach(function (region) {
      if (busy) {
        region.setAttribute("aria-busy", "true");
      } else {
        region.removeAttribute("aria-busy");
      }
    });
  }

  function say(message) {
    status.textContent = message || "";
  }

  /* The query the plain GET submit would send, without empty fields (they mean "all"). */
  function formURL() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && value.trim() !== "") {
        params.append(name, value);
      }
    });
    var url = new URL(form.getAttribute("action") || path, window.location.href);
    url.search = params.toString();
    return url;
  }

  /* Give the form the values the fetched page shows (after Back, Forward, reset or a drill-down link). */
  function syncForm(fresh) {
    var twinForm = fresh.getElementById(form.id);
    if (!twinForm) {
      return;
    }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) {
        return;
      }
      var twin = el.id ? twinForm.querySelector("#" + CSS.escape(el.id))
        : twinForm.querySelector("[name='" + CSS.escape(el.name) + "']");
      if (!twin) {
        return;
      }
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = twin.hasAttribute("checked");
      } else if (el.tagName === "SELECT") {
        var chosen = twin.querySelector("option[selected]");
        el.value = chosen ? chosen.getAttribute("value") : "";
      } else if (el.type !== "submit" && el.type !== "button") {
        el.value = twin.getAttribute("value") || "";
      }
    });
  }

  /* Replace every results region with its counterpart in ``fresh``; false if the page has another shape. */
  function swap(fresh) {
    var mine = regions(document);
    var theirs = mine.map(function (region) { return fresh.getElementById(region.id); });
    if (!mine.length || theirs.some(function (region) { return !region; })) {
      return false;
    }
    mine.forEach(function (region, i) {
      region.replaceWith(document.importNode(theirs[i], true));
    });
    syncForm(fresh);
    if (fresh.title) {
      document.title = fresh.title;
    }
    return true;
  }

  /* After a swap: the element the URL's fragment names, or keep focus where it is if it still exists. */
  function placeFocus(url) {
    var target = url.hash ? document.getElementById(decodeURIComponent(url.hash.slice(1))) : null;
    if (target) {
      var heading = target.matches("h1, h2, h3") ? target : target.querySelector("h2, h3") || target;
      if (!heading.hasAttribute("tabindex")) {
        heading.setAttribute("tabindex", "-1");
      }
      heading.focus({ preventScroll: true });
      target.scrollIntoView({ block: "start" });
      return;
    }
    var active = document.activeElement;
    if (!active || active === document.body || !document.contains(active)) {
      var main = document.getElementById("main");
      if (main) {
        main.focus({ preventScroll: true }); // the focused link was replaced: resume at the content
      }
    }
  }

  /* Show the view at ``url``: fetch, swap, record in the history (unless restoring one), announce. */
  function show(url, push) {
    if (controller) {
      controller.abort();
    }
    controller = new AbortController();
    var mine = ++sequence;
    setBusy(true);
    say(status.getAttribute("data-loading"));
    fetch(url.href, {
      credentials: "same-origin",
      headers: { "Accept": "text/html" },
      signal: controller.signal,
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      // A problem page (400), an expired session (redirect to log in) or anything unexpected: let the
      // browser load it as a page.
      if (!response.ok || response.redirected || type.indexOf("text/html") !== 0) {
        throw new Error("not a mirror page");
      }
      return response.text();
    }).then(function (html) {
      if (mine !== sequence) {
        return;
      }
      var fresh = new DOMParser().parseFromString(html, "text/html");
      if (!swap(fresh)) {
        throw new Error("not a mirror page");
      }
      if (push && url.href !== window.location.href) { // applying an unchanged view adds no history entry
        history.pushState({ kagamiMirror: true }, "", url.href);
      }
      shownSearch = url.search;
      controller = null;
      placeFocus(url);
      say(status.getAttribute("data-updated"));
    }).catch(function (error) {
      if (error && error.name === "AbortError") {
        return; // a newer request replaced this one
      }
      if (mine !== sequence) {
        return;
      }
      setBusy(false);
      say("");
      if (push) {
        window.location.assign(url.href);
      } else {
        window.location.reload();
      }
    });
  }

  function plainClick(event) {
    return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
  }

  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) {
      return;
    }
    event.preventDefault();
    show(formURL(), true);
  });

  // Drill-down, "show every dimension" and reset: links to another view of this page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-mirror-link]") : null;
    if (!link || event.defaultPrevented || !plainClick(event)) {
      return;
    }
    var url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname !== path) {
      return;
    }
    event.preventDefault();
    show(url, true);
  });

  window.addEventListener("popstate", function () {
    // Moving between fragments (the table of contents) keeps the view: nothing to fetch.
    if (window.location.pathname !== path || window.location.search === shownSearch) {
      return;
    }
    show(new URL(window.location.href), false);
  });
})();
