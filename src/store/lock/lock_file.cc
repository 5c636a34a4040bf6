#include "store/lock/lock_file.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

namespace clawback::store {

std::string LockInfo::ToJson() const {
  std::string out = "{\"time\":\"" + time.ToRfc3339() + "\",\"exclusive\":";
  out += exclusive ? "true" : "false";
  out += ",\"hostname\":";
  AppendGoJsonString(&out, hostname);
  out += ",\"username\":";
  AppendGoJsonString(&out, username);
  out += ",\"pid\":" + std::to_string(pid);
  if (uid != 0) out += ",\"uid\":" + std::to_string(uid);
  if (gid != 0) out += ",\"gid\":" + std::to_string(gid);
  out += "}";
  return out;
}

Result<LockInfo> LockInfo::Parse(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Corruption("lock file is not a JSON object");
  LockInfo l;
  auto time_it = j.find("time");
  if (time_it == j.end() || !time_it->is_string()) return Corruption("lock file has no time");
  ASSIGN_OR_RETURN(l.time, Timestamp::Parse(time_it->get<std::string>()));
  auto get_bool = [&](const char* k, bool* out) -> Status {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_boolean()) return Corruption(std::string("lock file: ") + k + " is not a bool");
    *out = it->get<bool>();
    return Status::Ok();
  };
  auto get_string = [&](const char* k, std::string* out) -> Status {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_string()) return Corruption(std::string("lock file: ") + k + " is not a string");
    *out = it->get<std::string>();
    return Status::Ok();
  };
  auto get_int = [&](const char* k, int64_t* out) -> Status {
    auto it = j.find(k);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_number_integer()) {
      return Corruption(std::string("lock file: ") + k + " is not an integer");
    }
    *out = it->get<int64_t>();
    return Status::Ok();
  };
  RETURN_IF_ERROR(get_bool("exclusive", &l.exclusive));
  RETURN_IF_ERROR(get_string("hostname", &l.hostname));
  RETURN_IF_ERROR(get_string("username", &l.username));
  RETURN_IF_ERROR(get_int("pid", &l.pid));
  int64_t uid = 0, gid = 0;
  RETURN_IF_ERROR(get_int("uid", &uid));
  RETURN_IF_ERROR(get_int("gid", &gid));
  l.uid = static_cast<uint32_t>(uid);
  l.gid = static_cast<uint32_t>(gid);
  return l;
}

std::string ThisHostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

LockInfo LockInfo::ForThisProcess(bool exclusive, const Timestamp& now) {
  LockInfo l;
  l.time = now;
  l.exclusive = exclusive;
  l.hostname = ThisHostname();
  l.uid = static_cast<uint32_t>(getuid());
  l.gid = static_cast<uint32_t>(getgid());
  struct passwd pw;
  struct passwd* res = nullptr;
  char buf[4096];
  if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res != nullptr) {
    l.username = res->pw_name;
  }
  l.pid = static_cast<int64_t>(getpid());
  return l;
}

std::string LockInfo::Describe() const {
  return std::string(exclusive ? "exclusive" : "shared") + " lock by " + username + "@" +
         hostname + " (pid " + std::to_string(pid) + "), created " + time.ToRfc3339();
}

bool LockConflicts(bool want_exclusive, const LockInfo& existing) {
  return want_exclusive || existing.exclusive;
}

bool ProcessExists(int64_t pid) {
  if (pid <= 0) return false;
  if (kill(static_cast<pid_t>(pid), 0) == 0) return true;
  return errno != ESRCH;  // EPERM: it exists, we just may not signal it
}

bool LockIsStale(const LockInfo& lock, const Timestamp& now, const std::string& this_host,
                 const ProcessAlive& alive) {
  if (now.unix_seconds - lock.time.unix_seconds > kLockStaleAfterSeconds) return true;
  if (!this_host.empty() && lock.hostname == this_host && !alive(lock.pid)) return true;
  return false;
}

}  // namespace clawback::store
