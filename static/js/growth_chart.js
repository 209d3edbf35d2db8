// The growth chart of the slate page and the organizer dashboard. The page (or its live
// fragment, polled by HTMX) carries the chart's data as JSON; after each swap the chart is
// redrawn from it, without a reload.
(function () {
  "use strict";
  var chart = null;

  function readData() {
    var node = document.getElementById("growth-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function draw() {
    var canvas = document.getElementById("growth-chart");
    var data = readData();
    if (!canvas || !data || typeof Chart === "undefined") return;
    var money = data.money_cents.map(function (cents) { return cents / 100; });
    if (chart) {
      chart.data.labels = data.days;
      chart.data.datasets[0].data = money;
      chart.data.datasets[1].data = data.pledges;
      chart.update("none");
      return;
    }
    chart = new Chart(canvas, {
      data: {
        labels: data.days,
        datasets: [
          { type: "line", label: "Money pledged to date ($)", data: money, yAxisID: "money",
            borderColor: "#5b2bd6", backgroundColor: "#5b2bd6", tension: 0.2 },
          { type: "bar", label: "Pledges that day", data: data.pledges, yAxisID: "count",
            backgroundColor: "#d8cff5" }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          money: { position: "left", beginAtZero: true },
          count: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
