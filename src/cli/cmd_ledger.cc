// `clawback ledger verify|stats|migrate`: check the ledger's hash chain, show its size, and
// create or upgrade its schema. They work on the data dir's ledger (config.toml's
// [ledger] url: SQLite at <data dir>/ledger.db by default, or PostgreSQL).
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "ledger/ledger.h"

namespace clawback::cli {
namespace {

// "postgresql://user:secret@host/db" → "postgresql://user:***@host/db".
std::string RedactUrl(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

struct OpenedLedger {
  std::unique_ptr<ledger::Ledger> ledger;
  std::string url;  // redacted
};

// Opens the data dir's ledger. `need_schema`: fail unless it has been migrated.
Result<OpenedLedger> OpenForCommand(const Cli& cli, bool need_schema) {
  struct stat st;
  if (::stat(cli.ConfigPath().c_str(), &st) != 0) {
    return FailedPrecondition("the data dir " + cli.DataDir() +
                              " is not initialised (no config.toml): run `clawback init" +
                              (cli.global.data_dir.empty() ? "" : " --data-dir " + cli.DataDir()) +
                              "` first");
  }
  ASSIGN_OR_RETURN(Config config, cli.LoadConfig());
  OpenedLedger out;
  out.url = RedactUrl(config.LedgerUrl());
  ASSIGN_OR_RETURN(out.ledger, ledger::OpenLedger(config.LedgerUrl()));
  if (need_schema) {
    ASSIGN_OR_RETURN(int version, out.ledger->SchemaVersion());
    if (version == 0) {
      return FailedPrecondition("the ledger " + out.url +
                                " has no schema yet: run `clawback init` or `clawback ledger "
                                "migrate`");
    }
  }
  return out;
}

void PrintJson(const nlohmann::json& j) { std::printf("%s\n", j.dump().c_str()); }

Status RunVerify(Cli& cli) {
  ASSIGN_OR_RETURN(OpenedLedger l, OpenForCommand(cli, true));
  ASSIGN_OR_RETURN(ledger::VerifyReport report, l.ledger->VerifyChain());
  // Where it fails: an event of the chain ("event 42") or a projection row ("tool_calls
  // row conversation_id=…, tool_call_id=…").
  std::string where = report.first_bad_seq ? "event " + std::to_string(*report.first_bad_seq)
                                           : report.table + " row " + report.row;
  if (cli.global.json) {
    PrintJson({{"ok", report.ok},
               {"rows_checked", report.rows_checked},
               {"projection_rows_checked", report.projection_rows_checked},
               {"first_bad_seq", report.first_bad_seq ? nlohmann::json(*report.first_bad_seq)
                                                      : nlohmann::json(nullptr)},
               {"table", report.table.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.table)},
               {"row", report.row.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.row)},
               {"problem", report.problem},
               {"backend", std::string(l.ledger->backend())},
               {"ledger", l.url}});
  } else if (report.ok) {
    std::printf(
        "ledger ok: %lld events checked, the hash chain is intact; %lld projection rows match "
        "their seals (%s)\n",
        static_cast<long long>(report.rows_checked),
        static_cast<long long>(report.projection_rows_checked), l.url.c_str());
  } else if (report.first_bad_seq) {
    std::printf("ledger CORRUPT: event %lld fails the hash chain after %lld events checked (%s)\n",
                static_cast<long long>(*report.first_bad_seq),
                static_cast<long long>(report.rows_checked), l.url.c_str());
  } else {
    std::printf("ledger CORRUPT: %s %s does not match its seal (%s)\n", report.table.c_str(),
                report.row.c_str(), l.url.c_str());
  }
  if (!report.ok) return Corruption(where + ": " + report.problem);
  return Status::Ok();
}

Status RunStats(Cli& cli) {
  ASSIGN_OR_RETURN(OpenedLedger l, OpenForCommand(cli, true));
  ASSIGN_OR_RETURN(ledger::LedgerStats s, l.ledger->Stats());
  ASSIGN_OR_RETURN(int version, l.ledger->SchemaVersion());
  if (cli.global.json) {
    PrintJson({{"backend", std::string(l.ledger->backend())},
               {"ledger", l.url},
               {"schema_version", version},
               {"events", s.events},
               {"conversations", s.conversations},
               {"size_bytes", s.size_bytes}});
  } else {
    std::printf("ledger          %s\n", l.url.c_str());
    std::printf("backend         %s (schema version %d)\n",
                std::string(l.ledger->backend()).c_str(), version);
    std::printf("conversations   %lld\n", static_cast<long long>(s.conversations));
    std::printf("events          %lld\n", static_cast<long long>(s.events));
    std::printf("size            %.1f MiB (%lld bytes)\n", s.size_bytes / 1048576.0,
                static_cast<long long>(s.size_bytes));
  }
  return Status::Ok();
}

Status RunMigrate(Cli& cli) {
  ASSIGN_OR_RETURN(OpenedLedger l, OpenForCommand(cli, false));
  ASSIGN_OR_RETURN(int before, l.ledger->SchemaVersion());
  RETURN_IF_ERROR(l.ledger->Migrate());
  ASSIGN_OR_RETURN(int after, l.ledger->SchemaVersion());
  if (cli.global.json) {
    PrintJson({{"ledger", l.url}, {"from_version", before}, {"to_version", after}});
  } else if (before == after) {
    std::printf("ledger schema is current (version %d): %s\n", after, l.url.c_str());
  } else {
    std::printf("ledger schema upgraded from version %d to %d: %s\n", before, after,
                l.url.c_str());
  }
  return Status::Ok();
}

void Register(CLI::App& app, Cli& cli) {
  auto* group = app.add_subcommand("ledger", "Check and maintain the ledger (the record itself)");
  group->require_subcommand(1);
  group->footer(
      "The ledger is the data dir's database (config.toml [ledger] url; SQLite at\n"
      "<data dir>/ledger.db by default, or PostgreSQL). Every event row carries the SHA-256\n"
      "of its content and of the row before it, so an edited or deleted row breaks the chain;\n"
      "every row `trace` shows carries a seal tying it to the chain, so an edited one fails too.");

  auto* verify = group->add_subcommand("verify", "Check the event hash chain and every projection row's seal");
  verify->footer(
      "Exit codes: 0 the chain and every seal hold; 8 an event or a row fails the check (the\n"
      "message names it: `event <seq>: …`, `commands row id=…: …`); 6 the data dir or ledger\n"
      "is not initialised.\n\n"
      "Examples:\n"
      "  clawback ledger verify\n"
      "  clawback ledger verify --json   # {\"ok\":…,\"first_bad_seq\":…,\"table\":…,\"row\":…}");
  verify->callback([&cli] { cli.status = RunVerify(cli); });

  auto* stats = group->add_subcommand("stats", "Count conversations and events; show the size on disk");
  stats->footer(
      "Examples:\n"
      "  clawback ledger stats\n"
      "  clawback ledger stats --json    # {\"events\":…,\"conversations\":…,\"size_bytes\":…}");
  stats->callback([&cli] { cli.status = RunStats(cli); });

  auto* migrate = group->add_subcommand(
      "migrate", "Create or upgrade the ledger's schema (`clawback init` does this too)");
  migrate->footer(
      "Safe to run at any time and from several processes: migrations are versioned\n"
      "(schema_migrations table) and each runs once. A ledger newer than this clawback is\n"
      "refused (exit 6).");
  migrate->callback([&cli] { cli.status = RunMigrate(cli); });
}

CLAWBACK_REGISTER_COMMAND(80, Register);

}  // namespace
}  // namespace clawback::cli
