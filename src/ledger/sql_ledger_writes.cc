// SqlLedger's write path (sql_ledger.h): groups in one transaction (whole, else a savepoint
// per batch), batches, the upserts (their SQL generated from the column lists of
// sql_statements.h, each storing its rows' seals), the event chain.
#include <algorithm>
#include <unordered_map>
#include <utility>

#include "ledger/ledger_internal.h"
#include "ledger/row_seal.h"
#include "ledger/sql_codec.h"
#include "ledger/sql_ledger.h"
#include "ledger/sql_statements.h"

namespace clawback::ledger {
namespace {

std::string Describe(std::string_view what, const std::string& key) {
  return Cat({what, " ", key});
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Writes

Status SqlLedger::Apply(const WriteBatch& batch) {
  std::vector<const WriteBatch*> one = {&batch};
  return ApplyGroup(one)[0];
}

std::vector<Status> SqlLedger::ApplyGroup(const std::vector<const WriteBatch*>& batches) {
  std::vector<Status> results(batches.size());
  if (batches.empty()) return results;
  std::lock_guard<std::mutex> lock(write_mu_);
  auto fail_all = [&](const Status& st) {
    for (auto& r : results) r = st;
    return results;
  };
  if (!writer_) {
    auto opened = connect_();
    if (!opened.ok()) return fail_all(opened.status());
    writer_ = std::move(opened).value();
  }
  SqlConnection& c = *writer_;
  Status st = ApplyGroupWhole(c, batches);
  if (st.ok()) return results;
  ++group_fallbacks_;
  // A lost connection is not retried (the COMMIT may have landed), nor is a ledger another
  // process keeps locked (the retry would wait as long again); any other error is some
  // batch's, or the whole transaction's: nothing landed, so run the group again the slow
  // way, where each batch reports its own error and a bad one sinks no other.
  if (st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kLocked)
    return fail_all(st.WithContext("ledger write"));
  return ApplyGroupBySavepoint(c, batches);
}

Status SqlLedger::ApplyGroupWhole(SqlConnection& c, const std::vector<const WriteBatch*>& batches) {
  txn_conversations_.clear();
  const bool pipelined = c.SupportsPipeline();
  if (pipelined) RETURN_IF_ERROR(c.BeginPipeline());
  Status st = [&]() -> Status {
    RETURN_IF_ERROR(c.Exec(dialect_.begin_write));
    if (!dialect_.lock_chain.empty()) RETURN_IF_ERROR(c.Exec(dialect_.lock_chain));
    ChainTail tail;  // read in this transaction, under the chain lock
    RETURN_IF_ERROR(StartSealing(c, &tail));
    for (const WriteBatch* batch : batches) {
      if (!batch->empty()) RETURN_IF_ERROR(ApplyBatch(c, *batch, &tail, /*multi_row=*/true));
    }
    return c.Exec("COMMIT");
  }();
  if (pipelined) {
    // An error queued before the one that stopped us (if any) surfaces here.
    Status end = c.EndPipeline();
    if (st.ok()) st = end;
  }
  if (!st.ok()) c.Exec("ROLLBACK").IgnoreError();
  EndWriteTransaction(st.ok());
  return st;
}

std::vector<Status> SqlLedger::ApplyGroupBySavepoint(
    SqlConnection& c, const std::vector<const WriteBatch*>& batches) {
  std::vector<Status> results(batches.size());
  txn_conversations_.clear();
  auto fail_all = [&](const Status& st) {
    for (auto& r : results) r = st;
    return results;
  };
  if (Status st = c.Exec(dialect_.begin_write); !st.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    return fail_all(st.WithContext("ledger write"));
  }
  // The chain lock is taken first, before any row lock, so writers in several processes
  // queue on it instead of deadlocking; it is outside every savepoint, so a rolled-back
  // batch does not release it.
  if (!dialect_.lock_chain.empty()) {
    if (Status st = c.Exec(dialect_.lock_chain); !st.ok()) {
      c.Exec("ROLLBACK").IgnoreError();
      return fail_all(st.WithContext("ledger write"));
    }
  }
  ChainTail tail;
  if (Status st = StartSealing(c, &tail); !st.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    return fail_all(st.WithContext("ledger write"));
  }
  Status broken;  // set when the transaction itself can no longer commit
  for (size_t i = 0; i < batches.size(); ++i) {
    if (!broken.ok()) {
      results[i] = broken;
      continue;
    }
    const WriteBatch& batch = *batches[i];
    if (batch.empty()) continue;
    if (Status st = c.Exec("SAVEPOINT batch"); !st.ok()) {
      broken = st;
      results[i] = st;
      continue;
    }
    ChainTail saved = tail;
    Status st = ApplyBatch(c, batch, &tail, /*multi_row=*/false);
    if (st.ok()) {
      st = c.Exec("RELEASE SAVEPOINT batch");
      if (!st.ok()) broken = st;
    } else {
      tail = saved;
      // Conversations this batch created are gone again; forgetting the others too only
      // costs a lookup each.
      txn_conversations_.clear();
      Status undo = c.Exec("ROLLBACK TO SAVEPOINT batch");
      if (undo.ok()) undo = c.Exec("RELEASE SAVEPOINT batch");
      if (!undo.ok()) broken = undo;
    }
    results[i] = st;
  }
  if (broken.ok()) {
    if (Status st = c.Exec("COMMIT"); !st.ok()) broken = st.WithContext("ledger commit");
  }
  EndWriteTransaction(broken.ok());
  if (!broken.ok()) {
    c.Exec("ROLLBACK").IgnoreError();
    // Nothing of this group landed: every batch reports the failure.
    for (auto& r : results) {
      if (r.ok()) r = broken;
    }
  }
  return results;
}

Status SqlLedger::ApplyBatch(SqlConnection& conn, const WriteBatch& batch, ChainTail* tail,
                             bool multi_row) {
  // Every other op first, in order; then all the batch's events, in order, as multi-row
  // INSERTs. Events reference only conversations (which the other ops create, so they must
  // come first) and the chain orders events among themselves only, so this is the same
  // ledger as applying op by op — with one statement per 64 events instead of one per
  // event (an OpenClaw batch interleaves events with tool calls and commands, which broke
  // every run of events into runs of one: a round trip each on PostgreSQL).
  //
  // With `multi_row`, each run of tool calls and commands (not broken by another kind of op)
  // goes in as multi-row upserts too (UpsertRun).
  std::vector<const Event*> events;
  std::vector<size_t> event_ops;  // each event's op index, for error messages
  std::vector<size_t> run;        // tool calls and commands not written yet (multi_row)
  for (size_t i = 0; i < batch.ops.size(); ++i) {
    const WriteOp& op = batch.ops[i];
    if (const Event* e = std::get_if<Event>(&op)) {
      events.push_back(e);
      event_ops.push_back(i);
      continue;
    }
    if (multi_row &&
        (std::holds_alternative<ToolCall>(op) || std::holds_alternative<Command>(op))) {
      run.push_back(i);
      continue;
    }
    if (!run.empty()) RETURN_IF_ERROR(UpsertRun(conn, batch, &run));
    Status st = ApplyOp(conn, op, tail);
    if (!st.ok()) return st.WithContext("op " + std::to_string(i));
  }
  if (!run.empty()) RETURN_IF_ERROR(UpsertRun(conn, batch, &run));
  if (!events.empty()) RETURN_IF_ERROR(AppendEvents(conn, events, event_ops, tail));
  return Status::Ok();
}

Status SqlLedger::UpsertRun(SqlConnection& conn, const WriteBatch& batch,
                            std::vector<size_t>* run) {
  // Ops on one key are merged into one row (MergeUpsertRow), so a statement touches each
  // row once and a tool call's start and finish in one request cost one row write. Rows of
  // different keys commute. Tool calls and commands are separate tables with no key between
  // them, so they need no order between each other. Every op's conversation is checked,
  // not only the merged row's, as applying the ops one by one would.
  std::unordered_map<std::string, size_t> row_of;  // key -> index into tool_rows/command_rows
  std::vector<std::vector<SqlValue>> tool_rows, command_rows;
  std::vector<SqlValue> params;
  for (size_t i : *run) {
    const WriteOp& op = batch.ops[i];
    params.clear();
    std::vector<std::vector<SqlValue>>* rows;
    std::string key;
    if (const ToolCall* t = std::get_if<ToolCall>(&op)) {
      if (t->tool_call_id.empty()) {
        return InvalidArgument("tool call: tool_call_id is empty")
            .WithContext("op " + std::to_string(i));
      }
      RETURN_IF_ERROR(RequireConversation(conn, t->conversation_id, [&] {
        return "op " + std::to_string(i) + ": tool call " + t->tool_call_id;
      }));
      EncodeToolCall(*t, &params);
      rows = &tool_rows;
      key = Cat({"t", t->conversation_id.ToHex(), "/", t->tool_call_id});
    } else {
      const Command& c = std::get<Command>(op);
      if (c.id.is_nil())
        return InvalidArgument("command: id is nil").WithContext("op " + std::to_string(i));
      if (c.conversation_id) {
        RETURN_IF_ERROR(RequireConversation(conn, *c.conversation_id, [&] {
          return "op " + std::to_string(i) + ": " + Describe("command", c.id.ToString());
        }));
      }
      EncodeCommand(c, &params);
      rows = &command_rows;
      key = Cat({"c", c.id.ToHex()});
    }
    auto [it, inserted] = row_of.try_emplace(std::move(key), rows->size());
    if (inserted) {
      rows->push_back(std::move(params));
    } else if (rows == &tool_rows) {
      MergeUpsertRow(TableSpecOf(Table::kToolCalls), std::move(params),
                     (*rows)[it->second].data());
    } else {
      MergeUpsertRow(TableSpecOf(Table::kCommands), std::move(params),
                     (*rows)[it->second].data());
    }
  }
  run->clear();
  // In statements of up to kMaxUpsertRows rows.
  auto upsert = [&](std::vector<std::vector<SqlValue>>& rows, Table table,
                    const char* what) -> Status {
    for (size_t begin = 0; begin < rows.size(); begin += kMaxUpsertRows) {
      size_t n = std::min(kMaxUpsertRows, rows.size() - begin);
      params.clear();
      for (size_t k = begin; k < begin + n; ++k) {
        for (SqlValue& v : rows[k]) params.push_back(std::move(v));
      }
      AddSealAnchor(&params);
      RETURN_IF_ERROR(conn.Query(writes_.For(table, n), params, nullptr).WithContext(what));
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(upsert(tool_rows, Table::kToolCalls, "tool calls"));
  return upsert(command_rows, Table::kCommands, "commands");
}

Status SqlLedger::AppendEvents(SqlConnection& c, const std::vector<const Event*>& run,
                               const std::vector<size_t>& op_index, ChainTail* tail) {
  for (size_t k = 0; k < run.size(); ++k) {
    if (run[k]->kind.empty()) {
      return InvalidArgument("event: kind is empty").WithContext("op " + std::to_string(op_index[k]));
    }
    if (run[k]->conversation_id) {
      RETURN_IF_ERROR(RequireConversation(c, *run[k]->conversation_id, [&] {
        return "op " + std::to_string(op_index[k]) + ": event " + run[k]->id.ToString();
      }));
    }
  }
  RETURN_IF_ERROR(LoadChainTail(c, tail));  // the write transaction holds the chain lock
  int64_t seq = tail->seq;
  std::string prev = tail->hash;
  const size_t kEventColumns = TableSpecOf(Table::kEvents).columns.size();
  std::vector<SqlValue> params;
  for (size_t begin = 0; begin < run.size(); begin += kMaxEventRows) {
    size_t n = std::min(kMaxEventRows, run.size() - begin);
    params.clear();
    params.reserve(n * kEventColumns);
    for (size_t k = begin; k < begin + n; ++k) {
      const Event& in = *run[k];
      // The row's header fields; the attributes travel as their stored text only (no copy
      // of the JSON tree on the hot path).
      Event e;
      e.seq = ++seq;
      e.id = in.id.is_nil() ? ids_.Next() : in.id;
      e.conversation_id = in.conversation_id;
      e.kind = in.kind;
      e.time_ms = in.time_ms;
      e.actor = in.actor;
      std::string attributes =
          in.attributes_text.empty() ? StoredAttributes(in.attributes) : in.attributes_text;
      std::string hash = ChainHashWithAttributes(prev, e, attributes);
      // In the column order of the events TableSpec (sql_statements.cc).
      params.push_back(Int(e.seq));
      params.push_back(IdText(e.id));
      params.push_back(OptId(e.conversation_id));
      params.push_back(Text(std::move(e.kind)));
      params.push_back(Int(e.time_ms));
      params.push_back(Text(std::move(e.actor)));
      params.push_back(Text(std::move(attributes)));
      params.push_back(Text(std::move(prev)));
      params.push_back(Text(hash));
      prev = std::move(hash);
    }
    Status st = c.Query(writes_.For(Table::kEvents, n), params, nullptr);
    if (!st.ok()) {
      std::string what = n == 1 ? "op " + std::to_string(op_index[begin]) + ": event " +
                                      run[begin]->id.ToString()
                                : "ops " + std::to_string(op_index[begin]) + "-" +
                                      std::to_string(op_index[begin + n - 1]) + ": events";
      if (st.code() == StatusCode::kNotFound) {
        std::string convs;
        for (size_t k = begin; k < begin + n; ++k) {
          if (!run[k]->conversation_id) continue;
          std::string id = run[k]->conversation_id->ToString();
          if (convs.find(id) == std::string::npos) convs += (convs.empty() ? "" : ", ") + id;
        }
        return NotFound(what + ": conversation " + convs + " does not exist" +
                        (n == 1 ? "" : " (one of these)"));
      }
      return st.WithContext(what);
    }
  }
  tail->seq = seq;
  tail->hash = std::move(prev);
  return Status::Ok();
}

Status SqlLedger::LookUpConversation(SqlConnection& c, const Uuid& id, const std::string& what) {
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(c.Query(kConversationExists, {IdText(id)}, &rows).WithContext(what));
  if (rows.empty()) return NotFound(what + ": conversation " + id.ToString() + " does not exist");
  txn_conversations_.insert(id);
  return Status::Ok();
}

void SqlLedger::EndWriteTransaction(bool committed) {
  if (committed) {
    if (known_conversations_.size() + txn_conversations_.size() > kMaxKnownConversations) {
      known_conversations_.clear();  // the next writes look their conversations up again
    }
    known_conversations_.merge(txn_conversations_);
  }
  txn_conversations_.clear();
}

Status SqlLedger::LoadChainTail(SqlConnection& c, ChainTail* tail) {
  if (tail->loaded) return Status::Ok();
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(c.Query(kChainTail, {}, &rows));
  tail->loaded = true;
  tail->seq = rows.empty() ? 0 : RowInt(rows[0], 0);
  tail->hash = rows.empty() ? "" : RowStr(rows[0], 1);
  return Status::Ok();
}

Status SqlLedger::StartSealing(SqlConnection& c, ChainTail* tail) {
  // Under the chain lock: no other writer moves the tail, and it is committed, so the seals
  // stay good whatever this transaction rolls back (a savepoint's batch, or all of it).
  RETURN_IF_ERROR(LoadChainTail(c, tail));
  seal_seq_ = tail->seq;
  seal_hash_ = tail->hash;
  return Status::Ok();
}

void SqlLedger::AddSealAnchor(std::vector<SqlValue>* params) const {
  params->push_back(Int(seal_seq_));
  params->push_back(Text(seal_hash_));
}

Status SqlLedger::ApplyOp(SqlConnection& c, const WriteOp& op, ChainTail* tail) {
  // Names what failed; a foreign-key failure names the missing conversation.
  auto check = [](Status st, const std::string& what, const std::optional<Uuid>& conv) {
    if (st.ok()) return st;
    if (st.code() == StatusCode::kNotFound && conv) {
      return NotFound(what + ": conversation " + conv->ToString() + " does not exist");
    }
    return st.WithContext(what);
  };
  std::vector<SqlValue> params;
  // The one-row INSERT or upsert of table `t` (sql_statements.h) with `params`, and the
  // seal's anchor when `t` is sealed.
  auto write = [&](Table t) {
    if (TableSpecOf(t).sealed) AddSealAnchor(&params);
    return c.Query(writes_.For(t, 1), params, nullptr);
  };
  return std::visit(
      [&](const auto& v) -> Status {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Conversation>) {
          if (v.id.is_nil()) return InvalidArgument("conversation: id is nil");
          EncodeConversation(v, clock_.NowUnixMillis(), &params);
          RETURN_IF_ERROR(check(write(Table::kConversations),
                                Describe("conversation", v.id.ToString()), std::nullopt));
          txn_conversations_.insert(v.id);
          for (const ExternalId& x : v.external_ids) {
            RETURN_IF_ERROR(c.Query(kInsertExternalId,
                                    {IdText(v.id), Text(x.kind), Text(x.value)}, nullptr)
                                .WithContext(Describe("conversation", v.id.ToString())));
          }
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, EndConversation>) {
          int64_t changed = 0;
          int64_t ended = v.ended_at_ms != 0 ? v.ended_at_ms : clock_.NowUnixMillis();
          params = {IdText(v.id), Text(v.status.empty() ? "ended" : v.status), Int(ended)};
          AddSealAnchor(&params);
          RETURN_IF_ERROR(c.Query(end_conversation_sql_, params, nullptr, &changed)
                              .WithContext(Describe("end conversation", v.id.ToString())));
          if (changed == 0) return NotFound("conversation " + v.id.ToString() + " does not exist");
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, AddExternalId>) {
          if (v.external_id.kind.empty() || v.external_id.value.empty()) {
            return InvalidArgument("external id: kind and value must not be empty");
          }
          return check(c.Query(kInsertExternalId,
                               {IdText(v.conversation_id), Text(v.external_id.kind),
                                Text(v.external_id.value)},
                               nullptr),
                       "external id " + v.external_id.kind + "=" + v.external_id.value,
                       v.conversation_id);
        } else if constexpr (std::is_same_v<T, Event>) {
          return AppendEvents(c, {&v}, {0}, tail);
        } else if constexpr (std::is_same_v<T, ToolCall>) {
          if (v.tool_call_id.empty()) return InvalidArgument("tool call: tool_call_id is empty");
          RETURN_IF_ERROR(RequireConversation(c, v.conversation_id,
                                              [&] { return "tool call " + v.tool_call_id; }));
          EncodeToolCall(v, &params);
          return check(write(Table::kToolCalls),
                       "tool call " + v.tool_call_id, v.conversation_id);
        } else if constexpr (std::is_same_v<T, Command>) {
          if (v.id.is_nil()) return InvalidArgument("command: id is nil");
          if (v.conversation_id) {
            RETURN_IF_ERROR(RequireConversation(
                c, *v.conversation_id, [&] { return Describe("command", v.id.ToString()); }));
          }
          EncodeCommand(v, &params);
          return check(write(Table::kCommands),
                       Describe("command", v.id.ToString()), v.conversation_id);
        } else if constexpr (std::is_same_v<T, FileChange>) {
          if (v.id.is_nil()) return InvalidArgument("file change: id is nil");
          if (v.path.empty()) return InvalidArgument("file change: path is empty");
          EncodeFileChange(v, &params);
          return check(write(Table::kFileChanges), Describe("file change", v.id.ToString()),
                       v.conversation_id);
        } else if constexpr (std::is_same_v<T, Commit>) {
          if (v.sha.empty()) return InvalidArgument("commit: sha is empty");
          EncodeCommit(v, &params);
          return check(write(Table::kCommits), Describe("commit", v.sha), v.conversation_id);
        } else if constexpr (std::is_same_v<T, Deployment>) {
          if (v.id.is_nil()) return InvalidArgument("deployment: id is nil");
          EncodeDeployment(v, &params);
          return check(write(Table::kDeployments), Describe("deployment", v.id.ToString()),
                       v.conversation_id);
        } else if constexpr (std::is_same_v<T, SnapshotRecord>) {
          if (v.snapshot_id.empty()) return InvalidArgument("snapshot: snapshot_id is empty");
          EncodeSnapshot(v, &params);
          return check(write(Table::kSnapshots), Describe("snapshot", v.snapshot_id),
                       v.conversation_id);
        } else if constexpr (std::is_same_v<T, BackupRecord>) {
          if (v.id.is_nil()) return InvalidArgument("backup: id is nil");
          EncodeBackup(v, &params);
          return check(write(Table::kBackups), Describe("backup", v.id.ToString()),
                       std::nullopt);
        } else if constexpr (std::is_same_v<T, RollbackRecord>) {
          if (v.id.is_nil()) return InvalidArgument("rollback: id is nil");
          EncodeRollback(v, &params);
          return check(write(Table::kRollbacks), Describe("rollback", v.id.ToString()),
                       v.conversation_id);
        } else if constexpr (std::is_same_v<T, Token>) {
          if (v.id.is_nil()) return InvalidArgument("token: id is nil");
          if (v.hash.empty()) return InvalidArgument("token: hash is empty");
          EncodeToken(v, clock_.NowUnixMillis(), &params);
          Status st = write(Table::kTokens);
          if (st.code() == StatusCode::kAlreadyExists) {
            return AlreadyExists("token " + v.name + ": a token with this hash already exists");
          }
          return st.WithContext("token " + v.name);
        }
      },
      op);
}

}  // namespace clawback::ledger
