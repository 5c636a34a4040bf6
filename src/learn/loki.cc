// A deployment's log lines fetched from Loki (LearnEngine::FetchLoki): the window around
// the deployment, the configured stream selector and tenant.
#include "learn/engine.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace clawback::learn {

using Json = nlohmann::json;

Result<std::vector<std::string>> LearnEngine::FetchLoki(const ledger::Deployment& d, http::Client* http) {
  if (options_.loki.url.empty())
    return FailedPrecondition("Loki intake is not configured ([learn.loki] url in config.toml)");
  std::string q = options_.loki.query;
  auto subst = [&](const std::string& var, const std::string& val) {
    for (size_t p; (p = q.find(var)) != std::string::npos;) q.replace(p, var.size(), val);
  };
  subst("$environment", d.environment);
  subst("$deployment", d.id.ToString());
  auto enc = [](const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        char b[4];
        std::snprintf(b, sizeof b, "%%%02X", c);
        out += b;
      }
    }
    return out;
  };
  int64_t start_ns = (d.started_at_ms - 5 * 60 * 1000) * 1000000;
  int64_t end_ms = d.finished_at_ms.value_or(clock_.NowUnixMillis());
  end_ms = std::max(end_ms, d.started_at_ms + 15 * 60 * 1000);
  std::string base = options_.loki.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::Request r;
  r.method = "GET";
  r.url = base + "/loki/api/v1/query_range?query=" + enc(q) + "&start=" + std::to_string(start_ns) +
          "&end=" + std::to_string(end_ms * 1000000) + "&limit=" + std::to_string(options_.loki.limit) +
          "&direction=forward";
  if (!options_.loki.tenant.empty()) r.headers.emplace_back("X-Scope-OrgID", options_.loki.tenant);
  ASSIGN_OR_RETURN(http::Response resp, http->Send(r));
  if (resp.status != 200)
    return Unavailable("loki query_range: HTTP " + std::to_string(resp.status) + ": " + resp.body.substr(0, 200));
  Json j = Json::parse(resp.body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].contains("result") || !j["data"]["result"].is_array())
    return Unavailable("loki query_range: the answer has no data.result");
  std::vector<std::pair<std::string, std::string>> entries;  // (ns timestamp, line)
  for (const auto& stream : j["data"]["result"]) {
    if (!stream.contains("values") || !stream["values"].is_array()) continue;
    for (const auto& v : stream["values"])
      if (v.is_array() && v.size() >= 2 && v[0].is_string() && v[1].is_string())
        entries.emplace_back(v[0].get<std::string>(), v[1].get<std::string>());
  }
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first.size() != b.first.size() ? a.first.size() < b.first.size() : a.first < b.first;
  });
  std::vector<std::string> lines;
  for (auto& e : entries) lines.push_back(std::move(e.second));
  return lines;
}

}  // namespace clawback::learn
