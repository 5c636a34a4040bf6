#include "store/crypto/key_file.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

namespace clawback::store {

std::string KeyFile::ToJson() const {
  std::string out = "{\"created\":";
  AppendGoJsonString(&out, created.ToRfc3339());
  out += ",\"username\":";
  AppendGoJsonString(&out, username);
  out += ",\"hostname\":";
  AppendGoJsonString(&out, hostname);
  out += ",\"kdf\":";
  AppendGoJsonString(&out, kdf);
  out += ",\"N\":" + std::to_string(params.n) + ",\"r\":" + std::to_string(params.r) +
         ",\"p\":" + std::to_string(params.p) + ",\"salt\":";
  AppendGoJsonString(&out, Base64Encode(salt));
  out += ",\"data\":";
  AppendGoJsonString(&out, Base64Encode(data));
  out += "}";
  return out;
}

Result<KeyFile> KeyFile::Parse(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corruption("key file: invalid JSON");
  KeyFile kf;
  auto str = [&](const char* name, std::string* out, bool required) -> Status {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) {
      return required ? Corruption(std::string("key file: missing \"") + name + "\"") : Status::Ok();
    }
    if (!it->is_string()) return Corruption(std::string("key file: \"") + name + "\" is not a string");
    *out = it->get<std::string>();
    return Status::Ok();
  };
  auto num = [&](const char* name, uint64_t* out) -> Status {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number_integer() || (it->is_number_integer() && it->get<int64_t>() < 0)) {
      return Corruption(std::string("key file: \"") + name + "\" is not a non-negative integer");
    }
    *out = it->get<uint64_t>();
    return Status::Ok();
  };
  std::string created, salt_b64, data_b64;
  RETURN_IF_ERROR(str("created", &created, false));
  RETURN_IF_ERROR(str("username", &kf.username, false));
  RETURN_IF_ERROR(str("hostname", &kf.hostname, false));
  RETURN_IF_ERROR(str("kdf", &kf.kdf, true));
  RETURN_IF_ERROR(str("salt", &salt_b64, true));
  RETURN_IF_ERROR(str("data", &data_b64, true));
  if (kf.kdf != "scrypt") return Corruption("key file: unknown KDF \"" + kf.kdf + "\"");
  uint64_t n = 0, r = 0, p = 0;
  RETURN_IF_ERROR(num("N", &n));
  RETURN_IF_ERROR(num("r", &r));
  RETURN_IF_ERROR(num("p", &p));
  if (r > UINT32_MAX || p > UINT32_MAX) return Corruption("key file: scrypt parameters out of range");
  kf.params = {n, static_cast<uint32_t>(r), static_cast<uint32_t>(p)};
  if (!created.empty()) {
    auto t = Timestamp::Parse(created);
    if (!t.ok()) return Corruption("key file: " + t.status().message());
    kf.created = *t;
  }
  auto salt = Base64Decode(salt_b64);
  if (!salt.ok()) return Corruption("key file: salt: " + salt.status().message());
  if (salt->size() != 64) return Corruption("key file: salt is " + std::to_string(salt->size()) + " bytes, want 64");
  auto data = Base64Decode(data_b64);
  if (!data.ok()) return Corruption("key file: data: " + data.status().message());
  kf.salt = std::move(*salt);
  kf.data = std::move(*data);
  return kf;
}

Result<Key> OpenKeyFile(const KeyFile& file, std::string_view password) {
  auto dk = Scrypt(password, file.salt, file.params.n, file.params.r, file.params.p);
  if (!dk.ok()) return Corruption("key file: " + dk.status().message());
  Key user = KeyFromScrypt(*dk);
  std::string master_json;
  Status st = OpenInto(user, file.data, &master_json);
  if (!st.ok()) return WrongPassword("wrong password or no key found");
  auto master = Key::FromJson(master_json);
  if (!master.ok()) return master.status();
  return master;
}

Result<KeyFile> CreateKeyFile(const Key& master, std::string_view password, const KdfParams& params,
                              std::string username, std::string hostname) {
  KeyFile kf;
  kf.created = Timestamp::Now();
  kf.username = std::move(username);
  kf.hostname = std::move(hostname);
  kf.params = params;
  kf.salt.resize(64);
  RandomBytes(kf.salt.data(), kf.salt.size());
  ASSIGN_OR_RETURN(auto dk, Scrypt(password, kf.salt, params.n, params.r, params.p));
  Key user = KeyFromScrypt(dk);
  kf.data = Seal(user, master.ToJson());
  return kf;
}

KdfParams CalibrateKdf(int target_ms) {
  KdfParams params;  // N=32768, r=8, p=1: 32 MiB per lane
  std::string salt(64, '\0');
  RandomBytes(salt.data(), salt.size());
  auto start = std::chrono::steady_clock::now();
  auto dk = Scrypt("calibration", salt, params.n, params.r, 1);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!dk.ok() || ms <= 0) return params;
  // p is chosen so that the lanes derived one after the other (as restic does) take the
  // target: the work per password guess is what restic's calibration asks for. The
  // derivation itself runs lanes side by side (scrypt.h), so opening takes a fraction of it.
  double lanes = target_ms / ms;
  params.p = static_cast<uint32_t>(std::clamp(lanes, 1.0, 16.0));
  return params;
}

}  // namespace clawback::store
