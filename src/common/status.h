// Status and Result<T>: how every expected failure travels in clawback.
//
// No exceptions cross a module boundary (docs/error-policy.md). A call that can fail
// returns Status, or Result<T> when it also produces a value. Both are [[nodiscard]].
// An OK Status holds no allocation. Status codes map to CLI exit codes and HTTP statuses
// in exactly one place: ExitCodeFor() and HttpStatusFor() below (documented in
// docs/error-policy.md).
//
// Thread-safety: values; safe to copy and move between threads.
#pragma once

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace clawback {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,     // bad input from a user or a client
  kNotFound,            // an id, file or key that does not exist
  kAlreadyExists,       // create of something that is there
  kUnauthenticated,     // no or unknown credentials (HTTP 401)
  kPermissionDenied,    // credentials without the needed role (HTTP 403)
  kFailedPrecondition,  // state does not allow the operation (e.g. not initialised)
  kWrongPassword,       // repository password does not open any key
  kLocked,              // a repository or resource is locked by someone else
  kCorruption,          // stored bytes that fail a check (MAC, hash, chain)
  kIOError,             // the file system or a device failed
  kUnavailable,         // a peer (server, database, S3) could not be reached; retryable
  kTooLarge,            // an input over a configured limit (HTTP 413)
  kCancelled,           // interrupted by the user or a signal
  kInternal,            // a bug: an invariant broke
};

std::string_view StatusCodeName(StatusCode code);
// The name as the HTTP API's error bodies carry it: "InvalidArgument" -> "invalid_argument".
std::string StatusCodeSnakeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const;

  // "NotFound: conversation 0190… does not exist"
  std::string ToString() const;

  // Returns a copy whose message is "context: message". OK stays OK.
  Status WithContext(std::string_view context) const;

  // Marks a status as examined on purpose.
  void IgnoreError() const {}

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status WrongPassword(std::string m) { return {StatusCode::kWrongPassword, std::move(m)}; }
inline Status Locked(std::string m) { return {StatusCode::kLocked, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
inline Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// IOError from errno, naming what failed: "open /x/y: No such file or directory".
// ENOENT maps to NotFound, EACCES/EPERM to PermissionDenied.
Status ErrnoStatus(std::string_view what, int err);

// The one table from status codes to process exit codes (docs/error-policy.md).
int ExitCodeFor(StatusCode code);
// The one table from status codes to HTTP statuses.
int HttpStatusFor(StatusCode code);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "Result built from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }

  // REQUIRES: ok()
  T& value() & {
    CheckOk();
    return std::get<T>(v_);
  }
  const T& value() const& {
    CheckOk();
    return std::get<T>(v_);
  }
  T&& value() && {
    CheckOk();
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  T value_or(T other) const& { return ok() ? std::get<T>(v_) : std::move(other); }

 private:
  void CheckOk() const {
    if (!ok()) {
      std::fprintf(stderr, "Result::value() on error: %s\n", std::get<Status>(v_).ToString().c_str());
      std::abort();
    }
  }
  std::variant<T, Status> v_;
};

}  // namespace clawback

#define CLAWBACK_CONCAT_INNER_(a, b) a##b
#define CLAWBACK_CONCAT_(a, b) CLAWBACK_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::clawback::Status _st = (expr);             \
    if (!_st.ok()) return _st;                   \
  } while (0)

// ASSIGN_OR_RETURN(auto x, Compute());
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CLAWBACK_CONCAT_(_res_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

// Crash on broken invariants (never on external input).
#define CLAWBACK_CHECK(cond)                                                        \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
