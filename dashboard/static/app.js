// The progress page stays current: its table is fetched again every 20 seconds (the chart with it). A session that
// ended sends the page back to the sign-in notice. Nothing else on the dashboard needs JavaScript.
"use strict";
(function () {
  const box = document.getElementById("tien-do");
  const chart = document.getElementById("bieu-do");
  if (!box) return;
  const every = 20000;
  async function refresh() {
    try {
      const response = await fetch(box.dataset.refresh, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) return;
      box.innerHTML = await response.text();
      if (chart) chart.src = "/web/tiendo.png?t=" + Date.now();
    } catch (e) {
      // offline for a moment: the next round tries again
    }
  }
  setInterval(refresh, every);
})();
