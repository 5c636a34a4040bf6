// `clawback learn templates`: mine log templates from files.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "cli/cli.h"
#include "cli/learn_common.h"
#include "learn/templates/pipeline.h"
#include "learn/templates/state.h"

namespace clawback::cli {
namespace {

struct TemplatesArgs {
  std::vector<std::string> files;
  std::string log_format;
  std::vector<std::string> masks;
  double similarity = 0.5;
  int depth = 4;
  std::string csv;
  std::string state;
  bool no_state = false;
  bool no_builtin_masks = false;
  std::string grouping = "frequency";
  std::string unmatched = "skip";
  size_t batch = 1000000;
};

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string EventId(uint64_t id) { return "T" + std::to_string(id); }

Status RunTemplates(const TemplatesArgs& a, Cli& cli) {
  learn::MinerOptions mo;
  mo.similarity = a.similarity;
  mo.depth = a.depth;
  RETURN_IF_ERROR(learn::ValidateMinerOptions(mo));
  std::optional<learn::LogFormat> format;
  if (!a.log_format.empty()) {
    ASSIGN_OR_RETURN(auto f, learn::LogFormat::Parse(a.log_format));
    format = std::move(f);
  }
  learn::MaskOptions mask_opts;
  mask_opts.builtin = !a.no_builtin_masks;
  mask_opts.user_regexes = a.masks;
  ASSIGN_OR_RETURN(auto masker, learn::Masker::Create(mask_opts));

  std::string state_path;
  if (!a.no_state) state_path = a.state.empty() ? learn::DefaultTemplateStatePath(cli.DataDir()) : a.state;
  learn::TemplateMiner miner(mo);
  if (!state_path.empty()) {
    ASSIGN_OR_RETURN(miner, learn::LoadTemplateState(state_path, mo));
  }
  const size_t known_before = miner.size();
  learn::TemplatePipeline pipe(std::move(format), std::move(masker), std::move(miner),
                               a.unmatched == "whole" ? learn::UnmatchedLines::kWhole
                                                      : learn::UnmatchedLines::kSkip);

  std::vector<uint64_t> line_ids;  // template id per line (0: not mined), for --csv
  std::unordered_map<uint64_t, uint64_t> run_counts;
  // Where each file's lines start among all lines read, to name a line in messages.
  std::vector<std::pair<uint64_t, std::string>> file_starts;
  // Batch mode: the lines waiting for the next batch, viewing into `pending_data`.
  std::deque<std::string> pending_data;  // a deque: its strings never move
  std::vector<std::string_view> pending;
  auto record = [&](uint64_t id) {
    if (id) ++run_counts[id];
    if (!a.csv.empty()) line_ids.push_back(id);
  };
  auto flush = [&] {
    for (uint64_t id : pipe.AddBatch(pending)) record(id);
    pending.clear();
    pending_data.clear();
  };
  const bool batch = a.grouping == "frequency";
  uint64_t lines = 0;
  for (const auto& path : a.files) {
    file_starts.emplace_back(lines, path);
    ASSIGN_OR_RETURN(std::string data, ReadAll(path));
    if (batch) pending_data.push_back(std::move(data));
    std::string_view rest(batch ? pending_data.back() : data);
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ++lines;
      if (!batch) {
        record(pipe.AddLine(line));
        continue;
      }
      pending.push_back(line);
      // A full batch: mine it, keeping this file's text for the lines still to come.
      if (pending.size() >= a.batch) {
        const size_t offset =
            rest.empty() ? 0 : static_cast<size_t>(rest.data() - pending_data.back().data());
        std::string keep = std::move(pending_data.back());
        flush();
        pending_data.push_back(std::move(keep));
        rest = std::string_view(pending_data.back()).substr(offset, rest.size());
      }
    }
  }
  if (batch && !pending.empty()) flush();
  // "FILE:LINE" of the n-th line read (1-based).
  auto where = [&](uint64_t n) {
    size_t f = 0;
    while (f + 1 < file_starts.size() && file_starts[f + 1].first < n) ++f;
    return file_starts[f].second + ":" + std::to_string(n - file_starts[f].first);
  };
  const learn::TemplateMiner& m = pipe.miner();

  if (!a.csv.empty()) {
    FILE* out = std::fopen(a.csv.c_str(), "wb");
    if (!out) return ErrnoStatus("create " + a.csv, errno);
    std::unordered_map<uint64_t, std::string> text;
    std::fputs("LineId,EventId,EventTemplate\n", out);
    for (size_t i = 0; i < line_ids.size(); ++i) {
      auto it = text.find(line_ids[i]);
      if (line_ids[i] == 0) {  // did not match --log-format: not mined
        std::fprintf(out, "%zu,,\n", i + 1);
        continue;
      }
      if (it == text.end()) it = text.emplace(line_ids[i], CsvField(m.TemplateText(line_ids[i]))).first;
      std::fprintf(out, "%zu,%s,%s\n", i + 1, EventId(line_ids[i]).c_str(), it->second.c_str());
    }
    if (std::fclose(out) != 0) return ErrnoStatus("write " + a.csv, errno);
  }
  if (!state_path.empty()) RETURN_IF_ERROR(learn::SaveTemplateState(state_path, m));

