// bench/learn/learn_eval: the learning system's evaluation harness (issue #6, item 6).
//
// A deterministic generator (seeded std::mt19937_64) of a synthetic operating history:
// services with their own log vocabularies, deployments across environments, and injected
// failure modes of several kinds, each with the resolution that worked (mostly, not always,
// the same one per kind). Everything goes through the real path: a SQLite ledger in a temp
// dir (deployments, health checks, rollback records, resolution events, fix deployments),
// logs through LearnEngine::Ingest, advice from LearnEngine::RecommendForDeployment.
//
// Protocol: the history is split in time; the first part is recorded with its outcomes
// (training), then each held-out incident of the later part is ingested with a failed
// health check and no resolution, and the engine is asked what to do. Scored: top-1 and
// top-3 accuracy of the recommended action and the mean reciprocal rank, against a
// baseline that always ranks resolutions by their training frequency.
//
// usage: learn_eval [--seed N] [--deployments N] [--holdout F] [--json] [--min-top1 X]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "learn/engine.h"
#include "ledger/ledger.h"

namespace {

using namespace clawback;
using Json = nlohmann::json;

struct Service {
  std::string name;
  std::vector<std::string> normal;  // message formats; {n} number, {id} hex id, {p} path
};

struct FailureMode {
  std::string name;
  std::string service;  // where it shows
  std::vector<std::string> signature;
  std::vector<std::pair<std::string, double>> resolutions;  // action, probability
  std::vector<std::string> paths;                            // typical changed paths
};

const std::vector<Service> kServices = {
    {"api", {"http: GET /v1/items/{n} 200 in {n}ms", "http: POST /v1/orders 201 in {n}ms",
             "auth: token {id} validated for user {n}", "cache: hit ratio {n}% over {n} keys",
             "http: GET /healthz 200 in {n}ms"}},
    {"worker", {"worker: job {id} done in {n}ms", "queue: {n} messages pending in orders",
                "worker: picked job {id} from queue orders", "scheduler: next run in {n}s"}},
    {"web", {"nginx: {n}.{n}.{n}.{n} \"GET /static/app.{id}.js\" 200 {n}",
             "ssr: rendered /products/{n} in {n}ms", "nginx: upstream api keepalive {n}"}},
    {"billing", {"billing: invoice {id} created for account {n}", "payments: charge {id} captured amount={n}",
                 "billing: reconciliation batch {n} ok"}},
    {"search", {"search: query took {n}ms hits={n}", "index: segment {n} merged ({n} docs)",
                "search: refresh interval {n}s"}},
};

const std::vector<FailureMode> kModes = {
    {"config_parse", "api",
     {"config: cannot parse {p}: unknown key 'pool_size' at line {n}", "main: exiting with status 78"},
     {{"rollback", 0.9}, {"revert_commit", 0.1}}, {"/etc/app/app.toml"}},
    {"migration_lock", "worker",
     {"migrate: waiting for lock on table orders ({n}s)", "db: lock wait timeout exceeded; try restarting transaction"},
     {{"wait", 0.85}, {"rollback", 0.15}}, {"/srv/app/migrations/{n}_orders.sql"}},
    {"memory_leak", "worker",
     {"runtime: out of memory allocating {n} bytes", "kernel: Killed process {n} (worker) total-vm:{n}kB"},
     {{"revert_commit", 0.85}, {"rollback", 0.15}}, {"/srv/app/worker/batch.go"}},
    {"tls_expired", "web",
     {"tls: certificate /etc/ssl/web.pem has expired", "nginx: SSL_do_handshake() failed (SSL: error:{id})"},
     {{"restore_file", 0.9}, {"wait", 0.1}}, {"/etc/ssl/web.pem"}},
    {"dependency_outage", "billing",
     {"payments: upstream timed out after {n}s", "billing: circuit breaker open for payments-gateway"},
     {{"wait", 0.9}, {"rollback", 0.1}}, {}},
    {"bad_schema", "api",
     {"db: column \"discount_code\" of relation \"orders\" does not exist", "http: POST /v1/orders 500 in {n}ms"},
     {{"rollback", 0.85}, {"revert_commit", 0.15}}, {"/srv/app/models/order.py"}},
    {"missing_asset", "web",
     {"static: open /srv/web/assets/{id}.css: no such file or directory", "ssr: render failed for /products/{n}: asset missing"},
     {{"restore_file", 0.85}, {"rollback", 0.15}}, {"/srv/web/assets/manifest.json"}},
    {"index_panic", "search",
     {"panic: runtime error: index out of range [{n}] with length {n}", "search: worker {n} crashed, restarting"},
     {{"revert_commit", 0.9}, {"wait", 0.1}}, {"/srv/search/ranker.go"}},
};

// Lines that appear in every incident whatever its kind, and now and then in healthy
// deployments: confounders, so the signature has to carry the decision.
const std::vector<std::string> kGenericErrors = {"http: request failed status=500 path=/v1/{id}",
                                                 "healthcheck: readiness probe failed: HTTP {n}"};
const std::vector<std::string> kNoise = {"http: client closed connection after {n}ms (WARN)",
                                         "gc: pause {n}ms", "dns: lookup api.internal took {n}ms"};

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  double Real() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))]; }
  std::string Hex(int n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(d[Int(0, 15)]);
    return s;
  }
  std::string Fill(const std::string& f) {
    std::string out;
    for (size_t i = 0; i < f.size(); ++i) {
      if (f.compare(i, 3, "{n}") == 0) {
        out += std::to_string(Int(1, 99999));
        i += 2;
      } else if (f.compare(i, 4, "{id}") == 0) {
        out += Hex(12);
        i += 3;
      } else if (f.compare(i, 3, "{p}") == 0) {
        out += "/etc/app/app.toml";
        i += 2;
      } else {
        out.push_back(f[i]);
      }
    }
    return out;
  }
  std::string Line(int64_t ms, const std::string& level, const std::string& msg) {
    char ts[40];
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm;
    gmtime_r(&t, &tm);
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
    return std::string(ts) + frac + " " + level + " " + Fill(msg);
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

struct Planned {
  int64_t time_ms;
  std::string env;
  std::string service;
  int mode = -1;  // -1: healthy
  std::string action;  // the resolution that works, for an incident
  std::vector<std::string> logs;
  std::vector<std::string> paths;
};

std::vector<Planned> Generate(Gen& g, int n) {
  std::vector<Planned> out;
  int64_t t = 1'767'225'600'000;  // 2026-01-01
  const std::vector<std::string> envs = {"prod", "staging"};
  for (int i = 0; i < n; ++i) {
    Planned p;
    t += g.Int(20, 180) * 60'000;
    p.time_ms = t;
    p.env = envs[g.Real() < 0.6 ? 0 : 1];
    const bool incident = g.Real() < 0.35;
    if (incident) {
      p.mode = g.Int(0, static_cast<int>(kModes.size()) - 1);
      const auto& m = kModes[static_cast<size_t>(p.mode)];
      p.service = m.service;
      double r = g.Real(), acc = 0;
      p.action = m.resolutions.back().first;
      for (const auto& [a, prob] : m.resolutions) {
        acc += prob;
        if (r < acc) {
          p.action = a;
          break;
        }
      }
      for (const auto& path : m.paths) p.paths.push_back(g.Fill(path));
    } else {
      p.service = g.Pick(kServices).name;
    }
    if (g.Real() < 0.7) p.paths.push_back("/srv/app/" + p.service + "/" + g.Hex(4) + ".go");
    const Service* svc = nullptr;
    for (const auto& s : kServices)
      if (s.name == p.service) svc = &s;
    int64_t lt = t;
    int lines = g.Int(60, 240);
    int sig_at = incident ? g.Int(lines / 4, lines / 2) : -1;
    for (int k = 0; k < lines; ++k) {
      lt += g.Int(10, 2000);
      double r = g.Real();
      if (r < 0.75) p.logs.push_back(g.Line(lt, "INFO", g.Pick(svc->normal)));
      else if (r < 0.9) p.logs.push_back(g.Line(lt, "INFO", g.Pick(g.Pick(kServices).normal)));
      else if (r < 0.97) p.logs.push_back(g.Line(lt, "DEBUG", g.Pick(kNoise)));
      else p.logs.push_back(g.Line(lt, "WARN", g.Pick(kNoise)));
      if (!incident && g.Real() < 0.01) p.logs.push_back(g.Line(lt, "ERROR", g.Pick(kGenericErrors)));
      if (incident && k >= sig_at) {
        const auto& m = kModes[static_cast<size_t>(p.mode)];
        if (g.Real() < 0.25) p.logs.push_back(g.Line(lt, "ERROR", g.Pick(m.signature)));
        if (g.Real() < 0.15) p.logs.push_back(g.Line(lt, "ERROR", g.Pick(kGenericErrors)));
      }
    }
    if (incident)  // at least one of each signature line
      for (const auto& s : kModes[static_cast<size_t>(p.mode)].signature) p.logs.push_back(g.Line(lt, "ERROR", s));
    out.push_back(std::move(p));
  }
  return out;
}

struct Recorder {
  ledger::Ledger* l;
  UuidV7Generator* ids;
  int commit = 0;

  std::string NextSha() {
    char b[16];
    std::snprintf(b, sizeof b, "%08x", ++commit * 2654435761u);
    return b;
  }
  ledger::Deployment Deploy(const Planned& p, const std::string& status) {
    ledger::Conversation c;
    c.id = ids->Next();
    c.source = "eval";
    c.started_at_ms = p.time_ms;
    ledger::Deployment d;
    d.id = ids->Next();
    d.conversation_id = c.id;
    d.environment = p.env;
    d.commit_sha = NextSha();
    d.status = status;
    d.started_at_ms = p.time_ms;
    d.attributes = {{"services", {p.service}}, {"paths", p.paths}};
    ledger::WriteBatch b;
    b.Add(c);
    b.Add(d);
    Check(l->Apply(b));
    return d;
  }
  void Event(const ledger::Deployment& d, const std::string& kind, Json attrs, int64_t t) {
    attrs["deployment_id"] = d.id.ToString();
    ledger::Event e;
    e.id = ids->Next();
    e.conversation_id = d.conversation_id;
    e.kind = kind;
    e.time_ms = t;
    e.attributes = std::move(attrs);
    ledger::WriteBatch b;
    b.Add(e);
    Check(l->Apply(b));
  }
  static void Check(const Status& s) {
    if (!s.ok()) {
      std::fprintf(stderr, "learn_eval: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = 1;
  int n = 600;
  double holdout = 0.25;
  bool json = false;
  double min_top1 = -1;  // --min-top1 X: exit 1 below X or at/below the baseline (ctest)
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--deployments" && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (a == "--holdout" && i + 1 < argc) holdout = std::atof(argv[++i]);
    else if (a == "--json") json = true;
    else if (a == "--min-top1" && i + 1 < argc) min_top1 = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "usage: learn_eval [--seed N] [--deployments N] [--holdout F] [--json] [--min-top1 X]\n");
      return 2;
    }
  }
  auto wall0 = std::chrono::steady_clock::now();
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("learn_eval_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);

  Gen g(seed);
  auto plan = Generate(g, n);
  ManualClock clock(plan.front().time_ms * 1'000'000);
  UuidV7Generator ids(clock);
  auto l = ledger::OpenLedger("sqlite:" + (dir / "ledger.db").string(), clock);
  Recorder::Check(l.status());
  Recorder::Check((*l)->Migrate());
  learn::LearnOptions opts;
  opts.dir = (dir / "learn").string();
  auto engine = learn::LearnEngine::Open(opts, l->get(), clock);
  Recorder::Check(engine.status());
  Recorder rec{l->get(), &ids};

  const size_t cut = static_cast<size_t>(static_cast<double>(plan.size()) * (1.0 - holdout));
  std::map<std::string, int> train_freq;
  // Training: the history with its outcomes.
  for (size_t i = 0; i < cut; ++i) {
    const Planned& p = plan[i];
    clock.SetUnixNanos(p.time_ms * 1'000'000);
    if (p.mode < 0) {
      auto d = rec.Deploy(p, "succeeded");
      Recorder::Check((*engine)->Ingest(d.id, p.logs, "eval").status());
      rec.Event(d, "health_check", {{"name", "smoke"}, {"passed", true}}, p.time_ms + 60'000);
      continue;
    }
    ++train_freq[p.action];
    auto d = rec.Deploy(p, "started");
    Recorder::Check((*engine)->Ingest(d.id, p.logs, "eval").status());
    rec.Event(d, "health_check", {{"name", "smoke"}, {"passed", false}}, p.time_ms + 60'000);
    const int64_t fixed_at = p.time_ms + 60'000 + g.Int(1, 12) * 60'000;
    if (p.action == "rollback") {
      ledger::Deployment done = d;
      done.status = "rolled_back";
      done.finished_at_ms = fixed_at;
      ledger::RollbackRecord r;
      r.id = ids.Next();
      r.conversation_id = d.conversation_id;
      r.target_kind = "deployment";
      r.target = d.id.ToString();
      r.mode = g.Real() < 0.5 ? "selective" : "exact";
      r.status = "succeeded";
      r.started_at_ms = fixed_at;
      r.finished_at_ms = fixed_at;
      ledger::WriteBatch b;
      b.Add(done);
      b.Add(r);
      Recorder::Check(rec.l->Apply(b));
    } else if (p.action == "wait") {
      rec.Event(d, "health_check", {{"name", "smoke"}, {"passed", true}}, fixed_at);
      ledger::Deployment done = d;
      done.status = "succeeded";
      done.finished_at_ms = fixed_at;
      ledger::WriteBatch b;
      b.Add(done);
      Recorder::Check(rec.l->Apply(b));
    } else if (p.action == "restore_file") {
      std::string path = p.paths.empty() ? "/etc/app/app.toml" : p.paths.front();
      rec.Event(d, "deployment.resolution", {{"action", "restore_file"}, {"path", path}, {"snapshot", g.Hex(8)}},
                fixed_at);
      ledger::Deployment done = d;
      done.status = "failed";
      done.finished_at_ms = fixed_at;
      ledger::WriteBatch b;
      b.Add(done);
      Recorder::Check(rec.l->Apply(b));
    } else {  // revert_commit: the environment's next deployment is the fix, and it is healthy
      ledger::Deployment done = d;
      done.status = "failed";
      done.finished_at_ms = fixed_at;
      ledger::WriteBatch b;
      b.Add(done);
      Recorder::Check(rec.l->Apply(b));
      Planned fix = p;
      fix.time_ms = fixed_at + 1;
      fix.mode = -1;
      auto f = rec.Deploy(fix, "succeeded");
      (void)f;  // no logs ingested for the fix itself
    }
  }
  std::string baseline_top;
  std::vector<std::pair<int, std::string>> by_freq;
  for (auto& [a, c] : train_freq) by_freq.emplace_back(-c, a);
  std::sort(by_freq.begin(), by_freq.end());
  int training_incidents = 0;
  for (const auto& [a, c] : train_freq) training_incidents += c;
  baseline_top = by_freq.empty() ? "rollback" : by_freq[0].second;

  // Held out: incidents only, asked about as they happen (no resolution recorded).
  int oracle = 0;
  int cases = 0, top1 = 0, top3 = 0, b1 = 0, b3 = 0, confident = 0, confident_right = 0;
  double mrr = 0, bmrr = 0;
  std::map<std::string, std::pair<int, int>> per_mode;  // mode -> (right, total)
  for (size_t i = cut; i < plan.size(); ++i) {
    const Planned& p = plan[i];
    if (p.mode < 0) continue;
    clock.SetUnixNanos(p.time_ms * 1'000'000);
    auto d = rec.Deploy(p, "started");
    Recorder::Check((*engine)->Ingest(d.id, p.logs, "eval").status());
    rec.Event(d, "health_check", {{"name", "smoke"}, {"passed", false}}, p.time_ms + 60'000);
    auto r = (*engine)->RecommendForDeployment(d.id);
    Recorder::Check(r.status());
    ++cases;
    int rank = 0;
    for (size_t k = 0; k < r->actions.size(); ++k)
      if (r->actions[k].action == p.action) {
        rank = static_cast<int>(k) + 1;
        break;
      }
    if (rank == 1) ++top1;
    if (rank >= 1 && rank <= 3) ++top3;
    if (rank > 0) mrr += 1.0 / rank;
    int brank = 0;
    for (size_t k = 0; k < by_freq.size(); ++k)
      if (by_freq[k].second == p.action) brank = static_cast<int>(k) + 1;
    if (brank == 1) ++b1;
    if (brank >= 1 && brank <= 3) ++b3;
    if (brank > 0) bmrr += 1.0 / brank;
    if (r->confident) {
      ++confident;
      if (rank == 1) ++confident_right;
    }
    // The ceiling: knowing the failure mode exactly and answering its usual resolution.
    if (p.action == kModes[static_cast<size_t>(p.mode)].resolutions.front().first) ++oracle;
    auto& pm = per_mode[kModes[static_cast<size_t>(p.mode)].name];
    pm.second++;
    if (rank == 1) pm.first++;
    // Leave it failed and unresolved: it teaches nothing to later held-out cases.
    ledger::Deployment done = d;
    done.status = "failed";
    ledger::WriteBatch b;
    b.Add(done);
    Recorder::Check(rec.l->Apply(b));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  auto frac = [&](int x) { return cases ? static_cast<double>(x) / cases : 0.0; };
  Json out = {{"seed", seed},
              {"deployments", n},
              {"training_deployments", cut},
              {"training_incidents", training_incidents},
              {"held_out_incidents", cases},
              {"model", {{"top1", frac(top1)}, {"top3", frac(top3)}, {"mrr", cases ? mrr / cases : 0}}},
              {"baseline", {{"always", baseline_top}, {"top1", frac(b1)}, {"top3", frac(b3)}, {"mrr", cases ? bmrr / cases : 0}}},
              {"ceiling_top1", frac(oracle)},
              {"confident", confident},
              {"confident_precision", confident ? static_cast<double>(confident_right) / confident : 0.0},
              {"seconds", secs}};
  Json modes = Json::object();
  for (const auto& [m, rt] : per_mode)
    modes[m] = {{"top1", static_cast<double>(rt.first) / rt.second}, {"cases", rt.second}};
  out["per_mode_top1"] = modes;
  if (json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("learn_eval seed %llu: %d deployments, %zu for training (%d incidents), %d held-out incidents\n",
                static_cast<unsigned long long>(seed), n, cut, training_incidents, cases);
    std::printf("%-34s %6s %6s %6s\n", "", "top-1", "top-3", "MRR");
    std::printf("%-34s %6.3f %6.3f %6.3f\n", "recommender (k-NN over fingerprints)", frac(top1), frac(top3),
                cases ? mrr / cases : 0);
    std::printf("%-34s %6.3f %6.3f %6.3f\n", ("baseline (always " + baseline_top + ")").c_str(), frac(b1),
                frac(b3), cases ? bmrr / cases : 0);
    std::printf("%-34s %6.3f\n", "ceiling (the mode's usual fix)", frac(oracle));
    std::printf("confident recommendations: %d of %d, %.3f of them right\n", confident, cases,
                confident ? static_cast<double>(confident_right) / confident : 0.0);
    for (const auto& [m, rt] : per_mode)
      std::printf("  %-18s top-1 %.3f (%d cases)\n", m.c_str(), static_cast<double>(rt.first) / rt.second, rt.second);
    std::printf("%.1f s\n", secs);
  }
  fs::remove_all(dir);
  if (min_top1 >= 0 && (cases == 0 || frac(top1) < min_top1 || frac(top1) <= frac(b1))) {
    std::fprintf(stderr, "learn_eval: top-1 %.3f is below %.3f or not above the baseline %.3f\n", frac(top1),
                 min_top1, frac(b1));
    return 1;
  }
  return 0;
}
