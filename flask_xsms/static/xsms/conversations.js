/* flask-xsms conversation thread: poll the conversation's stored messages, add the new
   ones as bubbles, update delivery statuses and the conversation's state. Plain script,
   no build step; without it a reload shows everything. */
(function () {
  "use strict";

  var POLL_MS = 2500;
  // Messages still watched for a new status: those among the last WATCHED bubbles.
  var WATCHED = 50;

  function setUp(root) {
    var thread = root.querySelector("[data-xsms-thread]");
    var empty = root.querySelector("[data-xsms-thread-empty]");
    var template = root.querySelector("template[data-xsms-bubble-template]");
    var url = root.getAttribute("data-messages-url");
    var lastId = parseInt(root.getAttribute("data-last-id"), 10) || 0;
    var busy = false;

    function bubbles() { return thread.querySelectorAll("[data-xsms-message-id]"); }

    function byId(id) {
      var found = null;
      bubbles().forEach(function (item) {
        if (item.getAttribute("data-xsms-message-id") === String(id)) { found = item; }
      });
      return found;
    }

    // The id to ask for messages after: the last shown one, or just before the oldest
    // recent message whose status may still change.
    function after() {
      var items = bubbles();
      var from = Math.max(0, items.length - WATCHED);
      for (var i = from; i < items.length; i++) {
        if (!items[i].hasAttribute("data-xsms-settled")) {
          var id = parseInt(items[i].getAttribute("data-xsms-message-id"), 10);
          return Math.min(lastId, id - 1);
        }
      }
      return lastId;
    }

    function fill(item, message) {
      item.className = "xsms-cv-bubble xsms-cv-" + message.side;
      item.setAttribute("data-xsms-bubble", message.side);
      item.setAttribute("data-xsms-message-id", String(message.id));
      item.querySelector("[data-xsms-sender]").textContent = message.sender;
      item.querySelector("[data-xsms-text]").textContent = message.body;
      var time = item.querySelector("[data-xsms-time]");
      time.setAttribute("datetime", message.created_at);
      time.textContent = message.time;
      var media = item.querySelector("[data-xsms-media]");
      media.textContent = "";
      message.media.forEach(function (m) {
        var line = document.createElement("li");
        if (m.link) {
          var link = document.createElement("a");
          link.href = m.url;
          link.rel = "noopener noreferrer";
          link.target = "_blank";
          link.textContent = m.url;
          line.appendChild(link);
        } else {
          line.appendChild(document.createTextNode(m.url));
        }
        if (m.content_type) {
          var type = document.createElement("span");
          type.className = "xsms-muted";
          type.textContent = " (" + m.content_type + ")";
          line.appendChild(type);
        }
        media.appendChild(line);
      });
      media.hidden = message.media.length === 0;
      update(item, message);
    }

    function update(item, message) {
      item.setAttribute("data-xsms-status", message.status);
      if (message.settled) { item.setAttribute("data-xsms-settled", ""); }
      else { item.removeAttribute("data-xsms-settled"); }
      item.querySelector("[data-xsms-status-words]").textContent = message.status_words;
      var error = item.querySelector("[data-xsms-error]");
      error.textContent = message.error || "";
      error.hidden = !message.error;
    }

    function nearBottom() {
      var page = document.scrollingElement || document.documentElement;
      return page.scrollHeight - (page.scrollTop + window.innerHeight) < 200;
    }

    function add(message) {
      var item = template.content.firstElementChild.cloneNode(true);
      fill(item, message);
      item.classList.add("xsms-cv-new");
      var follow = nearBottom();
      thread.appendChild(item);
      empty.hidden = true;
      if (follow) { item.scrollIntoView({ block: "nearest" }); }
    }

    function showState(view) {
      var state = root.querySelector("[data-xsms-state]");
      state.setAttribute("data-xsms-state", view.state);
      state.textContent = view.words;
      var reason = root.querySelector("[data-xsms-reason]");
      reason.textContent = view.reason ? "The chatbot asked for a person: " + view.reason : "";
      reason.hidden = !view.reason;
      root.querySelector("[data-xsms-take-over]").hidden = !view.can_take_over;
      root.querySelector("[data-xsms-hand-back]").hidden = !view.can_hand_back;
      root.querySelector("[data-xsms-reply]").hidden = !view.can_reply;
      root.querySelector("[data-xsms-closed]").hidden = view.can_reply;
      var help = root.querySelector("[data-xsms-reply-help]");
      help.textContent = help.getAttribute(view.yours ? "data-yours" : "data-not-yours");
    }

    function poll() {
      if (busy || document.hidden) { return; }
      busy = true;
      var query = new URLSearchParams({ after: String(after()) });
      fetch(url + "?" + query.toString(), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (result) {
        if (!result) { return; }
        result.messages.forEach(function (message) {
          var item = byId(message.id);
          if (item) { update(item, message); }
          else { add(message); }
          lastId = Math.max(lastId, message.id);
        });
        showState(result.conversation);
      }).catch(function () { /* the next poll tries again */ }).then(function () {
        busy = false;
      });
    }

    window.setInterval(poll, POLL_MS);
    document.addEventListener("visibilitychange", poll);
    // Scripts of the host (and tests) can wait for this before they act on the page.
    root.setAttribute("data-xsms-ready", "");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-xsms-conversation][data-messages-url]").forEach(setUp);
  });
}());
