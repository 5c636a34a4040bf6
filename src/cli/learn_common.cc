#include "cli/learn_common.h"

#include <cerrno>
#include <cstdio>

#include "cli/spine_client.h"

namespace clawback::cli {

Result<LearnSession> OpenLearnSession(const Cli& cli) {
  LearnSession s;
  ASSIGN_OR_RETURN(s.ledger, OpenDataDirLedger(cli));
  ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
  ASSIGN_OR_RETURN(s.engine, learn::OpenLearnEngine(config, s.ledger.get()));
  return s;
}

Result<std::string> ReadAll(const std::string& path) {
  FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) return ErrnoStatus("open " + path, errno);
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  bool err = std::ferror(f);
  if (f != stdin) std::fclose(f);
  if (err) return IOError("read " + path + ": read error");
  return data;
}

Result<std::vector<std::string>> ReadLines(const std::string& path) {
  ASSIGN_OR_RETURN(std::string data, ReadAll(path));
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < data.size()) {
    size_t nl = data.find('\n', start);
    if (nl == std::string::npos) nl = data.size();
    lines.emplace_back(data.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

void PrintRecommendation(const nlohmann::json& rec) {
  auto str = [](const nlohmann::json& j, const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  auto num = [](const nlohmann::json& j, const char* k) {
    return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0;
  };
  std::printf("%s\n", str(rec, "subject").c_str());
  if (rec.contains("error_templates") && !rec["error_templates"].empty()) {
    std::printf("  error/warning lines:\n");
    for (const auto& t : rec["error_templates"])
      if (t.is_string()) std::printf("    %s\n", t.get<std::string>().c_str());
  }
  bool confident = rec.value("confident", false);
  std::printf("%s\n", confident ? "Recommendation:" : "No confident recommendation.");
  if (rec.contains("actions") && !rec["actions"].empty()) {
    std::printf("Ranked actions:\n");
    int i = 0;
    for (const auto& a : rec["actions"])
      std::printf("  %d. %-55s score %.2f  confidence %.2f\n     evidence: %s\n", ++i,
                  str(a, "text").c_str(), num(a, "score"), num(a, "confidence"),
                  str(a, "evidence_text").c_str());
  }
  if (rec.contains("similar") && !rec["similar"].empty()) {
    std::printf("Similar past situations:\n");
    for (const auto& c : rec["similar"]) {
      const nlohmann::json& o = c.contains("outcome") ? c["outcome"] : nlohmann::json::object();
      std::string what = str(o, "label");
      if (!str(o, "action").empty() && str(o, "action") != "none") what += " (" + str(o, "action") + ")";
      std::printf("  %.3f  %s  %-10s %-8s %s\n", num(c, "score"), str(c, "deployment_id").c_str(),
                  str(c, "environment").c_str(), str(c, "commit_sha").substr(0, 8).c_str(), what.c_str());
    }
  } else {
    std::printf("No similar past situations.\n");
  }
  std::printf("%s\n", str(rec, "summary").c_str());
}

}  // namespace clawback::cli
