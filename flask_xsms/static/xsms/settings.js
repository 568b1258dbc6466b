/* flask-xsms settings page: add and delete rows, copy URLs, warn before losing edits.
   Plain script, no build step, no external assets. */
(function () {
  "use strict";

  function rowFields(form) {
    return Array.prototype.map.call(
      form.querySelectorAll("[data-xsms-row] input, [data-xsms-row] select"),
      function (field) { return field.name + "=" + field.value; }
    ).join("&");
  }

  function announce(form, text) {
    var live = form.querySelector("[data-xsms-live]");
    if (!live) { return; }
    live.textContent = "";
    // A fresh text node in a later task makes screen readers speak it again.
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function setUpRows(form) {
    var list = form.querySelector("[data-xsms-rows]");
    var empty = form.querySelector("[data-xsms-empty]");
    var nextIndex = parseInt(list.getAttribute("data-xsms-next-index"), 10) || 0;

    function refreshEmpty() {
      if (empty) { empty.hidden = list.children.length > 0; }
    }

    function addRow(kind) {
      var template = form.querySelector('template[data-xsms-row-template="' + kind + '"]');
      var fragment = template.content.cloneNode(true);
      var index = String(nextIndex++);
      fragment.querySelectorAll("[id], [name], [for]").forEach(function (el) {
        ["id", "name", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) { el.setAttribute(attr, value.split("__index__").join(index)); }
        });
      });
      var row = fragment.querySelector("[data-xsms-row]");
      list.appendChild(fragment);
      refreshEmpty();
      row.querySelector("input").focus();
    }

    form.querySelectorAll("[data-xsms-add]").forEach(function (button) {
      button.addEventListener("click", function () { addRow(button.getAttribute("data-xsms-add")); });
    });

    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-xsms-delete]");
      if (!button) { return; }
      var row = button.closest("[data-xsms-row]");
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      refreshEmpty();
      // Keep keyboard users in the list instead of dropping focus to the page.
      var target = next ? next.querySelector("[data-xsms-delete]") : form.querySelector("[data-xsms-add]");
      target.focus();
      announce(form, "Row deleted. It is removed when you click Save.");
    });
  }

  function copyText(input) {
    var text = input.value;
    function fallback() {
      input.focus();
      input.select();
      input.setSelectionRange(0, text.length);
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(fallback);
    }
    return fallback();
  }

  function setUpCopy(form) {
    form.querySelectorAll("[data-xsms-copy]").forEach(function (button) {
      var timer = null;
      button.addEventListener("click", function () {
        var input = document.getElementById(button.getAttribute("data-xsms-copy"));
        var label = button.getAttribute("data-xsms-copy-label");
        copyText(input).then(function () {
          button.textContent = "Copied";
          button.classList.add("xsms-copied");
          announce(form, label + " copied to the clipboard.");
        }, function () {
          input.focus();
          input.select();
          announce(form, "Copying is not allowed here: press Ctrl+C (or \u2318C) to copy the selected " + label + ".");
        });
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          button.textContent = "Copy";
          button.classList.remove("xsms-copied");
        }, 2500);
      });
    });
  }

  function setUpLeaveWarning(form) {
    // A page showing refused edits is unsaved from the start.
    var initial = form.hasAttribute("data-xsms-unsaved") ? null : rowFields(form);
    var leaving = false;

    form.addEventListener("submit", function () { leaving = true; });
    var cancel = form.querySelector("[data-xsms-cancel]");
    if (cancel) {
      // Cancel is the explicit way to discard edits: no warning.
      cancel.addEventListener("click", function () { leaving = true; });
    }
    window.addEventListener("beforeunload", function (event) {
      if (leaving || rowFields(form) === initial) { return; }
      event.preventDefault();
      event.returnValue = "";
    });
    window.addEventListener("pageshow", function () { leaving = false; });
  }

  function focusFirstError(form) {
    var invalid = form.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); }
  }

  // Test webhook: post in the background and show the answer under the button, instead
  // of reloading the page with the answer at its top. Without script the form still works.
  function setUpWebhookTest(testForm) {
    var result = testForm.querySelector("[data-xsms-webhook-result]");
    var button = testForm.querySelector("button[type=submit]");
    if (!result || !window.fetch || !window.FormData) { return; }

    function show(text, state) {
      result.textContent = text;
      result.setAttribute("data-xsms-result", state);
      // At the foot of the page the answer grows it: bring it into view.
      if (result.scrollIntoView) { result.scrollIntoView({ block: "nearest" }); }
    }

    testForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (button.disabled) { return; }
      button.disabled = true;
      show("Testing the Request URL\u2026", "busy");
      fetch(testForm.getAttribute("data-xsms-webhook-test"), {
        method: "POST",
        body: new FormData(testForm),
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            throw new Error(data.error || ("Not tested: the server answered HTTP " + response.status + "."));
          }
          show(data.message, data.ok ? "ok" : "error");
        });
      }, function () {
        throw new Error("Not tested: the server could not be reached.");
      }).catch(function (error) {
        show(error.message, "error");
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  function init() {
    var testForm = document.querySelector("form[data-xsms-webhook-test]");
    if (testForm) { setUpWebhookTest(testForm); }
    var form = document.querySelector("form[data-xsms-settings]");
    if (!form) { return; }
    setUpRows(form);
    setUpCopy(form);
    setUpLeaveWarning(form);
    focusFirstError(form);
    // Scripts of the host (and tests) can wait for this before they act on the form.
    form.setAttribute("data-xsms-ready", "");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
