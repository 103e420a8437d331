/*
 * The voice kiosk's page: one conversation at a time on a shared device. Every message from the hub is shown
 * in large text with ふりがな and spoken, one at a time; the resident answers by voice (the browser's speech
 * recognition, or the operator's speech-to-text service) or by touching a button. After a quiet while it asks
 * 「続けますか？」, and without an answer it clears the screen and the browser's storage and starts afresh.
 * Connection and log come from the widget (chat-client.js, chat-log.js).
 */
(function () {
  "use strict";

  var body = document.body;
  var config = window.MynaguideKiosk || {};
  // Pause between two spoken messages, in ms; tests may shorten it and play the audio faster.
  var PACE = typeof config.pace === "number" ? config.pace : 700;
  var RATE = typeof config.rate === "number" ? config.rate : 1;
  // Without sound, each message stays alone on screen for about the time it takes to read it.
  var READING_MS_PER_CHARACTER = typeof config.reading === "number" ? config.reading : 150;
  var IDLE_MS = Number(body.getAttribute("data-idle-seconds")) * 1000;
  var ANSWER_MS = Number(body.getAttribute("data-answer-seconds")) * 1000;
  var SERVER_LISTENS = body.getAttribute("data-listen") === "on";
  var LONGEST_RECORDING_MS = 15000;
  var STORAGE_KEY = "mynaguide.kiosk.session";
  // What the page says by itself: from channels/kiosk/wording.py, so that it is checked and spoken ahead of time.
  var TEXT = JSON.parse(body.getAttribute("data-words"));
  var SPEAK_LABEL = "話す";
  var RECORDING_LABEL = "話しおわった";

  function $(id) { return document.getElementById(id); }

  var logElement = $("kiosk-log");
  var statusLine = $("kiosk-status");
  var voice = $("kiosk-voice");
  var speakButton = $("kiosk-speak");
  var slowButton = $("kiosk-slow");
  var muteButton = $("kiosk-mute");
  var askDialog = $("kiosk-ask");
  var cardDialog = $("kiosk-card");
  var startScreen = $("kiosk-start");

  var log = new window.MynaguideChatLog(logElement, {
    words: { you: "あなた：", bot: "案内：", staff: "係の人：", replies: "答えをえらぶボタン" },
    readings: true,
    onReply: reply
  });

  var state = {
    client: null,
    opening: null,
    started: false,
    queue: [],
    current: null,
    lastSpoken: null,
    pacing: null,
    slow: false,
    muted: false,
    lastActivity: Date.now(),
    askedAt: null,
    recorder: null,
    saying: 0
  };

  /* ---- The conversation ---- */

  function connect() {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var client = new window.MynaguideChatClient({
      url: scheme + "//" + location.host + "/channels/kiosk/socket",
      storage: window.sessionStorage,
      storageKey: STORAGE_KEY
    });
    state.client = client;
    client.on("welcome", function (frame) {
      // A previous resident's conversation is never shown: only the opening of a new one is kept.
      if (log.isEmpty() && !state.queue.length) {
        state.opening = frame.opening || [];
        if (state.started) enqueue(state.opening);
      }
    });
    client.on("messages", function (frame) {
      log.dropReplies();
      enqueue(frame.messages.filter(function (message) { return message.from !== "resident"; }));
    });
    client.on("error", function (frame) { tell(frame.message, true); });
    client.on("connection", function (kind) { tell(kind === "lost" ? TEXT.offline : "", false); });
    client.connect();
  }

  function enqueue(messages) {
    state.queue = state.queue.concat(messages);
    if (!state.current) next();
  }

  /* Show the next message and speak it; the one after waits until it has been said. */
  function next() {
    clearTimeout(state.pacing);
    var message = state.queue.shift();
    state.current = message || null;
    if (!message) return;
    touched();
    log.show(message);
    if (!state.queue.length) log.offerReplies();
    state.lastSpoken = message.text;
    say(message.text, function () { state.pacing = setTimeout(next, PACE); });
  }

  function reply(choice) {
    if (state.client.sendReply(choice.key) !== "sent") return tell(TEXT.offline, true);
    log.dropReplies();
    log.show({ from: "resident", text: choice.title, ruby: choice.ruby });
  }

  /* The resident is already answering: the rest of what waits is shown at once, and nothing more is said. */
  function hush() {
    silence();
    clearTimeout(state.pacing);
    var rest = state.queue;
    state.queue = [];
    state.current = null;
    rest.forEach(function (message) { log.show(message); });
  }

  function sendText(text) {
    var result = state.client.sendText(text);
    if (result !== "sent") return tell(TEXT.offline, true);
    hush();
    log.dropReplies();
    log.show({ from: "resident", text: text.trim(), ruby: [] });
    tell("", false);
  }

  /* ---- Speech out ---- */

  function speechUrl(text) {
    return "/channels/kiosk/speech?speed=" + (state.slow ? "slow" : "normal") + "&text=" + encodeURIComponent(text);
  }

  function readingTime(text) {
    return READING_MS_PER_CHARACTER * Array.from(text).length;
  }

  /* Say the text; `done` runs once when it has been said or could not be, unless silenced or overtaken first. */
  function say(text, done) {
    var mine = ++state.saying;
    function finish() {
      // A late end of an earlier text (its play() aborted when the source changed) must not end this one.
      if (state.saying !== mine) return;
      state.saying += 1;
      voice.onended = voice.onerror = null;
      if (done) done();
    }
    function afterReading() { setTimeout(finish, readingTime(text)); }
    if (state.muted) return afterReading();
    voice.onended = finish;
    voice.onerror = afterReading;
    voice.defaultPlaybackRate = RATE;
    voice.src = speechUrl(text);
    voice.playbackRate = RATE;
    var playing = voice.play();
    if (playing && playing.catch) playing.catch(afterReading);
  }

  function silence() {
    state.saying += 1;
    voice.pause();
    voice.onended = voice.onerror = null;
  }

  /* A message for the resident outside the conversation, on the status line and, when asked, spoken. */
  function tell(text, spoken) {
    statusLine.textContent = text;
    if (text && spoken && !state.current) say(text, null);
  }

  /* ---- Speech in ---- */

  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;

  function listen() {
    touched();
    if (state.recorder) return state.recorder.stop();
    hush();
    if (Recognition) return recognise();
    if (SERVER_LISTENS) return record();
    tell(TEXT.noVoiceInput, true);
  }

  function recognise() {
    var recognition = new Recognition();
    recognition.lang = "ja-JP";
    recognition.interimResults = false;
    recognition.maxAlternatives = 1;
    recognition.onresult = function (event) {
      var heard = event.results[0][0].transcript;
      if (heard && heard.trim()) sendText(heard);
    };
    recognition.onerror = function (event) {
      if (event.error === "not-allowed" || event.error === "service-not-allowed" || event.error === "audio-capture") {
        tell(TEXT.micRefused, true);
      } else if (event.error === "network" && SERVER_LISTENS) {
        record();  // the browser's recognition needs Google; the operator's service may be reachable
      } else if (event.error === "network") {
        tell(TEXT.noVoiceInput, true);
      } else {
        tell(TEXT.notHeard, true);
      }
    };
    tell(TEXT.listening, false);
    recognition.start();
  }

  function record() {
    if (!navigator.mediaDevices || !window.MediaRecorder) return tell(TEXT.noVoiceInput, true);
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var chunks = [];
      var recorder = new MediaRecorder(stream);
      var limit = setTimeout(function () { if (recorder.state === "recording") recorder.stop(); }, LONGEST_RECORDING_MS);
      state.recorder = recorder;
      speakButton.textContent = RECORDING_LABEL;
      tell(TEXT.stopRecording, false);
      recorder.ondataavailable = function (event) { if (event.data.size) chunks.push(event.data); };
      recorder.onstop = function () {
        clearTimeout(limit);
        state.recorder = null;
        speakButton.textContent = SPEAK_LABEL;
        stream.getTracks().forEach(function (track) { track.stop(); });
        var audio = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
        fetch("/channels/kiosk/listen", { method: "POST", body: audio, headers: { "Content-Type": audio.type } })
          .then(function (answer) { return answer.ok ? answer.json() : { text: "" }; })
          .then(function (heard) { if (heard.text) sendText(heard.text); else tell(TEXT.notHeard, true); })
          .catch(function () { tell(TEXT.notHeard, true); });
      };
      recorder.start();
    }, function () {
      tell(TEXT.micRefused, true);
    });
  }

  /* ---- Privacy on a shared device ---- */

  function touched() {
    state.lastActivity = Date.now();
  }

  function checkIdle() {
    var now = Date.now();
    if (!state.started) return;
    if (state.askedAt !== null) {
      if (now - state.askedAt >= ANSWER_MS) startOver();
      return;
    }
    // Still speaking or listening; but a voice that never ends (a stalled download) must not keep the screen.
    if ((state.current || state.recorder) && now - state.lastActivity < IDLE_MS * 2) return;
    if (now - state.lastActivity >= IDLE_MS) ask();
  }

  function ask() {
    state.askedAt = Date.now();
    if (cardDialog.open) cardDialog.close();
    askDialog.showModal();
    say(TEXT.ask, null);
  }

  function keepGoing() {
    state.askedAt = null;
    askDialog.close();
    silence();
    touched();
  }

  function forgetEverything() {
    try {
      window.sessionStorage.clear();
      window.localStorage.clear();
    } catch (blocked) {
      // Storage switched off: nothing was kept.
    }
  }

  /* The next resident sees nothing of this one: no messages, no card, no stored session. */
  function startOver() {
    silence();
    clearTimeout(state.pacing);
    state.queue = [];
    state.current = null;
    state.lastSpoken = null;
    state.askedAt = null;
    state.started = false;
    state.opening = null;
    if (askDialog.open) askDialog.close();
    if (cardDialog.open) cardDialog.close();
    if (state.client) state.client.close(true);
    forgetEverything();
    log.clear();
    statusLine.textContent = "";
    startScreen.hidden = false;
    connect();
    $("kiosk-start-button").focus();
  }

  function start() {
    state.started = true;
    startScreen.hidden = true;
    touched();
    if (state.opening && log.isEmpty()) enqueue(state.opening);
    speakButton.focus();
  }

  /* ---- The summary card ---- */

  function fillCard(card) {
    $("kiosk-card-title").textContent = card.title;
    var list = $("kiosk-card-bring");
    while (list.firstChild) list.removeChild(list.firstChild);
    card.bring.forEach(function (item) {
      var entry = document.createElement("li");
      entry.textContent = item;
      list.appendChild(entry);
    });
    $("kiosk-card-desk").textContent = card.desk;
    $("kiosk-card-place").textContent = "場所：" + card.place;
    $("kiosk-card-hours").textContent = "受付：" + card.hours;
    $("kiosk-card-phone").textContent = card.phone ? "電話：" + card.phone : "";
  }

  function showCard() {
    var token = state.client && state.client.session();
    if (!token) return tell(TEXT.noCard, true);
    fetch("/channels/kiosk/card?session=" + encodeURIComponent(token)).then(function (answer) {
      if (!answer.ok) return tell(TEXT.noCard, true);
      return answer.json().then(function (card) {
        fillCard(card);
        cardDialog.showModal();
      });
    }).catch(function () { tell(TEXT.offline, true); });
  }

  /* ---- Wiring ---- */

  ["pointerdown", "keydown", "touchstart"].forEach(function (kind) {
    document.addEventListener(kind, touched, { passive: true });
  });
  $("kiosk-start-button").addEventListener("click", start);
  speakButton.addEventListener("click", listen);
  Array.prototype.forEach.call(document.querySelectorAll(".kiosk-topic"), function (button) {
    button.addEventListener("click", function () { sendText(button.textContent); });
  });
  $("kiosk-again").addEventListener("click", function () {
    if (state.lastSpoken && !state.current) say(state.lastSpoken, null);
  });
  slowButton.addEventListener("click", function () {
    state.slow = !state.slow;
    slowButton.setAttribute("aria-pressed", String(state.slow));
    if (state.lastSpoken && !state.current && !state.muted) say(state.lastSpoken, null);
  });
  muteButton.addEventListener("click", function () {
    state.muted = !state.muted;
    muteButton.setAttribute("aria-pressed", String(state.muted));
    if (state.muted) {
      silence();
      if (state.current) state.pacing = setTimeout(next, PACE);
    }
  });
  $("kiosk-card-button").addEventListener("click", showCard);
  $("kiosk-card-close").addEventListener("click", function () { cardDialog.close(); });
  $("kiosk-continue").addEventListener("click", keepGoing);
  $("kiosk-stop").addEventListener("click", startOver);
  $("kiosk-end").addEventListener("click", startOver);
  // Escape would close the question without an answer: it counts as 「続ける」.
  askDialog.addEventListener("cancel", function (event) { event.preventDefault(); keepGoing(); });

  forgetEverything();  // a reload on a shared device starts a new conversation too
  setInterval(checkIdle, 1000);
  connect();
  $("kiosk-start-button").focus();
})();
