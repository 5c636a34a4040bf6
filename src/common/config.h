// clawback's configuration: one TOML file, `<data dir>/config.toml`.
//
// The core sections are parsed into typed structs here; a subsystem that owns a section
// (telemetry, learn, …) reads it through ConfigSection, whose errors always name the
// file, the key and the problem: "config.toml: server.listen: expected a string, got an
// integer". The full key list is documented in the commented file `clawback init` writes
// (DefaultConfigText()).
//
// Thread-safety: values; immutable after loading.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace clawback {

// Every key config.toml may hold, dotted ("server.listen"); a part "*" matches any table
// name. A file with any other key or section is refused, naming the file, line, key and the
// nearest known key ("config.toml:12: ledger.ulr: unknown key (did you mean url?)").
// docs/config.md documents each; a getter for a key not listed here aborts.
const std::vector<std::string>& KnownConfigKeys();

// A read-only view of one table of the config, with typed getters whose errors name the
// dotted key ("telemetry.otlp.endpoint").
class ConfigSection {
 public:
  ConfigSection(std::string file, std::string prefix, const toml::table* table)
      : file_(std::move(file)), prefix_(std::move(prefix)), table_(table) {}

  bool present() const { return table_ != nullptr; }
  bool Has(const std::string& key) const;
  ConfigSection Sub(const std::string& name) const;

  Result<std::string> GetString(const std::string& key, const std::string& def) const;
  Result<int64_t> GetInt(const std::string& key, int64_t def) const;
  Result<double> GetDouble(const std::string& key, double def) const;
  Result<bool> GetBool(const std::string& key, bool def) const;
  Result<std::vector<std::string>> GetStringArray(const std::string& key) const;
  // An array of tables (`health = [{ http = "…" }, …]` or `[[…health]]`), one section per
  // element, named "prefix.key[i]" in errors; its keys are listed as "prefix.key.name".
  Result<std::vector<ConfigSection>> GetTableArray(const std::string& key) const;
  // The keys this table holds, in file order.
  std::vector<std::string> Keys() const;
  // Names of the sub-tables (e.g. the environments under [environments]).
  std::vector<std::string> SubTableNames() const;

  // "file: prefix.key: problem"
  Status Error(const std::string& key, const std::string& problem) const;

 private:
  std::string Dotted(const std::string& key) const;
  // Aborts when `key` is not one KnownConfigKeys() lists (a programmer error).
  void RequireKnown(const std::string& key) const;
  std::string file_;
  std::string prefix_;
  const toml::table* table_;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:18800";
  int64_t max_body_bytes = 1 << 20;
  bool metrics_require_token = false;
  int64_t threads = 0;  // 0: the number of cores, at least 4
};

struct LedgerConfig {
  // Empty: SQLite at <data dir>/ledger.db. Otherwise "sqlite:PATH" or
  // "postgresql://user:pass@host:port/db" (libpq URL).
  std::string url;
};

struct RepositoryConfig {
  std::string url;            // empty: <data dir>/repo
  std::string password_file;  // empty: <data dir>/repo-password
  std::vector<std::string> managed_paths;  // default paths for `clawback snapshot`
};

class Config {
 public:
  Config();
  ~Config();
  Config(Config&&) noexcept;
  Config& operator=(Config&&) noexcept;

  // Loads `file`. A missing file is NotFound; a syntax error is InvalidArgument naming the
  // line and column.
  static Result<Config> Load(const std::string& file, const std::string& data_dir);
  // Parses TOML text (tests); `file` only names it in errors.
  static Result<Config> Parse(const std::string& text, const std::string& file,
                              const std::string& data_dir);
  // Defaults only, as if the file were empty.
  static Config Defaults(const std::string& data_dir);

  const std::string& file() const { return file_; }
  const std::string& data_dir() const { return data_dir_; }
  ServerConfig server;
  LedgerConfig ledger;
  RepositoryConfig repository;

  // The whole file, for sections other subsystems own.
  ConfigSection Root() const;
  ConfigSection Section(const std::string& dotted) const;

  // The effective values, resolved against the data dir.
  std::string LedgerUrl() const;
  std::string RepositoryUrl() const;
  std::string RepositoryPasswordFile() const;

 private:
  Status ParseCore();
  std::string file_;
  std::string data_dir_;
  std::unique_ptr<toml::table> table_;
};

// The commented config file `clawback init` writes.
std::string DefaultConfigText(const std::string& repo_url, const std::string& password_file);

// The data dir from, in order: the flag's value when not empty, $CLAWBACK_HOME,
// $XDG_DATA_HOME/clawback, ~/.local/share/clawback.
std::string ResolveDataDir(const std::string& flag_value);

}  // namespace clawback
