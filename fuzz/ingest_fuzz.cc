// libFuzzer target: the ingest server's request parsing and the OpenClaw mapping — every
// byte a client can send to POST/PATCH routes before the ledger sees it.
//
// The first input byte picks the route; the rest is the body. Each body goes through
// ParseJsonBody and the route's Build*Job; OpenClaw bodies are also mapped item by item
// through MapOpenClawItem with a live session-state map, as the writer thread does, and
// the resulting ops are checked for the mapping's invariants.
//
//   build-fuzz/fuzz/ingest_fuzz -max_total_time=60 fuzz/corpus/ingest
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "ingest/openclaw.h"
#include "ingest/requests.h"

namespace {

using clawback::ingest::FieldError;
using clawback::ingest::Json;

void CheckMapping(const Json& body) {
  std::vector<clawback::ingest::OpenClawItem> items;
  FieldError err;
  if (!clawback::ingest::ParseOpenClawBody(body, 1000, 1000, &items, &err)) {
    if (err.status.ok()) std::abort();  // a rejection always carries a status
    return;
  }
  static clawback::ManualClock clock;
  static clawback::UuidV7Generator ids(clock);
  std::map<std::string, std::optional<clawback::ingest::SessionState>> states;
  for (auto& item : items) {
    clawback::ledger::WriteBatch batch;
    std::optional<clawback::ingest::SessionState> none;
    auto* st = item.session_key.empty() ? &none : &states[item.session_key];
    std::optional<clawback::Uuid> conv =
        clawback::ingest::MapOpenClawItem(item, st, [] { return ids.Next(); }, &batch);
    // Invariants: one event per item, recorded against the returned conversation; a
    // session key always yields an open-or-closed state with that conversation.
    int events = 0;
    for (const auto& op : batch.ops) {
      if (const auto* e = std::get_if<clawback::ledger::Event>(&op)) {
        ++events;
        if (e->conversation_id != conv) std::abort();
      }
    }
    if (events != 1) std::abort();
    if (!item.session_key.empty() && (!st->has_value() || (*st)->conversation_id != *conv))
      std::abort();
    if (item.session_key.empty() && conv) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t route = data[0] % 7;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  Json j;
  FieldError err;
  if (!clawback::ingest::ParseJsonBody(body, &j, &err)) return 0;
  clawback::ingest::RequestInfo info;
  info.actor = "fuzz";
  info.now_ms = 1'700'000'000'000;
  info.max_events = 1000;
  clawback::ingest::PrepareFn fn;
  const std::string id = "0190f0c2-a1b2-7c3d-8e9f-001122334455";
  bool ok = false;
  switch (route) {
    case 0: ok = clawback::ingest::BuildOpenClawJob(j, info, &fn, &err); CheckMapping(j); break;
    case 1: ok = clawback::ingest::BuildEventJob(j, info, &fn, &err); break;
    case 2: ok = clawback::ingest::BuildConversationStartJob(j, info, &fn, &err); break;
    case 3: ok = clawback::ingest::BuildConversationEndJob(id, j, info, &fn, &err); break;
    case 4: ok = clawback::ingest::BuildCommitJob(j, info, &fn, &err); break;
    case 5: ok = clawback::ingest::BuildDeploymentCreateJob(j, info, &fn, &err); break;
    default: ok = clawback::ingest::BuildDeploymentPatchJob(id, j, info, &fn, &err); break;
  }
  if (ok != static_cast<bool>(fn)) std::abort();
  if (!ok && err.status.ok()) std::abort();
  // Error messages must serialise (they go into JSON bodies).
  if (!ok) (void)Json{{"message", err.status.message()}, {"field", err.field}}.dump(
      -1, ' ', false, Json::error_handler_t::replace);
  return 0;
}
