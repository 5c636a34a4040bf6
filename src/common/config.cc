#include "common/config.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <toml++/toml.h>

#include "common/suggest.h"

namespace clawback {
namespace {

// Splits "a.b.c" into its parts.
std::vector<std::string> SplitDotted(const std::string& dotted) {
  std::vector<std::string> parts;
  std::stringstream ss(dotted);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

// Whether `pattern` (parts, "*" matching any one part) equals `path` exactly, or — with
// `prefix` — starts with it.
bool Matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
             bool prefix) {
  if (prefix ? pattern.size() <= path.size() : pattern.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i)
    if (pattern[i] != "*" && pattern[i] != path[i]) return false;
  return true;
}

bool IsKnownKey(const std::vector<std::string>& path) {
  for (const auto& k : KnownConfigKeys())
    if (Matches(SplitDotted(k), path, false)) return true;
  return false;
}

bool IsKnownSection(const std::vector<std::string>& path) {
  for (const auto& k : KnownConfigKeys())
    if (Matches(SplitDotted(k), path, true)) return true;
  return false;
}

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < parts.size(); ++i) out += (i ? "." : "") + parts[i];
  return out;
}

// The names that may stand at `path`'s last place under the same parent: keys when
// `tables` is false, sub-table names when true.
std::vector<std::string> SiblingNames(const std::vector<std::string>& path, bool tables) {
  std::vector<std::string> out;
  std::vector<std::string> parent(path.begin(), path.end() - 1);
  for (const auto& k : KnownConfigKeys()) {
    auto parts = SplitDotted(k);
    if (!Matches(parts, parent, true)) continue;
    bool is_table = parts.size() > path.size();
    if (is_table != tables) continue;
    const std::string& name = parts[path.size() - 1];
    if (name != "*" && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::string TypeName(const toml::node& n);

// Every key and table of `table` must be one KnownConfigKeys() names.
Status CheckKnownKeys(const toml::table& table, const std::vector<std::string>& at,
                      const std::string& file) {
  for (const auto& [k, v] : table) {
    std::vector<std::string> path = at;
    path.emplace_back(k.str());
    std::string dotted = Join(path, path.size());
    std::string where = file;
    if (v.source().begin.line > 0) where += ":" + std::to_string(v.source().begin.line);
    if (v.is_table()) {
      if (IsKnownSection(path)) {
        RETURN_IF_ERROR(CheckKnownKeys(*v.as_table(), path, file));
        continue;
      }
      if (!IsKnownKey(path)) {
        std::string hint = NearestName(path.back(), SiblingNames(path, true));
        if (hint.empty()) hint = NearestName(path.back(), SiblingNames(path, false));
        std::string msg = where + ": unknown section [" + dotted + "]";
        if (!hint.empty()) msg += " (did you mean [" + Join(at, at.size()) + (at.empty() ? "" : ".") + hint + "]?)";
        return InvalidArgument(msg);
      }
      continue;
    }
    if (IsKnownKey(path)) continue;
    if (const toml::array* arr = v.as_array(); arr != nullptr && IsKnownSection(path)) {
      // An array of tables: each element's keys are checked like a section's.
      for (size_t i = 0; i < arr->size(); ++i) {
        const toml::table* t = arr->get(i)->as_table();
        if (t == nullptr) {
          return InvalidArgument(where + ": " + dotted + ": element " + std::to_string(i) +
                                 ": expected a table ({ key = value, … }), got " +
                                 TypeName(*arr->get(i)));
        }
        RETURN_IF_ERROR(CheckKnownKeys(*t, path, file));
      }
      continue;
    }
    if (IsKnownSection(path)) {
      return InvalidArgument(where + ": " + dotted + ": expected an array of tables ([{ … }, …]), got " +
                             TypeName(v));
    }
    std::string msg = where + ": " + dotted + ": unknown key";
    std::vector<std::string> keys = SiblingNames(path, false);
    std::string hint = NearestName(path.back(), keys);
    if (!hint.empty()) {
      msg += " (did you mean " + hint + "?)";
    } else if (!at.empty()) {
      msg += "; [" + Join(at, at.size()) + "] takes:";
      for (const auto& key : keys) msg += " " + key;
    } else {
      // A key above every section: say which section it belongs in.
      for (const auto& known : KnownConfigKeys()) {
        auto parts = SplitDotted(known);
        if (parts.size() > 1 && parts.back() == path.back()) {
          msg += " outside any section (did you mean " + parts.back() + " under [" +
                 Join(parts, parts.size() - 1) + "]?)";
          break;
        }
      }
    }
    return InvalidArgument(msg);
  }
  return Status::Ok();
}

std::string TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

}  // namespace

const std::vector<std::string>& KnownConfigKeys() {
  static const std::vector<std::string> keys = {
      "server.listen",
      "server.max_body_bytes",
      "server.metrics_require_token",
      "server.threads",
      "server.hmac_secret_file",
      "ledger.url",
      "repository.url",
      "repository.password_file",
      "repository.managed_paths",
      "telemetry.environment",
      "telemetry.queue_capacity",
      "telemetry.otlp.endpoint",
      "telemetry.otlp.protocol",
      "telemetry.loki.url",
      "telemetry.grafana.url",
      "telemetry.grafana.token_file",
      "learn.index",
      "learn.dimension",
      "learn.neighbors",
      "learn.min_similarity",
      "learn.confidence",
      "learn.qdrant.url",
      "learn.qdrant.collection",
      "learn.qdrant.api_key_env",
      "learn.loki.url",
      "learn.loki.query",
      "learn.loki.tenant",
      "learn.loki.limit",
      // Environments the time machine manages (docs/environments.md).
      "environments.*.paths",
      "environments.*.exclude",
      "environments.*.git",
      "environments.*.dumps.name",
      "environments.*.dumps.dump",
      "environments.*.dumps.load",
      "environments.*.deploy",
      "environments.*.health.http",
      "environments.*.health.expect",
      "environments.*.health.command",
      "environments.*.health.timeout",
      "environments.*.health.interval",
      "environments.*.health.passes",
      "environments.*.protect_agents",
      "environments.*.dump_on_pre",
  };
  return keys;
}

void ConfigSection::RequireKnown(const std::string& key) const {
  std::string dotted = Dotted(key);
  // An element of an array of tables ("environments.prod.health[0].http") is listed
  // without its index.
  for (size_t b = dotted.find('['); b != std::string::npos; b = dotted.find('[')) {
    const size_t e = dotted.find(']', b);
    if (e == std::string::npos) break;
    dotted.erase(b, e - b + 1);
  }
  if (IsKnownKey(SplitDotted(dotted))) return;
  // A getter for a key KnownConfigKeys() does not list: the file could never set it
  // (CheckKnownKeys would refuse it), so this is a bug in the caller.
  std::fprintf(stderr, "clawback: internal error: config key %s is read but not in KnownConfigKeys()\n",
               dotted.c_str());
  std::abort();
}

std::string ConfigSection::Dotted(const std::string& key) const {
  if (key.empty()) return prefix_;
  return prefix_.empty() ? key : prefix_ + "." + key;
}

Status ConfigSection::Error(const std::string& key, const std::string& problem) const {
  return InvalidArgument(file_ + ": " + Dotted(key) + ": " + problem);
}

bool ConfigSection::Has(const std::string& key) const {
  return table_ && table_->contains(key);
}

ConfigSection ConfigSection::Sub(const std::string& name) const {
  const toml::table* sub = table_ ? table_->get_as<toml::table>(name) : nullptr;
  return ConfigSection(file_, Dotted(name), sub);
}

std::vector<std::string> ConfigSection::SubTableNames() const {
  std::vector<std::string> out;
  if (!table_) return out;
  for (const auto& [k, v] : *table_)
    if (v.is_table()) out.emplace_back(k.str());
  return out;
}

Result<std::string> ConfigSection::GetString(const std::string& key,
                                             const std::string& def) const {
  RequireKnown(key);
  if (!table_) return def;
  const toml::node* n = table_->get(key);
  if (!n) return def;
  if (auto v = n->value<std::string>(); v && n->is_string()) return *v;
  return Error(key, "expected a string, got " + TypeName(*n));
}

Result<int64_t> ConfigSection::GetInt(const std::string& key, int64_t def) const {
  RequireKnown(key);
  if (!table_) return def;
  const toml::node* n = table_->get(key);
  if (!n) return def;
  if (n->is_integer()) return *n->value<int64_t>();
  return Error(key, "expected an integer, got " + TypeName(*n));
}

Result<double> ConfigSection::GetDouble(const std::string& key, double def) const {
  RequireKnown(key);
  if (!table_) return def;
  const toml::node* n = table_->get(key);
  if (!n) return def;
  if (n->is_number()) return *n->value<double>();
  return Error(key, "expected a number, got " + TypeName(*n));
}

Result<bool> ConfigSection::GetBool(const std::string& key, bool def) const {
  RequireKnown(key);
  if (!table_) return def;
  const toml::node* n = table_->get(key);
  if (!n) return def;
  if (n->is_boolean()) return *n->value<bool>();
  return Error(key, "expected true or false, got " + TypeName(*n));
}

Result<std::vector<std::string>> ConfigSection::GetStringArray(const std::string& key) const {
  RequireKnown(key);
  std::vector<std::string> out;
  if (!table_) return out;
  const toml::node* n = table_->get(key);
  if (!n) return out;
  const toml::array* arr = n->as_array();
  if (!arr) return Error(key, "expected an array of strings, got " + TypeName(*n));
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::node& e = *arr->get(i);
    if (!e.is_string())
      return Error(key, "element " + std::to_string(i) + ": expected a string, got " + TypeName(e));
    out.push_back(*e.value<std::string>());
  }
  return out;
}

Result<std::vector<ConfigSection>> ConfigSection::GetTableArray(const std::string& key) const {
  std::vector<ConfigSection> out;
  if (!table_) return out;
  const toml::node* n = table_->get(key);
  if (!n) return out;
  const toml::array* arr = n->as_array();
  if (!arr) return Error(key, "expected an array of tables ([{ … }, …]), got " + TypeName(*n));
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::table* t = arr->get(i)->as_table();
    if (!t) {
      return Error(key, "element " + std::to_string(i) + ": expected a table ({ key = value }), got " +
                            TypeName(*arr->get(i)));
    }
    out.emplace_back(file_, Dotted(key) + "[" + std::to_string(i) + "]", t);
  }
  return out;
}

