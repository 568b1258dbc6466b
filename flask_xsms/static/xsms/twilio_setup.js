/* flask-xsms settings page: show what Twilio says about each saved number, and configure
   numbers in Twilio after a confirmation. Loaded after the page, so the page never waits
   for Twilio. Plain script, no build step. */
(function () {
  "use strict";

  var CONFIGURED = "configured";
  var NOT_IN_ACCOUNT = "not_in_account";

  // WhatsApp senders and Messaging Services are configured in the Twilio console:
  // nothing to configure from here.
  var IN_CONSOLE = ["whatsapp", "messaging_service"];
  function inConsole(status) {
    return Boolean(status && status.error && IN_CONSOLE.indexOf(status.error.reason) >= 0);
  }

  function configurable(status) {
    return Boolean(status) && status.state !== CONFIGURED && status.state !== NOT_IN_ACCOUNT &&
      !inConsole(status);
  }

  function setUp(form, panel) {
    var statusUrl = panel.getAttribute("data-xsms-twilio-status-url");
    var configureUrl = panel.getAttribute("data-xsms-twilio-configure-url");
    var template = panel.querySelector("template[data-xsms-twilio-cell-template]");
    var summary = panel.querySelector("[data-xsms-twilio-summary]");
    var checkButton = panel.querySelector("[data-xsms-twilio-check]");
    var allButton = panel.querySelector("[data-xsms-twilio-configure-all]");
    var list = form.querySelector("[data-xsms-rows]");
    // Saved numbers (E.164) -> their latest status from the server.
    var statuses = {};
    var busy = false;
    var cellCount = 0;

    function rowNumber(row) {
      var input = row.querySelector("input[name$='phone_number']");
      return input ? input.value.trim() : "";
    }

    function cellOf(row) {
      var cell = row.querySelector("[data-xsms-twilio-cell]");
      if (!cell) {
        cell = template.content.firstElementChild.cloneNode(true);
        var text = cell.querySelector("[data-xsms-twilio-text]");
        text.id = "xsms-twilio-text-" + String(cellCount++);
        cell.querySelector("[data-xsms-twilio-configure]").setAttribute("aria-describedby", text.id);
        row.appendChild(cell);
      }
      return cell;
    }

    function renderRow(row) {
      var cell = cellOf(row);
      var text = cell.querySelector("[data-xsms-twilio-text]");
      var button = cell.querySelector("[data-xsms-twilio-configure]");
      var number = rowNumber(row);
      var status = statuses[number];
      // "console": not an error, so not in the error colour of "unknown".
      cell.setAttribute("data-xsms-twilio-state",
        status ? (inConsole(status) ? "console" : status.state) : "unsaved");
      if (!number) {
        text.textContent = "";
        button.hidden = true;
      } else if (!Object.prototype.hasOwnProperty.call(statuses, number)) {
        text.textContent = "Save this number to check it in Twilio.";
        button.hidden = true;
      } else if (status === null) {
        text.textContent = "Checking in Twilio…";
        button.hidden = true;
      } else {
        text.textContent = status.summary;
        button.hidden = !configurable(status);
      }
    }

    function renderAll() {
      list.querySelectorAll("[data-xsms-row]").forEach(renderRow);
      var numbers = Object.keys(statuses);
      var pending = numbers.filter(function (n) { return configurable(statuses[n]); });
      allButton.disabled = busy || pending.length === 0;
      checkButton.disabled = busy || numbers.length === 0;
    }

    function say(text) { summary.textContent = text; }

    function describe(results) {
      var counts = {};
      results.forEach(function (s) {
        var key = inConsole(s) ? "console" : s.state;
        counts[key] = (counts[key] || 0) + 1;
      });
      if (!results.length) { return "No saved numbers to check in Twilio."; }
      var parts = [];
      if (counts.configured) { parts.push(counts.configured + " configured"); }
      if (counts.not_configured) { parts.push(counts.not_configured + " not configured"); }
      if (counts.not_in_account) { parts.push(counts.not_in_account + " not in this Twilio account"); }
      if (counts.unknown) { parts.push(counts.unknown + " couldn't be checked"); }
      if (counts.console) { parts.push(counts.console + " to set in the Twilio console"); }
      return "Twilio: " + parts.join(", ") + ".";
    }

    function request(method, url, body) {
      var options = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
      if (body) { options.body = body; }
      return fetch(url, options).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            throw new Error(data.error || ("The server answered " + response.status + "."));
          }
          return data.numbers || [];
        });
      });
    }

    function remember(results) {
      results.forEach(function (s) { statuses[s.phone_number] = s; });
    }

    function clearResults() {
      list.querySelectorAll("[data-xsms-twilio-result]").forEach(function (result) {
        result.textContent = "";
      });
    }

    function check() {
      busy = true;
      clearResults();
      Object.keys(statuses).forEach(function (n) { statuses[n] = null; });
      renderAll();
      say("Checking the saved numbers in Twilio…");
      return request("GET", statusUrl).then(function (results) {
        statuses = {};
        remember(results);
        say(describe(results));
      }, function (error) {
        say("Couldn't check the numbers in Twilio: " + error.message);
      }).then(function () {
        busy = false;
        renderAll();
      });
    }

    function confirmText(targets) {
      var lines = targets.map(function (s) { return s.phone_number + ": " + s.overwrites; });
      var first = targets.length === 1
        ? "Configure " + targets[0].phone_number + " in Twilio?"
        : "Configure " + targets.length + " numbers in Twilio?";
      return first + "\n\nThis replaces:\n" + lines.join("\n") +
        "\n\nTheir SMS URL and fallback URL become this page's Request URL and Fallback URL (HTTP POST).";
    }

    // Configure ``targets`` after a confirmation. From a row's button (``row``), the outcome
    // shows in that row, beside the button; otherwise under Configure all in Twilio.
    function configure(targets, row) {
      if (!targets.length || !window.confirm(confirmText(targets))) { return; }
      var result = row ? cellOf(row).querySelector("[data-xsms-twilio-result]") : null;
      function report(text) {
        if (!result) { say(text); return; }
        result.textContent = text;
        if (result.scrollIntoView) { result.scrollIntoView({ block: "nearest" }); }
        // The row's button hides once the number is configured: keep the focus near.
        if (!document.activeElement || document.activeElement === document.body ||
            document.activeElement.hidden) {
          result.focus();
        }
      }
      clearResults();
      var body = new FormData();
      var token = form.querySelector("input[name='csrf_token']");
      if (token) { body.append("csrf_token", token.value); }
      // Exactly the numbers the operator confirmed.
      targets.forEach(function (s) { body.append("phone_number", s.phone_number); });
      busy = true;
      renderAll();
      if (result) { result.textContent = "Configuring in Twilio…"; } else { say("Configuring in Twilio…"); }
      request("POST", configureUrl, body).then(function (results) {
        remember(results);
        var failed = results.filter(function (s) { return s.state !== CONFIGURED; });
        busy = false;
        renderAll();
        if (!failed.length) {
          report(results.length === 1
            ? results[0].phone_number + " is configured in Twilio."
            : "All " + results.length + " numbers are configured in Twilio.");
        } else {
          report(failed.map(function (s) { return s.phone_number + ": " + s.summary; }).join(" "));
        }
      }, function (error) {
        busy = false;
        renderAll();
        report("Nothing was configured: " + error.message);
      });
    }

    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-xsms-twilio-configure]");
      if (!button || busy) { return; }
      var number = rowNumber(button.closest("[data-xsms-row]"));
      var status = statuses[number];
      if (status) { configure([status], button.closest("[data-xsms-row]")); }
    });
    list.addEventListener("input", function (event) {
      var row = event.target.closest("[data-xsms-row]");
      if (row) { renderRow(row); }
    });
    // Rows added or deleted by settings.js get (or lose) their cell.
    new MutationObserver(function () { renderAll(); }).observe(list, { childList: true });

    checkButton.addEventListener("click", function () { if (!busy) { check(); } });
    allButton.addEventListener("click", function () {
      if (busy) { return; }
      configure(Object.keys(statuses).map(function (n) { return statuses[n]; }).filter(configurable));
    });

    // The page's saved numbers, until the server says more.
    list.querySelectorAll("[data-xsms-row]").forEach(function (row) {
      if (rowNumber(row) && !form.hasAttribute("data-xsms-unsaved")) { statuses[rowNumber(row)] = null; }
    });
    if (Object.keys(statuses).length || form.hasAttribute("data-xsms-unsaved")) {
      check();
    } else {
      say("No saved numbers to check in Twilio.");
      renderAll();
    }
  }

  function init() {
    var form = document.querySelector("form[data-xsms-settings]");
    var panel = form && form.querySelector("[data-xsms-twilio]");
    if (panel) { setUp(form, panel); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
