// Stacked bar charts of the aging buckets (Chart.js, vendored). Data: the #aging-charts JSON.
(function () {
  var node = document.getElementById("aging-charts");
  if (!node || typeof Chart === "undefined") return;
  var palette = ["#198754", "#ffc107", "#fd7e14", "#dc3545", "#842029", "#58151c", "#343a40", "#6c757d"];
  JSON.parse(node.textContent).forEach(function (chart) {
    var canvas = document.getElementById(chart.id);
    if (!canvas) return;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: chart.datasets.map(function (d, i) {
          return { label: d.label, data: d.data.map(Number), backgroundColor: palette[i % palette.length], stack: "aging" };
        })
      },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: chart.currency } } },
        plugins: { tooltip: { callbacks: { label: function (c) {
          return c.dataset.label + ": " + c.parsed.y.toLocaleString(undefined, { minimumFractionDigits: 2 }) + " " + chart.currency;
        } } } }
      }
    });
  });
})();
