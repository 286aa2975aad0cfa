// Draws each fund's charts from the JSON the page embeds (id="chart-data"), with the vendored Chart.js.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") { return; }
  var series = JSON.parse(source.textContent);
  var months = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];
  var yuan = new Intl.NumberFormat("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  var axis = { ticks: { callback: function (v) { return (v / 10000).toLocaleString("zh-CN") + " 万"; } } };
  var tip = { callbacks: { label: function (c) { return c.dataset.label + "：" + yuan.format(c.parsed.y) + " 元"; } } };
  Chart.defaults.animation = false;  // the page is read, and screenshots are taken, at once
  Object.keys(series).forEach(function (scheme) {
    var data = series[scheme];
    var balance = document.getElementById("balance-" + scheme);
    var flows = document.getElementById("flows-" + scheme);
    if (balance) {
      new Chart(balance, { type: "line", data: { labels: months, datasets: [
        { label: "期末基金结余", data: data.balance, borderColor: "#0b4f8a", backgroundColor: "rgba(11,79,138,.12)", fill: true, tension: 0.2 }
      ] }, options: { maintainAspectRatio: false, scales: { y: axis }, plugins: { tooltip: tip } } });
    }
    if (flows) {
      new Chart(flows, { type: "bar", data: { labels: months, datasets: [
        { label: "基金收入", data: data.income, backgroundColor: "#2e8b57" },
        { label: "基金支出", data: data.expense, backgroundColor: "#c0504d" }
      ] }, options: { maintainAspectRatio: false, scales: { y: axis }, plugins: { tooltip: tip } } });
    }
  });
}());
