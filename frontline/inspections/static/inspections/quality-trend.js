// Quality trend charts: one ECharts line per project with its standard line.
// Data comes from the json_script block "quality-trend-data" (CSP: no inline script).
(function () {
  "use strict";
  var source = document.getElementById("quality-trend-data");
  if (!source || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var charts = [];
  document.querySelectorAll(".quality-chart").forEach(function (el) {
    var spec = data.charts[Number(el.dataset.chartIndex)];
    if (!spec) {
      return;
    }
    el.style.height = "260px";
    var chart = window.echarts.init(el);
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 16, top: 24, bottom: 28 },
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var i = items[0].dataIndex;
          var v = spec.values[i];
          return spec.dates[i] + "<br>" + data.label + ": " + (v === null ? "—" : v) +
            " (" + spec.rounds[i] + ")";
        },
      },
      xAxis: { type: "category", data: spec.dates },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [
        {
          name: data.label,
          type: "line",
          data: spec.values,
          connectNulls: false,
          showSymbol: true,
          markLine: {
            silent: true,
            symbol: "none",
            lineStyle: { type: "dashed", color: "#dc3545" },
            label: { formatter: data.standard_label + " " + spec.standard },
            data: [{ yAxis: spec.standard }],
          },
        },
      ],
    });
    el.dataset.rendered = "1";
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) {
      c.resize();
    });
  });
})();
