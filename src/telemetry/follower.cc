#include "telemetry/follower.h"

#include <unistd.h>

#include <cstdio>
#include <set>

#include "common/uuid.h"
#include "ledger/event_kinds.h"

namespace clawback::telemetry {
namespace {

constexpr size_t kRememberedOwn = 200000;

std::optional<Uuid> UuidAttr(const ledger::Json& a, const char* key) {
  if (!a.is_object() || !a.contains(key) || !a[key].is_string()) return std::nullopt;
  return Uuid::Parse(a[key].get<std::string>());
}

std::optional<int64_t> IntAttr(const ledger::Json& a, const char* key) {
  if (!a.is_object() || !a.contains(key) || !a[key].is_number_integer()) return std::nullopt;
  return a[key].get<int64_t>();
}

}  // namespace

Result<ledger::WriteBatch> BatchFromEvents(ledger::Ledger& l, const std::vector<ledger::Event>& events) {
  ledger::WriteBatch b;
  std::set<std::string> deployments;  // hex ids, once per batch (their latest state)
  for (const auto& e : events) {
    b.Add(e);
    const auto& a = e.attributes;
    if ((e.kind == ledger::kConversationStart || e.kind == ledger::kConversationEnd) && e.conversation_id) {
      auto c = l.GetConversation(*e.conversation_id);
      if (!c.ok()) {
        if (c.status().code() == StatusCode::kNotFound) continue;
        return c.status();
      }
      if (e.kind == ledger::kConversationStart) {
        b.Add(*c);
      } else if (c->ended_at_ms) {
        b.Add(ledger::EndConversation{c->id, c->status, *c->ended_at_ms});
      }
    } else if (e.kind == ledger::kDeployment || e.kind == ledger::kDeploymentUpdated) {
      std::optional<Uuid> id = UuidAttr(a, "deployment_id");
      if (!id || !deployments.insert(id->ToHex()).second) continue;
      auto d = l.GetDeployment(*id);
      if (!d.ok()) {
        if (d.status().code() == StatusCode::kNotFound) continue;
        return d.status();
      }
      b.Add(*d);
      if (d->status == "rolled_back") {
        ASSIGN_OR_RETURN(auto rollbacks, l.ListRollbacksFor("deployment", id->ToString()));
        for (auto& r : rollbacks) b.Add(std::move(r));
      }
    } else if (e.kind == ledger::kCommand) {
      // The event carries the command (record/requests.h); its span is keyed by the event.
      ledger::Command c;
      c.id = e.id;
      c.conversation_id = e.conversation_id;
      if (a.is_object() && a.contains("argv") && a["argv"].is_array())
        for (const auto& x : a["argv"])
          if (x.is_string()) c.argv.push_back(x.get<std::string>());
      if (a.is_object() && a.contains("cwd") && a["cwd"].is_string()) c.cwd = a["cwd"].get<std::string>();
      if (auto code = IntAttr(a, "exit_code")) c.exit_code = static_cast<int>(*code);
      c.duration_ms = IntAttr(a, "duration_ms");
      c.started_at_ms = e.time_ms - c.duration_ms.value_or(0);
      b.Add(std::move(c));
    }
  }
  return b;
}

LedgerFollower::LedgerFollower(ledger::Ledger* ledger, Sink sink, FollowerOptions options,
                               const Clock& clock)
    : ledger_(ledger),
      sink_(std::move(sink)),
      options_(std::move(options)),
      clock_(clock),
      holder_([] {
        char host[256] = {0};
        ::gethostname(host, sizeof host - 1);
        return std::string(host) + ":" + std::to_string(::getpid()) + ":" + NewUuidV7().ToString();
      }()) {}

LedgerFollower::~LedgerFollower() { Stop(); }

void LedgerFollower::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void LedgerFollower::Stop() {
  bool running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running = thread_.joinable();
    stopping_ = true;
  }
  if (running) {
    cv_.notify_all();
    thread_.join();
    // The last round: what was committed before the stop.
    auto last = RunOnce();
    if (!last.ok()) std::fprintf(stderr, "clawback: telemetry: %s\n", last.status().ToString().c_str());
  }
  if (!released_) {
    released_ = true;
    (void)ledger_->ReleaseLease(options_.lease, holder_);  // the next server need not wait
  }
}

void LedgerFollower::NoteOwn(const ledger::WriteBatch& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& op : batch.ops) {
    const auto* e = std::get_if<ledger::Event>(&op);
    if (!e) continue;
    std::string id = e->id.ToHex();
    if (own_.insert(id).second) own_order_.push_back(std::move(id));
  }
  while (own_order_.size() > kRememberedOwn) {
    own_.erase(own_order_.front());
    own_order_.pop_front();
  }
}

void LedgerFollower::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool LedgerFollower::IsOwn(const Uuid& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = own_.find(id.ToHex());
  if (it == own_.end()) return false;
  own_.erase(it);  // seen once: the deque entry ages out on its own
  return true;
}

Result<int64_t> LedgerFollower::RunOnce() {
  ASSIGN_OR_RETURN(ledger::LeaseResult lease,
                   ledger_->TryAcquireLease(options_.lease, holder_, options_.lease_ttl_ms,
                                            clock_.NowUnixMillis()));
  if (!lease.acquired) return int64_t{0};  // another server exports
  // Read under the lease: a previous holder may have moved it.
  ASSIGN_OR_RETURN(std::optional<int64_t> cursor, ledger_->GetCursor(options_.cursor));
  int64_t after = 0;
  if (!cursor) {
    // First start on this ledger: begin at its tail, do not export its history.
    for (;;) {
      ASSIGN_OR_RETURN(auto page, ledger_->ReadEventsAfter(after, 10000));
      if (page.empty()) break;
      after = page.back().seq;
    }
    RETURN_IF_ERROR(ledger_->SetCursor(options_.cursor, after));
    return int64_t{0};
  }
  after = *cursor;
  int64_t handed = 0;
  for (;;) {
    ASSIGN_OR_RETURN(auto page, ledger_->ReadEventsAfter(after, options_.page));
    if (page.empty()) break;
    std::vector<ledger::Event> theirs;
    for (auto& e : page)
      if (!IsOwn(e.id)) theirs.push_back(std::move(e));
    int64_t last = page.back().seq;
    if (!theirs.empty()) {
      ASSIGN_OR_RETURN(ledger::WriteBatch b, BatchFromEvents(*ledger_, theirs));
      sink_(b);
      handed += static_cast<int64_t>(theirs.size());
    }
    RETURN_IF_ERROR(ledger_->SetCursor(options_.cursor, last));
    after = last;
    if (static_cast<int>(page.size()) < options_.page) break;
  }
  return handed;
}

void LedgerFollower::Loop() {
  for (;;) {
    auto n = RunOnce();
    if (!n.ok()) {
      // Said once until it works again; the next round retries.
      if (!warned_) std::fprintf(stderr, "clawback: telemetry: following the ledger: %s\n", n.status().ToString().c_str());
      warned_ = true;
    } else {
      warned_ = false;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.poll, [this] { return stopping_ || woken_; });
    woken_ = false;
    if (stopping_) return;
  }
}

}  // namespace clawback::telemetry
