// ReportScript — the report's one inline script: the smoothing slider of the training curves. It reveals
// the slider (hidden without scripts, where the page shows the curves smoothed at the default weight),
// redraws every smoothed polyline from the raw points it carries (`data-points`) with CurveSmoothing's
// EMA, operation for operation, and maps them through the chart's scales (`data-x-map`, `data-y-map`) as
// ChartScale does. `#smoothing=0.9` in the address opens the page at that weight. When it has drawn, it
// marks the root element `data-script="ready"` and the weight in `data-smoothing`; an error anywhere on
// the page lands in `data-script-error` (scripts/check-report-chromium.sh reads both). Written inside
// a CDATA section, so the page stays well-formed XML; the script never contains `]]>`.
enum ReportScript {
    static let javaScript = """
        (function () {
          'use strict';
          var root = document.documentElement;
          window.addEventListener('error', function (event) {
            root.setAttribute('data-script-error', String(event.message));
          });
          var maximum = \(CurveSmoothing.maximumWeight);

          function ema(values, weight) {
            var last = 0;
            var power = 1;
            return values.map(function (value) {
              if (!isFinite(value)) { return value; }
              last = last * weight + (1 - weight) * value;
              power *= weight;
              return last / (1 - power);
            });
          }

          function scale(map) {
            var lower = map.domain[0], upper = map.domain[1], start = map.range[0], end = map.range[1];
            if (map.kind === 'log') {
              var low = Math.log10(lower), high = Math.log10(upper);
              return function (value) {
                return start + (Math.log10(Math.max(value, 2.2250738585072014e-308)) - low) / (high - low) * (end - start);
              };
            }
            return function (value) { return start + (value - lower) / (upper - lower) * (end - start); };
          }

          // ChartFrame.format: one decimal, no trailing '.0', never '-0'.
          function format(value) {
            var text = value.toFixed(1);
            if (text.slice(-2) === '.0') { text = text.slice(0, -2); }
            return text === '-0' ? '0' : text;
          }

          function clamp(weight) {
            return isFinite(weight) ? Math.min(Math.max(weight, 0), maximum) : \(CurveSmoothing.defaultWeight);
          }

          function redraw(weight) {
            var charts = document.querySelectorAll('svg[data-y-map]');
            var drawn = 0;
            Array.prototype.forEach.call(charts, function (chart) {
              var x = scale(JSON.parse(chart.getAttribute('data-x-map')));
              var y = scale(JSON.parse(chart.getAttribute('data-y-map')));
              Array.prototype.forEach.call(chart.querySelectorAll('polyline.smoothed'), function (line) {
                var points = JSON.parse(line.getAttribute('data-points'));
                var smoothed = ema(points.map(function (point) { return point[1]; }), weight);
                line.setAttribute('points', points.map(function (point, index) {
                  return format(x(point[0])) + ',' + format(y(smoothed[index]));
                }).join(' '));
                drawn += 1;
              });
              chart.setAttribute('data-smoothing', String(weight));
            });
            var text = weight.toFixed(2);
            Array.prototype.forEach.call(document.querySelectorAll('.smoothing-value'), function (node) {
              node.textContent = text;
            });
            root.setAttribute('data-smoothing', text);
            root.setAttribute('data-redrawn', String(drawn));
          }

          var slider = document.getElementById('smoothing');
          var requested = /(?:^#|&)smoothing=([0-9.]+)/.exec(window.location.hash);
          var weight = clamp(requested ? parseFloat(requested[1]) : (slider ? parseFloat(slider.value) : \(CurveSmoothing.defaultWeight)));
          if (slider) {
            slider.value = String(weight);
            slider.addEventListener('input', function () { redraw(clamp(parseFloat(slider.value))); });
            Array.prototype.forEach.call(document.querySelectorAll('.smoothing-control'), function (node) {
              node.removeAttribute('hidden');
            });
          }
          redraw(weight);
          root.setAttribute('data-script', 'ready');
        })();
        """
}
