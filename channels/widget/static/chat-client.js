/*
 * The chat client: one conversation with the hub over its WebSocket. No page elements here, so the widget
 * and the voice kiosk share it. It keeps the session token the hub issued (sessionStorage by default),
 * says hello with it after every (re)connection, reconnects with back-off, and hands each frame to listeners.
 */
(function (global) {
  "use strict";

  var FIRST_RETRY_MS = 1000;
  var LONGEST_RETRY_MS = 30000;

  function ChatClient(options) {
    this.url = options.url;
    this.storage = options.storage || null;
    this.storageKey = options.storageKey || "mynaguide.session";
    this.maxChars = 2000;
    this.listeners = {};
    this.socket = null;
    this.ready = false;
    this.failures = 0;
    this.retryTimer = null;
    this.stopped = false;
  }

  ChatClient.prototype.on = function (kind, listener) {
    (this.listeners[kind] = this.listeners[kind] || []).push(listener);
    return this;
  };

  ChatClient.prototype.emit = function (kind, value) {
    (this.listeners[kind] || []).forEach(function (listener) { listener(value); });
  };

  ChatClient.prototype.session = function () {
    try {
      return this.storage ? this.storage.getItem(this.storageKey) : null;
    } catch (blocked) {
      return null;
    }
  };

  ChatClient.prototype.keepSession = function (token) {
    try {
      if (!this.storage) return;
      if (token) this.storage.setItem(this.storageKey, token);
      else this.storage.removeItem(this.storageKey);
    } catch (blocked) {
      // Storage switched off by the browser: the conversation still works until the page closes.
    }
  };

  ChatClient.prototype.connect = function () {
    var client = this;
    client.stopped = false;
    var socket = new WebSocket(client.url);
    client.socket = socket;
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "hello", session: client.session() }));
    };
    socket.onmessage = function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (notJson) {
        return;
      }
      client.receive(frame);
    };
    socket.onclose = function () {
      if (client.socket !== socket) return;
      client.ready = false;
      client.socket = null;
      if (client.stopped) return;
      client.emit("connection", "lost");
      client.retryLater();
    };
    return this;
  };

  ChatClient.prototype.retryLater = function () {
    var client = this;
    // Doubling waits with some randomness, so that many pages do not all come back in the same second.
    var wait = Math.min(FIRST_RETRY_MS * Math.pow(2, client.failures), LONGEST_RETRY_MS);
    wait = wait * (0.75 + Math.random() * 0.5);
    client.failures += 1;
    clearTimeout(client.retryTimer);
    client.retryTimer = setTimeout(function () { client.connect(); }, wait);
  };

  ChatClient.prototype.receive = function (frame) {
    if (frame.type === "welcome") {
      this.ready = true;
      this.failures = 0;
      if (frame.max_chars) this.maxChars = frame.max_chars;
      this.keepSession(frame.session);
      this.emit("connection", "open");
    } else if (frame.type === "session") {
      this.keepSession(frame.session);
    } else if (frame.type === "error" && frame.code === "session_over") {
      this.keepSession(null);
    }
    this.emit(frame.type, frame);
  };

  ChatClient.prototype.characters = function (text) {
    // Count as the hub does: by code point, so an emoji counts once.
    return Array.from(text).length;
  };

  /* Send typed text; returns "sent", or why not: "empty", "too_long" or "offline". */
  ChatClient.prototype.sendText = function (text) {
    var trimmed = (text || "").trim();
    if (!trimmed) return "empty";
    if (this.characters(trimmed) > this.maxChars) return "too_long";
    return this.send({ type: "text", text: trimmed });
  };

  ChatClient.prototype.sendReply = function (key) {
    return this.send({ type: "reply", key: key });
  };

  ChatClient.prototype.send = function (frame) {
    if (!this.ready || !this.socket || this.socket.readyState !== WebSocket.OPEN) return "offline";
    this.socket.send(JSON.stringify(frame));
    return "sent";
  };

  /* Stop for good (the kiosk's reset); forget=true also drops the kept session. */
  ChatClient.prototype.close = function (forget) {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (forget) this.keepSession(null);
    if (this.socket) this.socket.close();
  };

  global.MynaguideChatClient = ChatClient;
})(window);
