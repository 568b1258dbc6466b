/* flask-xsms SMS simulator: send as a customer, show the answers as chat bubbles, and
   poll the stored messages for replies that come later. Plain script, no build step. */
(function () {
  "use strict";

  var POLL_MS = 2000;

  function setUp(root) {
    var form = root.querySelector("[data-xsms-simulator-form]");
    if (!form) { return; }
    var chat = root.querySelector("[data-xsms-chat]");
    var empty = root.querySelector("[data-xsms-chat-empty]");
    var errorBox = root.querySelector("[data-xsms-sim-error]");
    var numberSelect = root.querySelector("[data-xsms-sim-number]");
    var customerInput = form.querySelector("[name=customer]");
    var bodyInput = root.querySelector("[data-xsms-sim-body]");
    var counter = root.querySelector("[data-xsms-sim-segments]");
    var statusTemplate = root.querySelector("template[data-xsms-status-template]");
    var csrfInput = form.querySelector("[name=csrf_token]");
    var csrfToken = csrfInput ? csrfInput.value : "";

    var shown = {};        // ids of stored messages already on screen
    var answeredLive = {}; // inbound ids whose TwiML replies are on screen
    var lastId = 0;
    var generation = 0;    // bumps when the conversation changes
    var busy = false;

    function current() {
      var option = numberSelect.options[numberSelect.selectedIndex];
      return {
        domainId: option.getAttribute("data-domain-id"),
        number: option.value,
        customer: customerInput.value.trim()
      };
    }

    function showError(text) {
      errorBox.textContent = text || "";
      errorBox.hidden = !text;
    }

    function refreshEmpty() {
      empty.hidden = chat.children.length > 0;
    }

    function bubble(direction, body, media, meta) {
      var item = document.createElement("li");
      item.className = "xsms-bubble " + (direction === "inbound" ? "xsms-bubble-in" : "xsms-bubble-out");
      item.setAttribute("data-xsms-bubble", direction);
      var text = document.createElement("span");
      text.className = "xsms-bubble-text";
      text.textContent = body || "";
      item.appendChild(text);
      (media || []).forEach(function (url) {
        var line = document.createElement("span");
        line.className = "xsms-bubble-media";
        var link = document.createElement("a");
        link.href = url;
        link.textContent = url;
        link.rel = "noopener noreferrer";
        line.appendChild(link);
        item.appendChild(line);
      });
      var label = document.createElement("span");
      label.className = "xsms-bubble-meta";
      label.textContent = meta || "";
      item.appendChild(label);
      chat.appendChild(item);
      refreshEmpty();
      chat.scrollTop = chat.scrollHeight;
      return item;
    }

    function storedMeta(message) {
      if (message.direction === "inbound") { return "Customer · " + message.status; }
      var how = message.via === "twiml" ? "TwiML reply" : "Sent later through the REST API";
      var text = how + " · " + message.status;
      if (message.error) { text += " · " + message.error; }
      return text;
    }

    function addStatusForm(item, message) {
      if (!statusTemplate || message.direction !== "outbound" || !message.sid) { return; }
      var fragment = statusTemplate.content.cloneNode(true);
      var statusForm = fragment.querySelector("[data-xsms-status-form]");
      statusForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var data = new URLSearchParams();
        data.set("csrf_token", csrfToken);
        data.set("message_id", String(message.id));
        data.set("status", statusForm.querySelector("[name=status]").value);
        post(root.getAttribute("data-status-url"), data).then(function (result) {
          if (result.message) {
            item.querySelector(".xsms-bubble-meta").textContent = storedMeta(result.message);
          }
          if (!result.ok) { showError("The status callback answered HTTP " + result.status_code + "."); }
        }).catch(function (error) { showError(error.message); });
      });
      item.appendChild(fragment);
    }

    function showStored(message) {
      if (shown[message.id]) { return; }
      shown[message.id] = true;
      lastId = Math.max(lastId, message.id);
      // Replies answered as TwiML to a message sent from this page are already shown.
      if (message.via === "twiml" && answeredLive[message.in_reply_to_id]) { return; }
      var item = bubble(message.direction, message.body, message.media, storedMeta(message));
      item.setAttribute("data-xsms-message-id", String(message.id));
      addStatusForm(item, message);
    }

    function post(url, data) {
      return fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken }
      }).then(function (response) {
        return response.json().catch(function () {
          throw new Error("The server answered HTTP " + response.status + ".");
        }).then(function (result) {
          if (!response.ok) { throw new Error(result.error || ("HTTP " + response.status)); }
          return result;
        });
      });
    }

    function poll(reset) {
      // While a message is on its way its answer is not on screen yet: wait.
      if (busy && !reset) { return Promise.resolve(); }
      var which = current();
      if (reset) {
        generation += 1;
        chat.textContent = "";
        shown = {};
        answeredLive = {};
        lastId = 0;
        refreshEmpty();
      }
      var mine = generation;
      var query = new URLSearchParams({
        domain_id: which.domainId, number: which.number, customer: which.customer, after: String(lastId)
      });
      return fetch(root.getAttribute("data-conversation-url") + "?" + query.toString(), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : { messages: [] };
      }).then(function (result) {
        if (mine !== generation || busy) { return; }
        (result.messages || []).forEach(showStored);
      }).catch(function () { /* the next poll tries again */ });
    }

    function send(url) {
      var text = bodyInput.value;
      if (busy) { return; }
      if (!text.trim()) { showError("Type a message first."); bodyInput.focus(); return; }
      var which = current();
      var data = new URLSearchParams();
      data.set("csrf_token", csrfToken);
      data.set("domain_id", which.domainId);
      data.set("number", which.number);
      data.set("customer", which.customer);
      data.set("body", text);
      busy = true;
      showError("");
      post(url, data).then(function (result) {
        root.querySelector("[data-xsms-sim-url]").textContent = result.url;
        root.querySelector("[data-xsms-sim-status]").textContent = String(result.status_code);
        root.querySelector("[data-xsms-sim-twiml]").textContent = result.twiml;
        var message = result.message;
        if (message) {
          shown[message.id] = true;
          answeredLive[message.id] = true;
          lastId = Math.max(lastId, message.id);
        }
        bubble("inbound", text, [], message ? "Customer · " + message.status : "Customer");
        if (!result.ok) {
          showError("The webhook answered HTTP " + result.status_code + ".");
        }
        result.replies.forEach(function (reply) {
          bubble("outbound", reply.body, reply.media, "TwiML reply");
        });
        bodyInput.value = "";
        updateCounter();
      }).catch(function (error) {
        showError(error.message);
      }).then(function () {
        busy = false;
        bodyInput.focus();
      });
    }

    function updateCounter() {
      if (counter) { counter.textContent = bodyInput.value.length + " characters"; }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(root.getAttribute("data-send-url"));
    });
    root.querySelector("[data-xsms-sim-fallback]").addEventListener("click", function () {
      send(root.getAttribute("data-fallback-url"));
    });
    bodyInput.addEventListener("input", updateCounter);
    bodyInput.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        send(root.getAttribute("data-send-url"));
      }
    });
    numberSelect.addEventListener("change", function () { poll(true); });
    customerInput.addEventListener("change", function () { poll(true); });

    updateCounter();
    poll(true);
    window.setInterval(function () { poll(false); }, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-xsms-simulator]").forEach(setUp);
  });
}());
