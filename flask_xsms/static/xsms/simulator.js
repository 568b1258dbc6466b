/* flask-xsms SMS simulator: send as a customer (by SMS, or on WhatsApp to a WhatsApp
   sender), show the answers as chat bubbles, and poll the stored messages for replies
   that come later. Plain script, no build step. */
(function () {
  "use strict";

  var POLL_MS = 2000;

  // SMS segments, counted as flask_xsms.segments counts them: GSM-7 texts take 160
  // characters in one segment and 153 in each part of a longer one (the extension
  // characters take two); any other character makes the text UCS-2: 70, or 67 a part,
  // in UTF-16 code units.
  var GSM7_BASIC = "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5" +
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u001b\u00c6\u00e6\u00df\u00c9" +
    " !\"#\u00a4%&'()*+,-./0123456789:;<=>?\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc" +
    "\u00a7\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0";
  var GSM7_EXTENSION = "\f^{}\\[~]|\u20ac";

  function countSegments(text) {
    var units = 0;
    var gsm7 = true;
    for (var i = 0; i < text.length; i++) {
      var ch = text.charAt(i);
      if (GSM7_EXTENSION.indexOf(ch) >= 0) { units += 2; }
      else if (GSM7_BASIC.indexOf(ch) >= 0) { units += 1; }
      else { gsm7 = false; break; }
    }
    if (!gsm7) { units = text.length; }
    var single = gsm7 ? 160 : 70;
    var part = gsm7 ? 153 : 67;
    return {
      encoding: gsm7 ? "GSM-7" : "UCS-2",
      segments: units <= single ? 1 : Math.ceil(units / part)
    };
  }

  function plural(count, word) { return count + " " + word + (count === 1 ? "" : "s"); }

  // Only web addresses become links: a bubble never offers a javascript: or data: URL.
  function isWebUrl(url) { return /^https?:\/\//i.test(url || ""); }

  function setUp(root) {
    var form = root.querySelector("[data-xsms-simulator-form]");
    if (!form) { return; }
    var chat = root.querySelector("[data-xsms-chat]");
    var frame = root.querySelector("[data-xsms-chat-frame]") || chat;
    var empty = root.querySelector("[data-xsms-chat-empty]");
    var errorBox = root.querySelector("[data-xsms-sim-error]");
    var numberSelect = root.querySelector("[data-xsms-sim-number]");
    var customerInput = form.querySelector("[name=customer]");
    var bodyInput = root.querySelector("[data-xsms-sim-body]");
    var counter = root.querySelector("[data-xsms-sim-segments]");
    var channelRadios = Array.prototype.slice.call(form.querySelectorAll("[name=channel]"));
    var channelHelp = root.querySelector("[data-xsms-sim-channel-help]");
    var prefix = root.querySelector("[data-xsms-sim-prefix]");
    var profileField = root.querySelector("[data-xsms-sim-profile]");
    var profileInput = form.querySelector("[name=profile_name]");
    var mediaInput = form.querySelector("[name=media_urls]");
    var statusTemplate = root.querySelector("template[data-xsms-status-template]");
    var csrfInput = form.querySelector("[name=csrf_token]");
    var csrfToken = csrfInput ? csrfInput.value : "";

    var shown = {};        // ids of stored messages already on screen
    var answeredLive = {}; // inbound ids whose TwiML replies are on screen
    var lastId = 0;
    var generation = 0;    // bumps when the conversation changes
    var showing = "";      // which conversation is on screen (number and customer)
    var busy = false;

    function current() {
      var option = numberSelect.options[numberSelect.selectedIndex];
      return {
        domainId: option.getAttribute("data-domain-id"),
        number: option.value,
        channel: option.getAttribute("data-channel") || "sms",
        customer: customerInput.value.trim()
      };
    }

    // The channel follows the chosen number: a WhatsApp sender is reached on WhatsApp
    // only, any other number on SMS only. WhatsApp shows the customer's whatsapp: prefix
    // and profile name; it has no segments to count.
    function showChannel() {
      var whatsapp = current().channel === "whatsapp";
      channelRadios.forEach(function (radio) {
        radio.checked = radio.value === (whatsapp ? "whatsapp" : "sms");
      });
      if (channelHelp) {
        channelHelp.textContent = channelHelp.getAttribute(whatsapp ? "data-whatsapp-text" : "data-sms-text");
      }
      if (prefix) { prefix.hidden = !whatsapp; }
      if (profileField) { profileField.hidden = !whatsapp; }
      if (counter) {
        counter.hidden = whatsapp;
        if (whatsapp) { bodyInput.removeAttribute("aria-describedby"); }
        else { bodyInput.setAttribute("aria-describedby", counter.id); }
      }
    }

    // Choosing a channel chooses its first number, in the same IA Domain when it has one.
    function chooseChannel(channel) {
      var domainId = current().domainId;
      var options = Array.prototype.slice.call(numberSelect.options).filter(function (option) {
        return (option.getAttribute("data-channel") || "sms") === channel;
      });
      var pick = options.filter(function (option) {
        return option.getAttribute("data-domain-id") === domainId;
      })[0] || options[0];
      if (pick && !pick.selected) {
        pick.selected = true;
        numberSelect.dispatchEvent(new Event("change"));
      } else {
        showChannel();
      }
    }

    function showError(text) {
      errorBox.textContent = text || "";
      errorBox.hidden = !text;
    }

    function refreshEmpty() {
      empty.hidden = chat.children.length > 0;
    }

    function scrollDown() { frame.scrollTop = frame.scrollHeight; }

    // A line of its own in the conversation: what happened to a STOP, START or HELP.
    function note(text) {
      var item = document.createElement("li");
      item.className = "xsms-chat-note";
      item.setAttribute("data-xsms-note", "");
      item.textContent = text;
      chat.appendChild(item);
      refreshEmpty();
      scrollDown();
      return item;
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
        line.setAttribute("data-xsms-media", "");
        var link = document.createElement(isWebUrl(url) ? "a" : "span");
        if (isWebUrl(url)) {
          link.href = url;
          link.rel = "noopener noreferrer";
        }
        link.textContent = url;
        line.appendChild(link);
        item.appendChild(line);
      });
      var label = document.createElement("span");
      label.className = "xsms-bubble-meta";
      label.textContent = meta || "";
      item.appendChild(label);
      chat.appendChild(item);
      refreshEmpty();
      scrollDown();
      return item;
    }

    // Who wrote: "Customer", or on WhatsApp the profile name they go by there.
    function customerMeta(message) {
      if (message.channel !== "whatsapp") { return "Customer · " + message.status; }
      return (message.profile_name || "Customer") + " on WhatsApp · " + message.status;
    }

    function storedMeta(message) {
      if (message.direction === "inbound") { return customerMeta(message); }
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
      // The form alone: the template's line breaks would show in the bubble's text.
      item.appendChild(statusForm);
      scrollDown();
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
      if (message.note) { note(message.note); }
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
      // A change event that names the conversation on screen (the field left after a
      // typed value was loaded already) keeps it: its buttons stay where they are.
      var key = which.domainId + " " + which.number + " " + which.customer;
      if (reset && key === showing) { reset = false; }
      showing = key;
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
      var media = mediaInput ? mediaInput.value.trim() : "";
      if (busy) { return; }
      if (!text.trim() && !media) {
        showError("Type a message, or give a media URL."); bodyInput.focus(); return;
      }
      var which = current();
      var data = new URLSearchParams();
      data.set("csrf_token", csrfToken);
      data.set("domain_id", which.domainId);
      data.set("number", which.number);
      data.set("channel", which.channel);
      data.set("customer", which.customer);
      data.set("body", text);
      data.set("media_urls", media);
      if (which.channel === "whatsapp" && profileInput) {
        data.set("profile_name", profileInput.value.trim());
      }
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
        if (message) {
          bubble("inbound", message.body, message.media, customerMeta(message));
        } else {
          bubble("inbound", text, media.split(/\s+/).filter(Boolean), "Customer");
        }
        if (message && message.note) { note(message.note); }
        if (!result.ok) {
          showError("The webhook answered HTTP " + result.status_code + ".");
        }
        result.replies.forEach(function (reply) {
          bubble("outbound", reply.body, reply.media, "TwiML reply");
        });
        bodyInput.value = "";
        if (mediaInput) { mediaInput.value = ""; }
        updateCounter();
      }).catch(function (error) {
        showError(error.message);
      }).then(function () {
        busy = false;
        bodyInput.focus();
      });
    }

    function updateCounter() {
      if (!counter) { return; }
      var text = bodyInput.value;
      var count = countSegments(text);
      // Characters as people count them: an emoji is one.
      counter.textContent = plural(Array.from(text).length, "character") + " \u00b7 " +
        plural(count.segments, "segment") + " (" + count.encoding + ")";
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
    numberSelect.addEventListener("change", function () { showChannel(); poll(true); });
    customerInput.addEventListener("change", function () { poll(true); });
    channelRadios.forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio.checked) { chooseChannel(radio.value); }
      });
    });

    showChannel();
    updateCounter();
    poll(true);
    window.setInterval(function () { poll(false); }, POLL_MS);
    // Scripts of the host (and tests) can wait for this before they act on the page.
    root.setAttribute("data-xsms-ready", "");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-xsms-simulator]").forEach(setUp);
  });
}());
