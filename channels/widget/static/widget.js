/*
 * The web chat widget. A city page embeds it with one tag:
 *   <script src="https://HUB/channels/widget/static/widget.js" defer></script>
 * and may set window.MynaguideWidget = { ... } before it (options in README.md). It loads its style sheet
 * and the shared chat client from the same place, builds the chat window, and talks to the hub through the
 * client. Every text from the hub or the resident is put on the page as text (textContent), never as HTML.
 */
(function () {
  "use strict";

  if (window.__mynaguideWidget) return;
  window.__mynaguideWidget = true;

  var script = document.currentScript;
  var staticBase = new URL(".", script.src);
  var config = window.MynaguideWidget || {};
  window.MynaguideWidget = config;
  var hub = new URL(config.hub || "/", script.src);

  var TEXT = {
    title: config.title || "マイナンバーカードの相談",
    launcher: config.launcherLabel || "相談する",
    unread: "新しいメッセージがあります",
    close: "閉じる",
    closeLabel: "チャットを閉じる",
    tools: "表示の切りかえ",
    bigger: "文字を大きく",
    furigana: "ふりがな",
    contrast: "くっきり表示",
    privacy: "マイナンバーや暗証番号は、書かないでください。",
    log: "会話",
    input: "メッセージ",
    hint: "Enterキーで送ります。改行は Shift＋Enter です。",
    send: "送る",
    human: "人と話す",
    humanText: "人と話したい",
    typing: "お返事を書いています",
    replies: "選んでください",
    you: "あなた：",
    bot: "アシスタント：",
    staff: "職員：",
    lost: "つながっていません。つなぎなおしています。",
    back: "つながりました。",
    offline: "いまは送れません。つながるまで、少しお待ちください。",
    empty: "文字を入れてから、送ってください。",
    tooLong: function (max) { return "メッセージが長すぎます。" + max + "文字までにして、送ってください。"; }
  };

  // Milliseconds per character of an opening message, so each stays long enough to be read.
  var PACE = typeof config.pace === "number" ? config.pace : 90;
  var storage = null;
  try {
    storage = config.storage === "local" ? window.localStorage : window.sessionStorage;
  } catch (blocked) {
    storage = null;
  }
  var PREFS_KEY = "mynaguide.widget";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function prefs() {
    try {
      return JSON.parse((storage && storage.getItem(PREFS_KEY)) || "{}") || {};
    } catch (bad) {
      return {};
    }
  }

  function savePrefs(values) {
    try {
      if (storage) storage.setItem(PREFS_KEY, JSON.stringify(values));
    } catch (blocked) {
      // Without storage the choices last until the page closes.
    }
  }

  function loadStyle() {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("widget.css", staticBase).href;
    document.head.appendChild(link);
  }

  /* The shared parts, in order: the connection, then the log. */
  function loadParts(then) {
    var parts = [];
    if (!window.MynaguideChatClient) parts.push("chat-client.js");
    if (!window.MynaguideChatLog) parts.push("chat-log.js");
    (function next() {
      var part = parts.shift();
      if (!part) return then();
      var tag = document.createElement("script");
      tag.src = new URL(part, staticBase).href;
      tag.onload = next;
      document.head.appendChild(tag);
    })();
  }

  function Widget() {
    var saved = prefs();
    this.state = {
      open: saved.open === undefined ? !!config.open : !!saved.open,
      larger: saved.larger === undefined ? config.textSize === "larger" : !!saved.larger,
      furigana: saved.furigana === undefined ? !!config.furigana : !!saved.furigana,
      contrast: saved.contrast === undefined ? !!config.contrast : !!saved.contrast
    };
    this.openingShown = false;
    this.opening = null;
    this.pacing = null;
    this.build();
    this.apply();
    var scheme = hub.protocol === "https:" ? "wss:" : "ws:";
    this.client = new window.MynaguideChatClient({
      url: scheme + "//" + hub.host + "/channels/widget/socket",
      storage: storage,
      storageKey: "mynaguide.session"
    });
    this.listen();
    this.client.connect();
  }

  Widget.prototype.build = function () {
    var widget = this;
    var root = el("div", "mgw-root");
    root.lang = "ja";

    var launcher = el("button", "mgw-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "mgw-panel");
    launcher.appendChild(el("span", "mgw-launcher-icon", "💬")).setAttribute("aria-hidden", "true");
    launcher.appendChild(el("span", "", TEXT.launcher));
    var unread = el("span", "mgw-unread", TEXT.unread);
    unread.hidden = true;
    launcher.appendChild(unread);

    var panel = el("section", "mgw-panel");
    panel.id = "mgw-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "mgw-title");
    panel.hidden = true;

    var header = el("div", "mgw-header");
    var title = el("h2", "mgw-title", TEXT.title);
    title.id = "mgw-title";
    var close = el("button", "mgw-close", TEXT.close);
    close.type = "button";
    close.setAttribute("aria-label", TEXT.closeLabel);
    header.appendChild(title);
    header.appendChild(close);

    var tools = el("div", "mgw-tools");
    tools.setAttribute("role", "group");
    tools.setAttribute("aria-label", TEXT.tools);
    var bigger = this.toggle(TEXT.bigger, "larger");
    var furigana = this.toggle(TEXT.furigana, "furigana");
    var contrast = this.toggle(TEXT.contrast, "contrast");
    tools.appendChild(bigger);
    tools.appendChild(furigana);
    tools.appendChild(contrast);

    var privacy = el("p", "mgw-privacy", TEXT.privacy);
    privacy.id = "mgw-privacy";

    // The log is on the page before any message, so screen readers announce what is added to it.
    var log = el("div", "mgw-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", TEXT.log);
    log.tabIndex = 0;

    var typing = el("div", "mgw-typing");
    typing.setAttribute("role", "status");
    var connection = el("div", "mgw-connection");
    connection.setAttribute("role", "status");
    var problem = el("div", "mgw-problem");
    problem.setAttribute("role", "alert");

    var form = el("form", "mgw-form");
    form.noValidate = true;
    var label = el("label", "mgw-label", TEXT.input);
    label.htmlFor = "mgw-input";
    var input = el("textarea", "mgw-input");
    input.id = "mgw-input";
    input.rows = 2;
    input.setAttribute("aria-describedby", "mgw-hint mgw-privacy");
    input.setAttribute("autocomplete", "off");
    var hint = el("p", "mgw-hint", TEXT.hint);
    hint.id = "mgw-hint";
    var actions = el("div", "mgw-actions");
    var send = el("button", "mgw-send", TEXT.send);
    send.type = "submit";
    var human = el("button", "mgw-human", TEXT.human);
    human.type = "button";
    actions.appendChild(send);
    actions.appendChild(human);
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(hint);
    form.appendChild(actions);

    [header, tools, privacy, log, typing, connection, problem, form].forEach(function (part) {
      panel.appendChild(part);
    });
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(root);

    this.root = root;
    this.launcher = launcher;
    this.unread = unread;
    this.panel = panel;
    this.log = log;
    this.chat = new window.MynaguideChatLog(log, {
      words: { you: TEXT.you, bot: TEXT.bot, staff: TEXT.staff, replies: TEXT.replies },
      readings: this.state.furigana,
      onReply: function (reply) { widget.reply(reply); }
    });
    this.typing = typing;
    this.connection = connection;
    this.problem = problem;
    this.input = input;
    this.toggles = { larger: bigger, furigana: furigana, contrast: contrast };

    launcher.addEventListener("click", function () { widget.setOpen(true); });
    close.addEventListener("click", function () { widget.setOpen(false); });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        widget.setOpen(false);
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      widget.sendTyped();
    });
    human.addEventListener("click", function () { widget.sendText(TEXT.humanText); });
    this.watchComposition(input);
  };

  Widget.prototype.toggle = function (label, name) {
    var widget = this;
    var button = el("button", "mgw-tool", label);
    button.type = "button";
    button.addEventListener("click", function () {
      widget.state[name] = !widget.state[name];
      widget.apply();
      if (name === "furigana") widget.chat.setReadings(widget.state.furigana);
    });
    return button;
  };

  /* Enter sends, except while the IME is still converting: then it only confirms the conversion. */
  Widget.prototype.watchComposition = function (input) {
    var widget = this;
    var composing = false;
    input.addEventListener("compositionstart", function () { composing = true; });
    input.addEventListener("compositionend", function () { composing = false; });
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
      // isComposing on current browsers; keyCode 229 on older ones and on Safari right after the conversion.
      if (event.isComposing || composing || event.keyCode === 229) return;
      event.preventDefault();
      widget.sendTyped();
    });
  };

  Widget.prototype.apply = function () {
    var state = this.state;
    this.root.classList.toggle("mgw-larger", state.larger);
    this.root.classList.toggle("mgw-contrast", state.contrast);
    this.root.classList.toggle("mgw-furigana", state.furigana);
    Object.keys(this.toggles).forEach(function (name) {
      this.toggles[name].setAttribute("aria-pressed", state[name] ? "true" : "false");
    }, this);
    this.panel.hidden = !state.open;
    this.launcher.hidden = state.open;
    this.launcher.setAttribute("aria-expanded", state.open ? "true" : "false");
    savePrefs(state);
  };

  /* A message came while the window was closed (a staff reply): the launcher says so, in words too. */
  Widget.prototype.setUnread = function (unread) {
    this.unread.hidden = !unread;
  };

  Widget.prototype.setOpen = function (open) {
    this.state.open = open;
    if (open) this.setUnread(false);
    this.apply();
    if (open) {
      this.startOpening();
      this.input.focus();
    } else {
      this.launcher.focus();
    }
  };

  Widget.prototype.listen = function () {
    var widget = this;
    var client = this.client;
    client.on("welcome", function (frame) {
      widget.opening = frame.opening || [];
      if (frame.history && frame.history.length) {
        // A reload or a reconnection: the conversation so far, at once, instead of a blank window.
        widget.clearLog();
        widget.openingShown = true;
        widget.opening.forEach(function (message) { widget.chat.show(message); });
        frame.history.forEach(function (message) { widget.chat.show(message); });
        widget.chat.offerReplies();
      } else if (!frame.session && widget.startedOver) {
        widget.startedOver = false;
        widget.clearLog();
        widget.openingShown = false;
      }
      if (widget.state.open) widget.startOpening();
    });
    client.on("messages", function (frame) {
      // An answer ends the wait; the hub says "typing" again right after if more is on its way.
      widget.setTyping(false);
      if (!widget.state.open) widget.setUnread(true);
      widget.finishOpening();
      widget.chat.dropReplies();
      frame.messages.forEach(function (message) { widget.chat.show(message); });
      widget.chat.offerReplies();
    });
    client.on("typing", function (frame) { widget.setTyping(frame.on); });
    client.on("error", function (frame) {
      if (frame.code === "session_over") widget.startedOver = true;
      widget.tell(frame.message);
    });
    client.on("connection", function (state) {
      var connection = widget.connection;
      connection.textContent = state === "lost" ? TEXT.lost : (widget.wasLost ? TEXT.back : "");
      widget.wasLost = state === "lost";
      if (state === "lost") widget.setTyping(false);
      else setTimeout(function () { if (connection.textContent === TEXT.back) connection.textContent = ""; }, 8000);
    });
  };

  /* The opening, one message at a time, the first time the window opens in a conversation. */
  Widget.prototype.startOpening = function () {
    var widget = this;
    if (widget.openingShown || !widget.opening) return;
    widget.openingShown = true;
    widget.openingQueue = widget.opening.slice();
    function next() {
      var message = widget.openingQueue.shift();
      if (!message) {
        widget.pacing = null;
        widget.setTyping(false);
        return;
      }
      widget.chat.show(message);
      widget.setTyping(widget.openingQueue.length > 0);
      widget.pacing = setTimeout(next, PACE * Array.from(message.text).length);
    }
    next();
  };

  /* The rest of the opening at once: the resident is already talking. */
  Widget.prototype.finishOpening = function () {
    if (!this.pacing) return;
    clearTimeout(this.pacing);
    this.pacing = null;
    var rest = this.openingQueue || [];
    this.openingQueue = [];
    rest.forEach(function (message) { this.chat.show(message); }, this);
    this.setTyping(false);
  };

  Widget.prototype.clearLog = function () {
    clearTimeout(this.pacing);
    this.pacing = null;
    this.openingQueue = [];
    this.chat.clear();
  };

  /* A tapped quick reply: sent, the buttons gone, the choice in the log as the resident's answer. */
  Widget.prototype.reply = function (reply) {
    if (this.client.sendReply(reply.key) !== "sent") return this.tell(TEXT.offline);
    this.tell("");
    this.chat.dropReplies();
    this.chat.show({ from: "resident", text: reply.title, ruby: reply.ruby });
    this.input.focus();
  };

  Widget.prototype.sendTyped = function () {
    if (this.sendText(this.input.value)) this.input.value = "";
  };

  Widget.prototype.sendText = function (text) {
    var result = this.client.sendText(text);
    if (result === "sent") {
      this.finishOpening();
      this.tell("");
      this.chat.dropReplies();
      this.chat.show({ from: "resident", text: text.trim(), ruby: [] });
      return true;
    }
    this.tell(result === "empty" ? TEXT.empty : result === "too_long" ? TEXT.tooLong(this.client.maxChars) : TEXT.offline);
    return false;
  };

  Widget.prototype.tell = function (text) {
    this.problem.textContent = text;
  };

  Widget.prototype.setTyping = function (on) {
    var typing = this.typing;
    while (typing.firstChild) typing.removeChild(typing.firstChild);
    if (!on) return;
    var dots = el("span", "mgw-dots");
    dots.setAttribute("aria-hidden", "true");
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    typing.appendChild(dots);
    typing.appendChild(el("span", "", TEXT.typing));
  };

  function start() {
    loadParts(function () {
      var widget = new Widget();
      config.widget = {
        open: function () { widget.setOpen(true); },
        close: function () { widget.setOpen(false); },
        client: widget.client
      };
    });
  }

  loadStyle();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
