// The run report as one self-contained HTML page: inline CSS and inline SVG charts (drawn by
// report/svg_plot.h), no script and no network. Every chart is <svg class="chart"
// data-chart="ID"> and every drawn series <g class="series" data-name="..." data-points="N">,
// which tests read back from a browser's DOM.
#pragma once

#include <string>

#include "report/run_report.h"

namespace sculpt::report {

// The whole page. Deterministic: the same report gives the same bytes.
std::string render_html(const RunReport& r);

// render_html written atomically to `path`. Throws IoError naming the path.
void write_html(const RunReport& r, const std::string& path);

// Reads the run directories, builds the report, writes it to `path` and returns it (for the
// text summary). Errors as read_run and write_html.
RunReport write_run_report(const std::vector<std::string>& dirs, const std::string& path);

}  // namespace sculpt::report
