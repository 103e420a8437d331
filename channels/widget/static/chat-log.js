/*
 * The conversation as a resident reads it: messages in a role="log" element, ふりがな over the kanji when asked,
 * and the newest quick replies as buttons. Text goes onto the page only as text (textContent), never as HTML.
 * No connection here: the widget (and, later, the voice kiosk) feed it messages from the chat client.
 */
(function (global) {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* A message's text as nodes: lines split at newlines, readings over kanji when withReadings is true. */
  function renderText(target, message, withReadings) {
    while (target.firstChild) target.removeChild(target.firstChild);
    var segments = withReadings && message.ruby && message.ruby.length ? message.ruby : [[message.text, ""]];
    segments.forEach(function (segment) {
      var base = segment[0];
      var reading = segment[1];
      if (reading) {
        var ruby = el("ruby");
        ruby.appendChild(document.createTextNode(base));
        ruby.appendChild(el("rp", "", "（"));
        ruby.appendChild(el("rt", "", reading));
        ruby.appendChild(el("rp", "", "）"));
        target.appendChild(ruby);
        return;
      }
      base.split("\n").forEach(function (line, index) {
        if (index) target.appendChild(document.createElement("br"));
        if (line) target.appendChild(document.createTextNode(line));
      });
    });
  }

  /*
   * options.words: {you, bot, staff, replies}, the hidden speaker labels and the buttons' group name;
   * options.onReply(reply): called when a quick reply is tapped; options.readings: ふりがな at start.
   */
  function ChatLog(element, options) {
    this.element = element;
    this.words = options.words;
    this.onReply = options.onReply;
    this.readings = !!options.readings;
    this.shown = [];
  }

  ChatLog.prototype.clear = function () {
    this.shown = [];
    while (this.element.firstChild) this.element.removeChild(this.element.firstChild);
  };

  ChatLog.prototype.isEmpty = function () {
    return this.shown.length === 0;
  };

  ChatLog.prototype.show = function (message) {
    var from = message.from || "bot";
    var words = this.words;
    var item = el("div", "mgw-message mgw-from-" + from);
    item.appendChild(el("span", "mgw-hidden", from === "resident" ? words.you : from === "staff" ? words.staff : words.bot));
    var text = el("p", "mgw-text");
    renderText(text, message, this.readings);
    item.appendChild(text);
    this.element.appendChild(item);
    this.shown.push({ message: message, node: text });
    this.element.scrollTop = this.element.scrollHeight;
  };

  ChatLog.prototype.setReadings = function (on) {
    this.readings = on;
    this.shown.forEach(function (entry) { renderText(entry.node, entry.message, on); });
    Array.prototype.forEach.call(this.element.querySelectorAll(".mgw-reply"), function (button) {
      renderText(button, button.mgwReply, on);
    });
  };

  /* The quick replies of the newest message, when it is the assistant's and has any. */
  ChatLog.prototype.offerReplies = function () {
    var log = this;
    var last = this.shown[this.shown.length - 1];
    if (!last || last.message.from === "resident" || !(last.message.quick_replies || []).length) return;
    var group = el("div", "mgw-replies");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", this.words.replies);
    last.message.quick_replies.forEach(function (reply) {
      var button = el("button", "mgw-reply");
      button.type = "button";
      button.mgwReply = { text: reply.title, ruby: reply.ruby };
      renderText(button, button.mgwReply, log.readings);
      button.addEventListener("click", function () { log.onReply(reply); });
      group.appendChild(button);
    });
    this.element.appendChild(group);
    this.element.scrollTop = this.element.scrollHeight;
  };

  ChatLog.prototype.dropReplies = function () {
    Array.prototype.forEach.call(this.element.querySelectorAll(".mgw-replies"), function (group) {
      group.parentNode.removeChild(group);
    });
  };

  ChatLog.renderText = renderText;
  global.MynaguideChatLog = ChatLog;
})(window);
