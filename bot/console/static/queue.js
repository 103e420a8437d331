// The queue page: redraws the table whenever a ticket changes (long-poll), and counts waiting minutes up.
"use strict";

(function () {
  const api = window.consoleApi;
  const body = document.querySelector("#queue tbody");
  const channels = { web: "ウェブ", widget: "ウィジェット", line: "LINE", kiosk: "キオスク" };
  const reasons = { asked: "本人が希望", step_failed: "手順でつまずいた", not_understood: "ことばが通じない",
                    too_hard: "難しいと言った", unclaimed: "待ち時間切れ", callback: "電話での相談を希望" };
  const routings = { staff: "職員", volunteer: "ボランティア" };
  const states = { waiting: "待ち", claimed: "対応中", with_bot: "ボットに戻した", resolved: "解決" };
  let version = 0;
  let known = new Set(Array.from(body.querySelectorAll("a")).map(function (a) { return a.textContent; }));

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function draw(tickets) {
    const rows = tickets.map(function (t) {
      const tr = document.createElement("tr");
      const first = document.createElement("td");
      const link = document.createElement("a");
      link.href = "/console/tickets/" + t.id;
      link.textContent = "依頼 " + t.id;
      first.append(link);
      let step = "－";
      if (t.procedure_title) {
        step = t.procedure_title + (t.step ? "（" + t.step + "/" + t.step_count + "）" : "");
      }
      tr.append(first, cell(Math.floor(t.waiting_seconds / 60) + "分"), cell(channels[t.channel] || t.channel),
                cell((reasons[t.reason] || t.reason) + (t.kind === "callback" ? "（電話で折り返し）" : "")), cell(step), cell(states[t.state] || t.state),
                cell(t.claimed_by || "－"), cell(routings[t.routed_to] || t.routed_to));
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      const td = cell("いま待っている依頼はありません。");
      td.colSpan = 8;
      tr.append(td);
      rows.push(tr);
    }
    // A redraw must not take the keyboard focus away from the ticket link a person is on.
    const focused = body.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
    body.replaceChildren.apply(body, rows);
    if (focused) {
      const again = body.querySelector('a[href="' + focused + '"]');
      if (again) {
        again.focus();
      }
    }
    const now = new Set(tickets.map(function (t) { return "依頼 " + t.id; }));
    const added = Array.from(now).filter(function (name) { return !known.has(name); });
    if (added.length > 0) {
      api.announce("新しい依頼があります：" + added.join("、"));
    }
    known = now;
  }

  async function follow() {
    for (;;) {
      try {
        const change = await api.call("GET", "changes?version=" + version + "&wait=25");
        if (change.version !== version) {
          version = change.version;
          draw((await api.call("GET", "tickets")).tickets);
        }
      } catch (error) {
        await api.sleep(2000);
      }
    }
  }

  follow();
})();
