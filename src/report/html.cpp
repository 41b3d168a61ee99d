// HTML page of a run report: a header, the notes, the summary table, the charts in a grid, the
// per-layer table and each run's recipe. Text is escaped with escape_xml (safe in HTML too).
#include "report/html.h"

#include <fmt/format.h>

#include <iterator>

#include "io/atomic_file.h"

namespace sculpt::report {

namespace {

constexpr const char* kStyle = R"(
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1340px;padding:0 16px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.sub{color:#666;margin:0 0 12px}
.note{background:#fff6d6;border-left:4px solid #e0b000;padding:6px 10px;margin:6px 0}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;width:640px;max-width:100%}figcaption{font-size:12px;color:#555;margin-top:2px}
svg.chart{max-width:100%;height:auto;border:1px solid #eee}
pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:10px;font-size:12px;overflow:auto}
)";

void table(std::string& out, const std::vector<std::string>& header,
           const std::vector<std::vector<std::string>>& rows, const char* cls) {
  auto o = std::back_inserter(out);
  fmt::format_to(o, "<table class=\"{}\">\n<tr>", cls);
  for (const std::string& h : header) fmt::format_to(o, "<th>{}</th>", escape_xml(h));
  out += "</tr>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const std::string& cell : row) fmt::format_to(o, "<td>{}</td>", escape_xml(cell));
    out += "</tr>\n";
  }
  out += "</table>\n";
}

}  // namespace

std::string render_html(const RunReport& r) {
  std::string out;
  auto o = std::back_inserter(out);
  const std::string title = r.runs.size() == 1 ? r.runs[0].name
                                                : fmt::format("{} runs compared", r.runs.size());
  fmt::format_to(o,
                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>Sculpt report: {0}</title>\n<style>{1}</style>\n</head>\n<body>\n"
                 "<h1>Sculpt report: {0}</h1>\n",
                 escape_xml(title), kStyle);
  std::string dirs;
  for (const RunData& run : r.runs) dirs += (dirs.empty() ? "" : ", ") + run.dir;
  fmt::format_to(o, "<p class=\"sub\">{}: {}</p>\n",
                 r.runs.size() == 1 ? "run directory" : "run directories", escape_xml(dirs));
  for (const std::string& note : r.notes)
    fmt::format_to(o, "<p class=\"note\">Note: {}</p>\n", escape_xml(note));

  out += "<h2>Summary</h2>\n";
  std::vector<std::vector<std::string>> rows;
  for (const SummaryRow& row : r.rows) rows.push_back(summary_cells(row));
  table(out, summary_header(), rows, "summary");

  if (!r.charts.empty()) {
    out += "<h2>Charts</h2>\n<div class=\"charts\">\n";
    for (const Chart& c : r.charts)
      fmt::format_to(o, "<figure>\n{}<figcaption>{}</figcaption>\n</figure>\n",
                     render_svg_element(c.plot), escape_xml(c.caption));
    out += "</div>\n";
  }
  if (!r.layers.empty()) {
    out += "<h2>Sparsity per layer</h2>\n";
    std::vector<std::vector<std::string>> layers;
    for (const LayerRow& l : r.layers)
      layers.push_back({l.name, fmt::format("{}", l.params), fmt::format("{}", l.kept),
                        fmt::format("{:.1f}%", 100 * l.sparsity)});
    table(out, {"layer", "parameters", "kept", "sparsity"}, layers, "layers");
  }
  for (const RunData& run : r.runs) {
    if (run.recipe_text.empty()) continue;
    fmt::format_to(o, "<h2>Recipe{}</h2>\n<pre class=\"recipe\">{}</pre>\n",
                   r.runs.size() == 1 ? "" : ": " + escape_xml(run.name),
                   escape_xml(run.recipe_text));
  }
  out += "</body>\n</html>\n";
  return out;
}

void write_html(const RunReport& r, const std::string& path) {
  const std::string html = render_html(r);
  io::write_file_atomic(path, {html}, "report");
}

RunReport write_run_report(const std::vector<std::string>& dirs, const std::string& path) {
  std::vector<RunData> runs;
  for (const std::string& d : dirs) runs.push_back(read_run(d));
  RunReport r = build_report(std::move(runs));
  write_html(r, path);
  return r;
}

}  // namespace sculpt::report
