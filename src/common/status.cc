#include "common/status.h"

#include <cerrno>
#include <cstring>

namespace clawback {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kUnauthenticated: return "Unauthenticated";
    case StatusCode::kPermissionDenied: return "PermissionDenied";
    case StatusCode::kFailedPrecondition: return "FailedPrecondition";
    case StatusCode::kWrongPassword: return "WrongPassword";
    case StatusCode::kLocked: return "Locked";
    case StatusCode::kCorruption: return "Corruption";
    case StatusCode::kIOError: return "IOError";
    case StatusCode::kUnavailable: return "Unavailable";
    case StatusCode::kTooLarge: return "TooLarge";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kInternal: return "Internal";
  }
  return "Unknown";
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) rep_ = std::make_shared<const Rep>(Rep{code, std::move(message)});
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(StatusCodeName(rep_->code));
  s += ": ";
  s += rep_->message;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += rep_->message;
  return Status(rep_->code, std::move(m));
}

Status ErrnoStatus(std::string_view what, int err) {
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  switch (err) {
    case ENOENT: return NotFound(std::move(m));
    case EEXIST: return AlreadyExists(std::move(m));
    case EACCES:
    case EPERM: return PermissionDenied(std::move(m));
    default: return IOError(std::move(m));
  }
}

// Keep in step with the table in docs/error-policy.md.
int ExitCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 0;
    case StatusCode::kIOError: return 1;
    case StatusCode::kInternal: return 1;
    case StatusCode::kInvalidArgument: return 2;
    case StatusCode::kTooLarge: return 2;
    case StatusCode::kNotFound: return 3;
    case StatusCode::kAlreadyExists: return 4;
    case StatusCode::kUnauthenticated: return 5;
    case StatusCode::kPermissionDenied: return 5;
    case StatusCode::kFailedPrecondition: return 6;
    case StatusCode::kUnavailable: return 7;
    case StatusCode::kCorruption: return 8;
    case StatusCode::kLocked: return 11;
    case StatusCode::kWrongPassword: return 12;
    case StatusCode::kCancelled: return 130;
  }
  return 1;
}

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kLocked: return 423;
    case StatusCode::kTooLarge: return 413;
    case StatusCode::kWrongPassword: return 500;
    case StatusCode::kCorruption: return 500;
    case StatusCode::kIOError: return 500;
    case StatusCode::kInternal: return 500;
    case StatusCode::kCancelled: return 503;
    case StatusCode::kUnavailable: return 503;
  }
  return 500;
}

std::string StatusCodeSnakeName(StatusCode code) {
  std::string_view name = StatusCodeName(code);
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') {
      if (i > 0) out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace clawback