std::vector<std::string> ConfigSection::Keys() const {
  std::vector<std::string> out;
  if (!table_) return out;
  for (const auto& [k, v] : *table_) out.emplace_back(k.str());
  return out;
}

Config::Config() : table_(std::make_unique<toml::table>()) {}
Config::~Config() = default;
Config::Config(Config&&) noexcept = default;
Config& Config::operator=(Config&&) noexcept = default;

ConfigSection Config::Root() const { return ConfigSection(file_, "", table_.get()); }

ConfigSection Config::Section(const std::string& dotted) const {
  ConfigSection s = Root();
  for (const auto& part : SplitDotted(dotted)) s = s.Sub(part);
  return s;
}

Config Config::Defaults(const std::string& data_dir) {
  Config c;
  c.file_ = data_dir + "/config.toml";
  c.data_dir_ = data_dir;
  return c;
}

Result<Config> Config::Parse(const std::string& text, const std::string& file,
                             const std::string& data_dir) {
  Config c;
  c.file_ = file;
  c.data_dir_ = data_dir;
  try {
    *c.table_ = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << file << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
      << e.description();
    return InvalidArgument(m.str());
  }
  RETURN_IF_ERROR(c.ParseCore());
  return c;
}

Result<Config> Config::Load(const std::string& file, const std::string& data_dir) {
  FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return ErrnoStatus("open " + file, errno);
  std::string text;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return Parse(text, file, data_dir);
}