  struct Row {
    uint64_t id, count, total;
    std::string text;
  };
  std::vector<Row> rows;
  std::unordered_map<uint64_t, uint64_t> totals;
  for (const auto& t : m.Templates()) totals[t.id] = t.count;
  for (auto [id, n] : run_counts) rows.push_back({id, n, totals[id], m.TemplateText(id)});
  std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) {
    return x.count != y.count ? x.count > y.count : x.id < y.id;
  });
  const uint64_t new_templates = m.size() - known_before;
  // Reported in every mode: stderr is not part of --json.
  if (pipe.unmatched() > 0) {
    std::fprintf(stderr, "clawback: %llu of %llu lines did not match --log-format and were %s\n",
                 static_cast<unsigned long long>(pipe.unmatched()),
                 static_cast<unsigned long long>(lines),
                 a.unmatched == "whole" ? "mined whole" : "not mined (--unmatched whole mines them)");
    for (const auto& [n, text] : pipe.unmatched_examples())
      std::fprintf(stderr, "  %s: %s\n", where(n).c_str(), text.c_str());
  }
  if (cli.global.json) {
    nlohmann::json j;
    j["lines"] = lines;
    j["templates_seen"] = rows.size();
    j["templates_new"] = new_templates;
    j["templates_known"] = m.size();
    j["unmatched_format"] = pipe.unmatched();
    auto& ex = j["unmatched_examples"] = nlohmann::json::array();
    for (const auto& [n, text] : pipe.unmatched_examples())
      ex.push_back({{"line", where(n)}, {"text", text}});
    j["state"] = state_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(state_path);
    if (!a.csv.empty()) j["csv"] = a.csv;
    auto& arr = j["templates"] = nlohmann::json::array();
    for (const auto& r : rows)
      arr.push_back({{"id", EventId(r.id)}, {"count", r.count}, {"total", r.total},
                     {"template", r.text}});
    std::printf("%s\n", j.dump().c_str());
    return Status::Ok();
  }
  if (!a.csv.empty()) {
    std::printf("%llu lines, %zu templates (%llu new) -> %s\n",
                static_cast<unsigned long long>(lines), rows.size(),
                static_cast<unsigned long long>(new_templates), a.csv.c_str());
  } else {
    std::printf("%10s  %-6s  %s\n", "COUNT", "ID", "TEMPLATE");
    for (const auto& r : rows)
      std::printf("%10llu  %-6s  %s\n", static_cast<unsigned long long>(r.count),
                  EventId(r.id).c_str(), r.text.c_str());
    std::printf("%llu lines, %zu templates (%llu new)\n", static_cast<unsigned long long>(lines),
                rows.size(), static_cast<unsigned long long>(new_templates));
  }
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto* learn = app.add_subcommand("learn", "Learn from logs: template mining");
  learn->require_subcommand(1);
  auto a = std::make_shared<TemplatesArgs>();
  auto* t = learn->add_subcommand(
      "templates",
      "Mine log templates: group lines by the message they print, with variables as <*>");
  t->add_option("FILE", a->files, "Log files to mine, in order ('-' reads stdin)")->required();
  t->add_option("--log-format", a->log_format,
                "Header format as in the log-parsing benchmarks: <Field> placeholders, the text "
                "between them a regular expression (a run of spaces matches any whitespace; "
                "\\[ is a bracket); only <Content> is mined. E.g. "
                "'<Month>  <Date> <Time> <Component>(\\[<PID>\\])?: <Content>'");
  t->add_option("--unmatched", a->unmatched,
                "Lines that do not match --log-format: 'skip' (counted, reported, not mined; "
                "empty EventId in --csv) or 'whole' (mined as they are)")
      ->check(CLI::IsMember({"skip", "whole"}))
      ->capture_default_str();
  t->add_option("--grouping", a->grouping,
                "'frequency': each batch of lines grouped by how often their words occur "
                "(Brain-style), then joined to known templates; 'tree': line by line through "
                "the Drain-style parse tree (--similarity, --depth)")
      ->check(CLI::IsMember({"frequency", "tree"}))
      ->capture_default_str();
  t->add_option("--batch", a->batch,
                "Lines per batch with --grouping frequency (a batch keeps its masked tokens in "
                "memory, about 3x its text)")
      ->check(CLI::Range(size_t{1}, size_t{50000000}))
      ->capture_default_str();
  t->add_option("--mask", a->masks,
                "Extra regex (ECMAScript) whose matches are variables; repeatable. Runs before "
                "the built-in masks (numbers, hex, IPs, UUIDs, paths, URLs, hosts, sizes, "
                "durations)");
  t->add_option("--similarity", a->similarity,
                "Share of token positions a line must share with a template to join it, (0,1]")
      ->capture_default_str();
  t->add_option("--depth", a->depth,
                "Parse-tree depth incl. root and length layers; depth-2 leading tokens route")
      ->capture_default_str();
  auto* csv = t->add_option("--csv", a->csv,
                            "Write LineId,EventId,EventTemplate per line to this file");
  t->add_option("--state", a->state,
                "Template state file (ids stay stable across runs); default "
                "<data dir>/learn/templates.json");
  t->add_flag("--no-state", a->no_state, "Neither load nor save template state")
      ->excludes("--state");
  t->add_flag("--no-builtin-masks", a->no_builtin_masks,
              "Mask only what --mask matches (for comparisons)");
  (void)csv;
  t->footer(
      "Examples:\n"
      "  clawback learn templates /var/log/app.log\n"
      "  clawback learn templates --log-format '<Date> <Time> <Level> <Component>: <Content>' \\\n"
      "      --csv out.csv --state /tmp/t.json HDFS_2k.log\n"
      "Template ids (T<n>) are kept in the state file: a template keeps its id in later runs\n"
      "while its text may generalise as more lines arrive.");
  t->callback([a, &cli] { cli.status = RunTemplates(*a, cli); });
}

CLAWBACK_REGISTER_COMMAND(600, Register);

}  // namespace
}  // namespace clawback::cli
