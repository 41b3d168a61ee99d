// Reads the run report's test contract back from a page or a browser's serialized DOM: every
// <svg class="chart" data-chart="ID"> and its <g class="series" data-name data-points>.
#pragma once

#include <map>
#include <regex>
#include <string>

namespace sculpt::testing {

// chart id -> series name -> data-points.
inline std::map<std::string, std::map<std::string, int>> charts_in(const std::string& html) {
  std::map<std::string, std::map<std::string, int>> out;
  static const std::regex tag(
      R"re(<svg [^>]*class="chart" data-chart="([^"]+)"|<g class="series" data-name="([^"]*)" data-points="(\d+)")re");
  std::string chart;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator();
       ++it) {
    if ((*it)[1].matched) out[chart = (*it)[1]];
    else out[chart][(*it)[2]] = std::stoi((*it)[3]);
  }
  return out;
}

}  // namespace sculpt::testing
