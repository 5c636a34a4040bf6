// The kinds of ledger events clawback itself writes: the ledger's vocabulary, in one place.
// Every event is also free-form: `clawback record KIND` and POST /v1/events take any kind,
// and an OpenClaw hook is stored as "openclaw.<hook>". The kinds below carry meaning that
// readers rely on (the trace's projections, the learning system's outcomes, telemetry's
// spans), so they are spelled once, here. docs/format/ledger-schema.md lists them.
#pragma once

namespace clawback::ledger {

// Conversations (record/requests.h; the OpenClaw mapping opens them with its own events).
inline constexpr char kConversationStart[] = "conversation.start";
inline constexpr char kConversationEnd[] = "conversation.end";
// A command and its exit code (also a Command row), a file change (also a FileChange row).
inline constexpr char kCommand[] = "command";
inline constexpr char kFileChange[] = "file_change";
// A git commit (also a Commit row).
inline constexpr char kCommit[] = "commit";
// A snapshot taken into the repository (also a SnapshotRecord row).
inline constexpr char kSnapshot[] = "snapshot";
// Deployments (also Deployment rows) and what the learning system reads about them.
inline constexpr char kDeployment[] = "deployment";
inline constexpr char kDeploymentUpdated[] = "deployment.updated";
inline constexpr char kDeploymentResolution[] = "deployment.resolution";
inline constexpr char kHealthCheck[] = "health_check";
inline constexpr char kLearnRecommendation[] = "learn.recommendation";
// A free-text note (`clawback record note`); the learning system reads its "text".
inline constexpr char kNote[] = "note";
// API tokens (also Token rows).
inline constexpr char kTokenCreate[] = "token.create";
inline constexpr char kTokenRevoke[] = "token.revoke";
// The prefix of an OpenClaw hook's event: "openclaw." + hook.
inline constexpr char kOpenClawPrefix[] = "openclaw.";

}  // namespace clawback::ledger
