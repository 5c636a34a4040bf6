#include "cli/trace_render.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "common/clock.h"

namespace clawback::cli {
namespace {

using Json = nlohmann::json;

std::string Str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const Json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::optional<int64_t> Int(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<int64_t>();
}

std::optional<int64_t> TimeMs(const Json& j, const char* key) {
  std::string s = Str(j, key);
  int64_t ms = 0;
  if (s.empty() || !ParseRfc3339Millis(s, &ms)) return std::nullopt;
  return ms;
}

std::string QuoteArgv(const Json& argv) {
  std::string out;
  if (!argv.is_array()) return out;
  for (const auto& a : argv) {
    std::string s = a.is_string() ? a.get<std::string>() : a.dump();
    if (!out.empty()) out += ' ';
    bool plain = !s.empty() && s.find_first_of(" \t\n'\"\\$`*?&|;<>()") == std::string::npos;
    if (plain) {
      out += s;
    } else {
      std::string q = "'";
      for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += q + "'";
    }
  }
  return out;
}

std::string FirstLine(const std::string& s, size_t max = 72) {
  std::string line = s.substr(0, s.find('\n'));
  if (line.size() > max) line = line.substr(0, max - 1) + "…";
  return line;
}

std::string Short(const std::string& sha) { return sha.substr(0, 12); }

struct Item {
  int64_t time_ms = 0;
  int order = 0;  // stable tie-break: the order of the lists in the document
  std::string head;
  std::vector<std::string> details;
  std::vector<Item> children;
};

std::string DurationSuffix(const Json& j) {
  auto d = Int(j, "duration_ms");
  return d ? "  " + FormatDuration(*d) : "";
}

Item CommandItem(const Json& c, int order) {
  Item it;
  it.time_ms = TimeMs(c, "started_at").value_or(0);
  it.order = order;
  auto code = Int(c, "exit_code");
  it.head = fmt::format("command  {}  {}{}", QuoteArgv(c["argv"]),
                        code ? "exit " + std::to_string(*code) : std::string("running"),
                        DurationSuffix(c));
  std::string cwd = Str(c, "cwd");
  if (!cwd.empty()) it.details.push_back("cwd " + cwd);
  return it;
}

Item FileChangeItem(const Json& f, int order) {
  Item it;
  it.time_ms = TimeMs(f, "time").value_or(0);
  it.order = order;
  it.head = fmt::format("file {}  {}", Str(f, "change"), Str(f, "path"));
  return it;
}

void Print(const Item& it, int64_t start_ms, const std::string& prefix, bool last,
           std::string* out) {
  int64_t offset = it.time_ms - start_ms;
  *out += fmt::format("{}{} {}  (+{})  {}\n", prefix, last ? "└─" : "├─",
                      FormatRfc3339Millis(it.time_ms).substr(11, 12),
                      FormatDuration(offset < 0 ? 0 : offset), it.head);
  std::string inner = prefix + (last ? "   " : "│  ");
  for (const auto& d : it.details) {
    *out += inner + (it.children.empty() ? "   " : "│  ") + d + "\n";
  }
  for (size_t i = 0; i < it.children.size(); ++i) {
    Print(it.children[i], start_ms, inner, i + 1 == it.children.size(), out);
  }
}

void SortItems(std::vector<Item>* items) {
  std::stable_sort(items->begin(), items->end(), [](const Item& a, const Item& b) {
    if (a.time_ms != b.time_ms) return a.time_ms < b.time_ms;
    return a.order < b.order;
  });
  for (auto& it : *items) SortItems(&it.children);
}

const Json& List(const Json& trace, const char* key) {
  static const Json kEmpty = Json::array();
  if (trace.contains(key) && trace[key].is_array()) return trace[key];
  return kEmpty;
}

}  // namespace

std::string FormatDuration(int64_t ms) {
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  int64_t s = ms / 1000;
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string RenderConversation(const Json& c) {
  std::string out;
  out += fmt::format("conversation {}\n", Str(c, "id"));
  if (!Str(c, "title").empty()) out += fmt::format("  title       {}\n", Str(c, "title"));
  out += fmt::format("  status      {}\n", Str(c, "status"));
  out += fmt::format("  source      {}\n", Str(c, "source"));
  if (!Str(c, "agent").empty()) out += fmt::format("  agent       {}\n", Str(c, "agent"));
  out += fmt::format("  started     {}\n", Str(c, "started_at"));
  if (!Str(c, "ended_at").empty()) {
    out += fmt::format("  ended       {}{}\n", Str(c, "ended_at"), DurationSuffix(c));
  }
  if (!Str(c, "previous_id").empty()) {
    out += fmt::format("  previous    {}\n", Str(c, "previous_id"));
  }
  if (!Str(c, "trace_id").empty()) out += fmt::format("  trace id    {}\n", Str(c, "trace_id"));
  if (c.contains("external_ids") && c["external_ids"].is_array()) {
    for (const auto& e : c["external_ids"]) {
      out += fmt::format("  external    {}={}\n", Str(e, "kind"), Str(e, "value"));
    }
  }
  if (c.contains("attributes") && c["attributes"].is_object() && !c["attributes"].empty()) {
    out += fmt::format("  attributes  {}\n", c["attributes"].dump());
  }
  return out;
}

std::string RenderConversationList(const Json& list) {
  const Json& items = List(list, "conversations");
  if (items.empty()) return "no conversations\n";
  std::string out = fmt::format("{:<36}  {:<24}  {:>8}  {:<8}  {:<9}  {}\n", "ID", "STARTED",
                                "DURATION", "STATUS", "SOURCE", "TITLE");
  for (const auto& c : items) {
    auto d = Int(c, "duration_ms");
    out += fmt::format("{:<36}  {:<24}  {:>8}  {:<8}  {:<9}  {}\n", Str(c, "id"),
                       Str(c, "started_at"), d ? FormatDuration(*d) : "-", Str(c, "status"),
                       Str(c, "source"), FirstLine(Str(c, "title"), 60));
  }
  return out;
}

std::string RenderTrace(const Json& trace) {
  const Json& c = trace.contains("conversation") ? trace["conversation"] : Json::object();
  int64_t start = TimeMs(c, "started_at").value_or(0);
  std::string out;
  std::string title = Str(c, "title");
  out += fmt::format("conversation {}{}  [{}]  source {}{}\n", Str(c, "id"),
                     title.empty() ? "" : "  \"" + FirstLine(title, 60) + "\"", Str(c, "status"),
                     Str(c, "source"), Str(c, "agent").empty() ? "" : "  agent " + Str(c, "agent"));
  out += fmt::format("  started {}", Str(c, "started_at"));
  if (!Str(c, "ended_at").empty()) {
    out += fmt::format("  ended {}{}", Str(c, "ended_at"), DurationSuffix(c));
  }
  out += "\n";
  if (c.contains("external_ids") && c["external_ids"].is_array() && !c["external_ids"].empty()) {
    std::string ext;
    for (const auto& e : c["external_ids"]) {
      ext += (ext.empty() ? "" : ", ") + Str(e, "kind") + "=" + Str(e, "value");
    }
    out += "  external ids: " + ext + "\n";
  }
  if (!Str(c, "previous_id").empty()) out += "  previous conversation " + Str(c, "previous_id") + "\n";

  std::vector<Item> items;
  int order = 0;
  // Tool calls first, so commands and file changes carrying a tool_call_id nest under them.
  std::vector<std::pair<std::string, size_t>> by_tool_call;
  for (const auto& t : List(trace, "tool_calls")) {
    Item it;
    it.time_ms = TimeMs(t, "started_at").value_or(start);
    it.order = order++;
    auto code = Int(t, "exit_code");
    it.head = fmt::format("tool call {}  toolCallId={}  {}{}{}", Str(t, "name"),
                          Str(t, "tool_call_id"), Str(t, "status"),
                          code ? "  exit " + std::to_string(*code) : "", DurationSuffix(t));
    if (t.contains("params") && t["params"].is_object() && !t["params"].empty()) {
      it.details.push_back("params " + FirstLine(t["params"].dump(), 100));
    }
    if (!Str(t, "error").empty()) it.details.push_back("error " + FirstLine(Str(t, "error"), 100));
    by_tool_call.emplace_back(Str(t, "tool_call_id"), items.size());
    items.push_back(std::move(it));
  }
  auto parent_of = [&](const Json& j) -> Item* {
    std::string id = Str(j, "tool_call_id");
    if (id.empty()) return nullptr;
    for (auto& [tid, idx] : by_tool_call) {
      if (tid == id) return &items[idx];
    }
    return nullptr;
  };
  std::vector<Item> loose;
  for (const auto& cmd : List(trace, "commands")) {
    Item it = CommandItem(cmd, order++);
    if (Item* p = parent_of(cmd)) {
      p->children.push_back(std::move(it));
    } else {
      loose.push_back(std::move(it));
    }
  }
  for (const auto& f : List(trace, "file_changes")) {
    Item it = FileChangeItem(f, order++);
    if (Item* p = parent_of(f)) {
      p->children.push_back(std::move(it));
    } else {
      loose.push_back(std::move(it));
    }
  }
  for (const auto& cm : List(trace, "commits")) {
    Item it;
    it.time_ms = TimeMs(cm, "time").value_or(start);
    it.order = order++;
    std::string branch = Str(cm, "branch");
    it.head = fmt::format("commit {}{}  \"{}\"", Short(Str(cm, "sha")),
                          branch.empty() ? "" : " on " + branch,
                          FirstLine(Str(cm, "message"), 60));
    if (!Str(cm, "trailer").empty()) {
      it.details.push_back("Clawback-Conversation: " + Str(cm, "trailer"));
    }
    if (cm.contains("files") && cm["files"].is_array() && !cm["files"].empty()) {
      std::string files;
      for (const auto& f : cm["files"]) {
        files += (files.empty() ? "" : ", ") + (f.is_string() ? f.get<std::string>() : f.dump());
      }
      it.details.push_back("files " + FirstLine(files, 100));
    }
    if (!Str(cm, "repo").empty()) it.details.push_back("repo " + Str(cm, "repo"));
    loose.push_back(std::move(it));
  }
  for (const auto& d : List(trace, "deployments")) {
    Item it;
    it.time_ms = TimeMs(d, "started_at").value_or(start);
    it.order = order++;
    std::string sha = Str(d, "commit_sha");
    it.head = fmt::format("deployment {}  {}{}{}  id {}", Str(d, "environment"),
                          sha.empty() ? "" : "commit " + Short(sha) + "  ", Str(d, "status"),
                          DurationSuffix(d), Str(d, "id"));
    loose.push_back(std::move(it));
  }
  for (const auto& s : List(trace, "snapshots")) {
    Item it;
    it.time_ms = TimeMs(s, "time").value_or(start);
    it.order = order++;
    it.head = fmt::format("snapshot {}  reason {}", Short(Str(s, "snapshot_id")), Str(s, "reason"));
    if (s.contains("paths") && s["paths"].is_array() && !s["paths"].empty()) {
      it.details.push_back("paths " + FirstLine(s["paths"].dump(), 100));
    }
    loose.push_back(std::move(it));
  }
  for (const auto& b : List(trace, "backups")) {
    Item it;
    it.time_ms = TimeMs(b, "started_at").value_or(start);
    it.order = order++;
    it.head = fmt::format("backup job {}  {}{}", Str(b, "job"), Str(b, "status"), DurationSuffix(b));
    loose.push_back(std::move(it));
  }
  for (const auto& r : List(trace, "rollbacks")) {
    Item it;
    it.time_ms = TimeMs(r, "started_at").value_or(start);
    it.order = order++;
    it.head = fmt::format("rollback {} {} ({})  {}{}", Str(r, "target_kind"), Str(r, "target"),
                          Str(r, "mode"), Str(r, "status"), DurationSuffix(r));
    if (!Str(r, "pre_snapshot_id").empty()) {
      it.details.push_back("pre-rollback snapshot " + Short(Str(r, "pre_snapshot_id")));
    }
    loose.push_back(std::move(it));
  }
  for (auto& it : loose) items.push_back(std::move(it));
  SortItems(&items);
  if (items.empty()) {
    size_t events = List(trace, "events").size();
    out += fmt::format("  (nothing recorded yet besides {} event{})\n", events, events == 1 ? "" : "s");
    return out;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    Print(items[i], start, "", i + 1 == items.size(), &out);
  }
  size_t events = List(trace, "events").size();
  out += fmt::format("{} event{} in the ledger's chain for this conversation\n", events,
                     events == 1 ? "" : "s");
  return out;
}

}  // namespace clawback::cli
