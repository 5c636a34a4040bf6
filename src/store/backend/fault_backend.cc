#include "store/backend/fault_backend.h"

#include <string>
#include <utility>

namespace clawback::store {

void FaultBackend::FailNext(Op op, Status status, int count) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_[static_cast<size_t>(op)] = Rule{std::move(status), count, 0, 0};
}

void FaultBackend::FailEvery(Op op, Status status, int every) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_[static_cast<size_t>(op)] = Rule{std::move(status), 0, every < 1 ? 1 : every, 0};
}

void FaultBackend::PartialWriteNext(int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  partial_write_ = bytes < 0 ? 0 : bytes;
}

void FaultBackend::CrashAfter(int64_t operations) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_after_ = calls_[static_cast<size_t>(Op::kAny)] + operations;
  crashed_ = false;
}

void FaultBackend::Recover() {
  std::lock_guard<std::mutex> lock(mu_);
  crash_after_ = -1;
  crashed_ = false;
}

void FaultBackend::CorruptLoads(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  corrupt_loads_ = on;
}

void FaultBackend::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& r : rules_) r.reset();
  crash_after_ = -1;
  crashed_ = false;
  partial_write_ = -1;
  corrupt_loads_ = false;
}

bool FaultBackend::crashed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crashed_;
}

int64_t FaultBackend::Calls(Op op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[static_cast<size_t>(op)];
}

Status FaultBackend::Enter(Op op) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_[static_cast<size_t>(op)]++;
  int64_t n = ++calls_[static_cast<size_t>(Op::kAny)];
  if (crash_after_ >= 0 && n > crash_after_) crashed_ = true;
  if (crashed_)
    return Unavailable("fault injection: backend crashed (after operation " +
                       std::to_string(crash_after_) + ")");
  for (Op which : {op, Op::kAny}) {
    auto& rule = rules_[static_cast<size_t>(which)];
    if (!rule) continue;
    rule->seen++;
    if (rule->every > 0) {
      if (rule->seen % rule->every == 0) return rule->status;
    } else if (rule->remaining > 0) {
      Status s = rule->status;
      if (--rule->remaining == 0) rule.reset();
      return s;
    }
  }
  return Status::Ok();
}

Status FaultBackend::Create() {
  RETURN_IF_ERROR(Enter(Op::kCreate));
  return inner_->Create();
}

Result<bool> FaultBackend::Exists() {
  RETURN_IF_ERROR(Enter(Op::kExists));
  return inner_->Exists();
}

Status FaultBackend::Save(FileType t, const std::string& name, std::string_view data) {
  RETURN_IF_ERROR(Enter(Op::kSave));
  int64_t partial = -1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::swap(partial, partial_write_);
  }
  if (partial >= 0 && partial < static_cast<int64_t>(data.size())) {
    RETURN_IF_ERROR(inner_->Save(t, name, data.substr(0, static_cast<size_t>(partial))));
    return IOError("fault injection: torn write of " + name + " after " + std::to_string(partial) +
                   " of " + std::to_string(data.size()) + " bytes");
  }
  return inner_->Save(t, name, data);
}

Result<std::string> FaultBackend::Load(FileType t, const std::string& name, int64_t offset,
                                       int64_t length) {
  RETURN_IF_ERROR(Enter(Op::kLoad));
  ASSIGN_OR_RETURN(std::string data, inner_->Load(t, name, offset, length));
  bool corrupt;
  {
    std::lock_guard<std::mutex> lock(mu_);
    corrupt = corrupt_loads_;
  }
  if (corrupt && !data.empty()) data[data.size() / 2] ^= 0x01;
  return data;
}

Result<FileInfo> FaultBackend::Stat(FileType t, const std::string& name) {
  RETURN_IF_ERROR(Enter(Op::kStat));
  return inner_->Stat(t, name);
}

Status FaultBackend::Remove(FileType t, const std::string& name) {
  RETURN_IF_ERROR(Enter(Op::kRemove));
  return inner_->Remove(t, name);
}

Result<std::vector<FileInfo>> FaultBackend::List(FileType t) {
  RETURN_IF_ERROR(Enter(Op::kList));
  return inner_->List(t);
}

}  // namespace clawback::store
