// Human-readable renderings of the ledger's JSON documents (ledger/trace_json.h): the
// trace tree of `clawback trace`, the table of `conversation list` and the summary of
// `conversation show`. They read the JSON, not the structs, so output from the ledger and
// from a server look the same.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace clawback::cli {

// The trace as a tree in time order: the conversation, then tool calls (with their
// commands and file changes nested under them), commands, file changes, commits,
// deployments, snapshots, backups and rollbacks, each with its time, offset from the
// start and duration.
std::string RenderTrace(const nlohmann::json& trace);
// One line per conversation: id, start, duration, status, source, title.
std::string RenderConversationList(const nlohmann::json& list);
// The conversation's fields, one per line.
std::string RenderConversation(const nlohmann::json& conversation);
// "850ms", "3.2s", "4m12s", "2h03m".
std::string FormatDuration(int64_t ms);

}  // namespace clawback::cli