Status Config::ParseCore() {
  RETURN_IF_ERROR(CheckKnownKeys(*table_, {}, file_));
  ConfigSection s = Root().Sub("server");
  ASSIGN_OR_RETURN(server.listen, s.GetString("listen", server.listen));
  ASSIGN_OR_RETURN(server.max_body_bytes, s.GetInt("max_body_bytes", server.max_body_bytes));
  if (server.max_body_bytes <= 0) return s.Error("max_body_bytes", "must be positive");
  ASSIGN_OR_RETURN(server.metrics_require_token,
                   s.GetBool("metrics_require_token", server.metrics_require_token));
  ASSIGN_OR_RETURN(server.threads, s.GetInt("threads", server.threads));
  ConfigSection l = Root().Sub("ledger");
  ASSIGN_OR_RETURN(ledger.url, l.GetString("url", ledger.url));
  ConfigSection r = Root().Sub("repository");
  ASSIGN_OR_RETURN(repository.url, r.GetString("url", repository.url));
  ASSIGN_OR_RETURN(repository.password_file, r.GetString("password_file", ""));
  ASSIGN_OR_RETURN(repository.managed_paths, r.GetStringArray("managed_paths"));
  return Status::Ok();
}

std::string Config::LedgerUrl() const {
  return ledger.url.empty() ? "sqlite:" + data_dir_ + "/ledger.db" : ledger.url;
}
std::string Config::RepositoryUrl() const {
  return repository.url.empty() ? data_dir_ + "/repo" : repository.url;
}
std::string Config::RepositoryPasswordFile() const {
  return repository.password_file.empty() ? data_dir_ + "/repo-password"
                                          : repository.password_file;
}

std::string DefaultConfigText(const std::string& repo_url, const std::string& password_file) {
  std::string t = R"(# clawback configuration. Every key is optional; the values shown are the defaults.
# Errors in this file name the key and the problem; `clawback serve` refuses to start on one.

[server]
# Where `clawback serve` listens. Keep it on loopback unless a proxy with TLS sits in front.
listen = "127.0.0.1:18800"
# Largest request body accepted, in bytes (larger ones get HTTP 413).
max_body_bytes = 1048576
# Require a viewer token for GET /metrics (off: exporters on loopback usually go without).
metrics_require_token = false

[ledger]
# Empty: SQLite in this data dir (ledger.db). For PostgreSQL use a libpq URL:
# url = "postgresql://clawback@127.0.0.1:5432/clawback"
url = ""

[repository]
# The snapshot repository (restic format v2): a path, or s3:https://HOST[:PORT]/BUCKET[/PREFIX].
# Empty: repo/ in this data dir.
)";
  t += "url = \"" + repo_url + "\"\n";
  t += "# The file holding the repository password. LOSING IT LOSES THE BACKUPS.\n";
  t += "password_file = \"" + password_file + "\"\n";
  t += R"(# Paths `clawback snapshot` takes when given none.
managed_paths = []
)";
  return t;
}

std::string ResolveDataDir(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  if (const char* h = std::getenv("CLAWBACK_HOME"); h && *h) return h;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/clawback";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/clawback";
}

}  // namespace clawback
