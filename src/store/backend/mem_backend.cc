#include "store/backend/mem_backend.h"

#include <string>

#include "store/backend/backend_util.h"

namespace clawback::store {

Result<int64_t> CheckRange(std::string_view what, int64_t size, int64_t offset, int64_t length) {
  if (offset < 0 || length < 0) {
    return InvalidArgument("negative offset or length reading " + std::string(what));
  }
  if (offset > size || (length > 0 && offset + length > size)) {
    return Corruption("short read of " + std::string(what) + ": wanted bytes [" +
                      std::to_string(offset) + ", " +
                      (length > 0 ? std::to_string(offset + length) : std::string("end")) +
                      ") of a " + std::to_string(size) + "-byte file");
  }
  return length > 0 ? length : size - offset;
}

Status MemBackend::Create() { return Status::Ok(); }

Result<bool> MemBackend::Exists() {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count({FileType::kConfig, "config"}) > 0;
}

Status MemBackend::Save(FileType t, const std::string& name, std::string_view data) {
  RETURN_IF_ERROR(ValidateName(t, name));
  std::string key_name = t == FileType::kConfig ? "config" : name;
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = files_.try_emplace({t, key_name}, data);
  if (!inserted) return AlreadyExists(ObjectPath(t, key_name) + " already exists in " + location_);
  return Status::Ok();
}

Result<std::string> MemBackend::Load(FileType t, const std::string& name, int64_t offset,
                                     int64_t length) {
  RETURN_IF_ERROR(ValidateName(t, name));
  std::string key_name = t == FileType::kConfig ? "config" : name;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find({t, key_name});
  if (it == files_.end()) return NotFound(ObjectPath(t, key_name) + " not found in " + location_);
  const std::string& data = it->second;
  ASSIGN_OR_RETURN(int64_t n, CheckRange(ObjectPath(t, key_name), static_cast<int64_t>(data.size()),
                                         offset, length));
  return data.substr(static_cast<size_t>(offset), static_cast<size_t>(n));
}

Result<FileInfo> MemBackend::Stat(FileType t, const std::string& name) {
  RETURN_IF_ERROR(ValidateName(t, name));
  std::string key_name = t == FileType::kConfig ? "config" : name;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find({t, key_name});
  if (it == files_.end()) return NotFound(ObjectPath(t, key_name) + " not found in " + location_);
  return FileInfo{key_name, static_cast<int64_t>(it->second.size())};
}

Status MemBackend::Remove(FileType t, const std::string& name) {
  RETURN_IF_ERROR(ValidateName(t, name));
  std::string key_name = t == FileType::kConfig ? "config" : name;
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.erase({t, key_name}) == 0) {
    return NotFound(ObjectPath(t, key_name) + " not found in " + location_);
  }
  return Status::Ok();
}

Result<std::vector<FileInfo>> MemBackend::List(FileType t) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<FileInfo> out;
  for (auto it = files_.lower_bound({t, ""}); it != files_.end() && it->first.first == t; ++it) {
    out.push_back({it->first.second, static_cast<int64_t>(it->second.size())});
  }
  return out;
}

size_t MemBackend::FileCountForTest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.size();
}

}  // namespace clawback::store
