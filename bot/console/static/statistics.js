// The statistics page: Chart.js charts of the numbers the tables under them already show.
"use strict";

(async function () {
  if (typeof window.Chart === "undefined") {
    return;  // Chart.js not installed: the tables carry everything.
  }
  const data = await window.consoleApi.call("GET", "statistics");
  // Dark, larger text than Chart.js's default grey; whole numbers on every axis (these are counts).
  window.Chart.defaults.color = "#1a1a1a";
  window.Chart.defaults.font.size = 14;
  window.Chart.defaults.scale.ticks.precision = 0;
  const channelNames = { web: "ウェブ", widget: "ウィジェット", line: "LINE", kiosk: "キオスク" };
  const palette = ["#0b5394", "#b45f06", "#38761d", "#741b47", "#444444"];
  const plain = { responsive: true, maintainAspectRatio: false, animation: false };

  const stuck = data.stuck_steps.slice(0, 10);
  new window.Chart(document.getElementById("chart-stuck"), {
    type: "bar",
    data: {
      labels: stuck.map(function (s) { return (s.procedure_title || s.procedure) + " 手順" + s.step; }),
      datasets: [
        { label: "失敗", data: stuck.map(function (s) { return s.failures; }), backgroundColor: palette[0] },
        { label: "聞き返し", data: stuck.map(function (s) { return s.fallbacks; }), backgroundColor: palette[1] },
        { label: "引き継ぎ", data: stuck.map(function (s) { return s.handoffs; }), backgroundColor: palette[2] },
      ],
    },
    options: Object.assign({ indexAxis: "y", scales: { x: { stacked: true }, y: { stacked: true } } }, plain),
  });

  const days = Array.from(new Set(data.conversations_per_day.map(function (d) { return d.date; }))).sort();
  const channels = Array.from(new Set(data.conversations_per_day.map(function (d) { return d.channel; })));
  new window.Chart(document.getElementById("chart-daily"), {
    type: "bar",
    data: {
      labels: days,
      datasets: channels.map(function (channel, i) {
        return {
          label: channelNames[channel] || channel,
          backgroundColor: palette[i % palette.length],
          data: days.map(function (day) {
            const row = data.conversations_per_day.find(function (d) { return d.date === day && d.channel === channel; });
            return row ? row.count : 0;
          }),
        };
      }),
    },
    options: Object.assign({ scales: { x: { stacked: true }, y: { stacked: true } } }, plain),
  });

  const rows = Array.from(document.querySelectorAll("#table-waiting tbody tr"));
  new window.Chart(document.getElementById("chart-waiting"), {
    type: "bar",
    data: {
      labels: rows.map(function (r) { return r.cells[0].textContent; }),
      datasets: [{ label: "依頼", data: rows.map(function (r) { return Number(r.cells[1].textContent); }),
                   backgroundColor: palette[0] }],
    },
    options: plain,
  });

  new window.Chart(document.getElementById("chart-feedback"), {
    type: "bar",
    data: {
      labels: ["良かった", "良くなかった"],
      datasets: [{ label: "件数", data: [data.feedback.good || 0, data.feedback.bad || 0],
                   backgroundColor: [palette[2], palette[1]] }],
    },
    options: plain,
  });
})();
