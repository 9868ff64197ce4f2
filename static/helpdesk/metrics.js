// Help-desk metrics charts (Chart.js, vendored). Data: the #chart-data JSON (json_script).
(function () {
  function draw() {
    var node = document.getElementById("chart-data");
    if (!node || typeof Chart === "undefined") return;
    var d = JSON.parse(node.textContent);
    new Chart(document.getElementById("volume"), {type: "bar", data: {labels: d.labels, datasets: [
      {label: "Volume", data: d.volume, yAxisID: "y"},
      {label: "First-response SLA %", data: d.fr, type: "line", yAxisID: "pct"},
      {label: "Resolution SLA %", data: d.res, type: "line", yAxisID: "pct"}]},
      options: {scales: {y: {beginAtZero: true}, pct: {position: "right", min: 0, max: 100}}}});
    new Chart(document.getElementById("backlog"), {type: "bar", data: {labels: d.backlog_labels, datasets: [
      {label: "Open tickets by age", data: d.backlog}]}, options: {indexAxis: "y"}});
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
