// 12-month KPI trend lines (Chart.js, vendored). Data: the #kpi-charts JSON.
(function () {
  var node = document.getElementById("kpi-charts");
  if (!node || typeof Chart === "undefined") return;
  JSON.parse(node.textContent).forEach(function (block) {
    block.series.forEach(function (s) {
      var canvas = document.getElementById("kpi-" + block.entity + "-" + s.key);
      if (!canvas) return;
      new Chart(canvas, {
        type: s.unit === "money" ? "bar" : "line",
        data: { labels: block.labels, datasets: [{ label: s.title + (s.unit === "money" ? " (" + block.currency + ")" : s.unit === "pct" ? " (%)" : " (days)"),
          data: s.data.map(function (v) { return v === null ? null : Number(v); }), borderColor: "#0d6efd", backgroundColor: "rgba(13,110,253,.35)", spanGaps: true, tension: .2 }] },
        options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: s.unit !== "days" } } }
      });
    });
  });
})();
