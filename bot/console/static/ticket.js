// The ticket page: live transcript by long-polling, reply box, canned replies, notes and the ticket's actions.
// Every text from the server is put in with textContent: a resident's text is never read as HTML.
"use strict";

(function () {
  const api = window.consoleApi;
  const box = document.getElementById("ticket");
  const ticketId = box.dataset.ticket;
  const transcript = document.getElementById("transcript");
  const senders = { resident: "住民", bot: "ボット", staff: "職員" };
  const states = { waiting: "待ち", claimed: "対応中", with_bot: "ボットに戻した", resolved: "解決" };
  const routings = { staff: "職員", volunteer: "ボランティア" };
  const routeButtons = { staff: "職員に戻す", volunteer: "ボランティアに回す" };
  const routeButton = document.getElementById("route");
  let after = Number(box.dataset.after || "0");
  let version = 0;

  function addEntry(entry) {
    if (transcript.querySelector('[data-id="' + entry.id + '"]')) {
      return;
    }
    const item = document.createElement("li");
    item.className = "from-" + entry.sender;
    item.dataset.id = String(entry.id);
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = senders[entry.sender] || entry.sender;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = entry.text;
    item.append(who, text);
    transcript.append(item);
    transcript.scrollTop = transcript.scrollHeight;
  }

  function showTicket(ticket) {
    document.getElementById("ticket-state").textContent = states[ticket.state] || ticket.state;
    document.getElementById("ticket-claimed").textContent = ticket.claimed_by || "－";
    document.getElementById("ticket-routed").textContent = routings[ticket.routed_to] || ticket.routed_to;
    if (routeButton) {
      const to = ticket.routed_to === "volunteer" ? "staff" : "volunteer";
      routeButton.dataset.to = to;
      routeButton.textContent = routeButtons[to];
      // A volunteer passes a ticket on to staff only; a callback never goes to volunteers.
      routeButton.hidden = ticket.kind === "callback" || (document.body.dataset.role === "volunteer" && to !== "staff");
    }
  }

  async function follow() {
    for (;;) {
      try {
        const data = await api.call("GET", "tickets/" + ticketId + "/transcript?after=" + after + "&version=" + version + "&wait=25");
        let fromResident = false;
        data.entries.forEach(function (entry) {
          addEntry(entry);
          fromResident = fromResident || entry.sender === "resident";
        });
        after = data.after;
        version = data.version;
        showTicket(data.ticket);
        if (fromResident) {
          api.announce("住民から新しいメッセージがあります。");
        }
      } catch (error) {
        if (error.status === 403 || error.status === 404) {
          // Routed away from this role, or gone: back to the queue rather than a page that no longer updates.
          window.location.assign("/console/queue");
          return;
        }
        await api.sleep(2000);
      }
    }
  }

  function action(buttonId, path, done) {
    document.getElementById(buttonId).addEventListener("click", async function () {
      try {
        const ticket = await api.call("POST", "tickets/" + ticketId + "/" + path);
        showTicket(ticket);
        api.announce(done);
      } catch (error) {
        api.announce("できませんでした：" + error.message);
      }
    });
  }

  if (routeButton) {
    routeButton.addEventListener("click", async function () {
      const to = routeButton.dataset.to;
      try {
        const ticket = await api.call("POST", "tickets/" + ticketId + "/route", { to: to });
        if (document.body.dataset.role === "volunteer") {
          // The ticket is staff's now: a volunteer no longer sees it.
          window.location.assign("/console/queue");
          return;
        }
        showTicket(ticket);
        api.announce(routings[to] + "に回しました。");
      } catch (error) {
        api.announce("できませんでした：" + error.message);
      }
    });
  }

  action("claim", "claim", "この依頼の担当になりました。");
  action("back-to-bot", "back-to-bot", "ボットに戻しました。");
  action("resolve", "resolve", "解決にしました。");

  const canned = document.getElementById("canned");
  const reply = document.getElementById("reply");
  if (canned) {
    canned.addEventListener("change", function () {
      if (canned.value) {
        reply.value = canned.value;
        reply.focus();
      }
    });
  }

  document.getElementById("reply-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const text = reply.value.trim();
    if (!text) {
      return;
    }
    try {
      const entry = await api.call("POST", "tickets/" + ticketId + "/messages", { text: text });
      addEntry(entry);
      reply.value = "";
      api.announce("送りました。");
    } catch (error) {
      api.announce("送れませんでした：" + error.message);
    }
  });

  document.getElementById("note-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const note = document.getElementById("note");
    const text = note.value.trim();
    if (!text) {
      return;
    }
    try {
      await api.call("POST", "tickets/" + ticketId + "/notes", { text: text });
      const data = await api.call("GET", "tickets/" + ticketId + "/notes");
      const list = document.getElementById("notes");
      list.replaceChildren();
      data.notes.forEach(function (n) {
        const item = document.createElement("li");
        const who = document.createElement("span");
        who.className = "who";
        who.textContent = n.author;
        const body = document.createElement("span");
        body.className = "text";
        body.textContent = n.text;
        item.append(who, body);
        list.append(item);
      });
      note.value = "";
      api.announce("メモを残しました。");
    } catch (error) {
      api.announce("メモを残せませんでした：" + error.message);
    }
  });

  follow();
})();
