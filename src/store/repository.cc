#include "store/repository.h"

#include <algorithm>
#include <thread>
#include <memory>

#include "store/chunker/chunker.h"
#include "store/unpacked.h"

namespace clawback::store {
namespace {

constexpr size_t kMaxKeysTried = 20;  // restic 0.14's maxKeys

// Runs fn(i) for i in [0, n) on up to `threads` threads; returns the first error.
Status ParallelFor(size_t n, size_t threads, const std::function<Status(size_t)>& fn) {
  if (n == 0) return Status::Ok();
  threads = std::max<size_t>(1, std::min(threads, n));
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto work = [&]() {
    while (true) {
      size_t i = next.fetch_add(1);
      if (i >= n) return;
      Status st = fn(i);
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = st;
        next.store(n);
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  return first;
}

std::string FileName(FileType type, const Id& id) {
  return std::string(FileTypeDir(type)) + "/" + id.Hex();
}

}  // namespace

Repository::Repository(Backend* backend, Key key, Id key_id, RepoConfig config, RepositoryOptions options)
    : backend_(backend),
      key_(key),
      key_id_(key_id),
      config_(std::move(config)),
      options_(std::move(options)) {}

Repository::~Repository() = default;

Result<std::unique_ptr<Repository>> Repository::Open(Backend* backend, std::string_view password,
                                                     const RepositoryOptions& options) {
  ASSIGN_OR_RETURN(bool exists, backend->Exists());
  if (!exists) {
    return FailedPrecondition("no repository at " + backend->Location() + " (no config file); initialise it first");
  }
  ASSIGN_OR_RETURN(auto keys, backend->List(FileType::kKey));
  std::sort(keys.begin(), keys.end(), [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
  size_t tried = 0;
  for (const FileInfo& info : keys) {
    auto key_id = Id::Parse(info.name);
    if (!key_id.ok()) continue;
    if (tried++ >= kMaxKeysTried) break;
    ASSIGN_OR_RETURN(auto bytes, backend->Load(FileType::kKey, info.name, 0, 0));
    auto file = KeyFile::Parse(bytes);
    if (!file.ok()) return file.status().WithContext("keys/" + info.name);
    auto master = OpenKeyFile(*file, password);
    if (!master.ok()) {
      if (master.status().code() == StatusCode::kWrongPassword) continue;
      return master.status().WithContext("keys/" + info.name);
    }
    auto config_bytes = backend->Load(FileType::kConfig, "config", 0, 0);
    if (!config_bytes.ok()) return config_bytes.status().WithContext("config");
    ASSIGN_OR_RETURN(auto config, DecodeConfigFile(*master, *config_bytes));
    return std::unique_ptr<Repository>(new Repository(backend, *master, *key_id, std::move(config), options));
  }
  if (tried == 0) return FailedPrecondition("repository " + backend->Location() + " has no key files");
  return WrongPassword("wrong password or no key found for repository " + backend->Location());
}

Result<std::unique_ptr<Repository>> Repository::Init(Backend* backend, std::string_view password,
                                                     const InitOptions& init, const RepositoryOptions& options) {
  ASSIGN_OR_RETURN(bool exists, backend->Exists());
  if (exists) return AlreadyExists("a repository already exists at " + backend->Location());
  RETURN_IF_ERROR(backend->Create());
  Key master = Key::Random();
  RepoConfig config = RepoConfig::New();
  if (init.chunker_polynomial != 0) {
    if (PolDegree(init.chunker_polynomial) != 53 || !PolIrreducible(init.chunker_polynomial)) {
      return InvalidArgument("chunker polynomial must be irreducible of degree 53");
    }
    config.chunker_polynomial = init.chunker_polynomial;
  }
  KdfParams params = init.kdf ? *init.kdf : CalibrateKdf();
  ASSIGN_OR_RETURN(auto key_file, CreateKeyFile(master, password, params, init.username, init.hostname));
  std::string key_json = key_file.ToJson();
  Id key_id = Id::Hash(key_json);
  RETURN_IF_ERROR(backend->Save(FileType::kKey, key_id.Hex(), key_json));
  RETURN_IF_ERROR(backend->Save(FileType::kConfig, "config", EncodeConfigFile(master, config)));
  return std::unique_ptr<Repository>(new Repository(backend, master, key_id, std::move(config), options));
}

Result<Id> Repository::AddKey(std::string_view password, const KdfParams& params, std::string username,
                              std::string hostname) {
  ASSIGN_OR_RETURN(auto key_file, CreateKeyFile(key_, password, params, std::move(username), std::move(hostname)));
  std::string json = key_file.ToJson();
  Id id = Id::Hash(json);
  RETURN_IF_ERROR(backend_->Save(FileType::kKey, id.Hex(), json));
  return id;
}

// ---- index

Status Repository::LoadIndex() {
  ASSIGN_OR_RETURN(auto ids, List(FileType::kIndex));
  return LoadIndexFiles(ids);
}

Status Repository::LoadIndexFiles(const std::vector<Id>& ids) {
  return ParallelFor(ids.size(), 4, [&](size_t i) -> Status {
    auto json = LoadUnpacked(FileType::kIndex, ids[i]);
    if (!json.ok()) return json.status();
    auto file = IndexFile::Parse(*json);
    if (!file.ok()) return file.status().WithContext(FileName(FileType::kIndex, ids[i]));
    if (config_.version < 2) {
      for (const auto& p : file->packs) {
        for (const auto& b : p.blobs) {
          if (b.compressed()) {
            return Corruption(FileName(FileType::kIndex, ids[i]) +
                              ": index uses feature not supported by repository version 1");
          }
        }
      }
    }
    index_.AddIndexFile(ids[i], *file);
    return Status::Ok();
  });
}

Status Repository::RefreshIndex() {
  ASSIGN_OR_RETURN(auto ids, List(FileType::kIndex));
  std::unordered_set<Id, IdHash> present(ids.begin(), ids.end());
  std::unordered_set<Id, IdHash> known;
  for (const Id& id : index_.IndexFiles()) known.insert(id);
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    known.insert(written_index_files_.begin(), written_index_files_.end());
  }
  bool gone = false;
  for (const Id& id : known) gone = gone || present.count(id) == 0;
  if (gone) {
    index_.Clear();
    {
      std::lock_guard<std::mutex> lock(index_mu_);
      written_index_files_.clear();
    }
    return LoadIndexFiles(ids);
  }
  std::vector<Id> fresh;
  for (const Id& id : ids) {
    if (known.count(id) == 0) fresh.push_back(id);
  }
  return LoadIndexFiles(fresh);
}

Status Repository::DiscardWritesAndReloadIndex() {
  {
    std::lock_guard<std::mutex> lock(packs_mu_);
    idle_packs_[0].clear();  // discards their temporary files
    idle_packs_[1].clear();
  }
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    pending_[0].clear();
    pending_[1].clear();
  }
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    unsaved_index_ = IndexFile();
    unsaved_blobs_ = 0;
    written_index_files_.clear();
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    error_ = Status::Ok();
  }
  index_.Clear();
  return LoadIndex();
}

// ---- blobs

Result<std::string> Repository::LoadBlobAt(const Id& pack, const PackedBlob& blob) {
  auto stored = backend_->Load(FileType::kPack, pack.Hex(), blob.offset, blob.length);
  if (!stored.ok()) return stored.status().WithContext("pack " + pack.ShortHex());
  std::string plaintext;
  Status st = DecodeBlob(key_, blob, *stored, &plaintext);
  if (!st.ok()) return st.WithContext("pack " + pack.ShortHex());
  return plaintext;
}

Result<std::string> Repository::LoadBlob(BlobType type, const Id& id) {
  auto locations = index_.LookupAll({id, type});
  if (locations.empty()) {
    return NotFound(std::string(BlobTypeName(type)) + " blob " + id.Hex() + " is not in the index");
  }
  Status last;
  for (const auto& loc : locations) {
    auto blob = LoadBlobAt(loc.pack, loc.blob);
    if (blob.ok()) return blob;
    last = blob.status();
  }
  return last;
}

Status Repository::LoadBlobInto(BlobType type, const Id& id, std::string* plaintext, std::string* scratch) {
  auto locations = index_.LookupAll({id, type});
  if (locations.empty()) {
    return NotFound(std::string(BlobTypeName(type)) + " blob " + id.Hex() + " is not in the index");
  }
  Status last;
  for (const auto& loc : locations) {
    Status st = backend_->LoadInto(FileType::kPack, loc.pack.Hex(), loc.blob.offset, loc.blob.length, scratch);
    if (st.ok()) st = DecodeBlob(key_, loc.blob, *scratch, plaintext);
    if (st.ok()) return st;
    last = st.WithContext("pack " + loc.pack.ShortHex());
  }
  return last;
}

Result<Tree> Repository::LoadTree(const Id& id) {
  ASSIGN_OR_RETURN(auto json, LoadBlob(BlobType::kTree, id));
  auto tree = Tree::Parse(json);
  if (!tree.ok()) return tree.status().WithContext("tree " + id.ShortHex());
  return tree;
}

Result<std::vector<PackedBlob>> Repository::LoadPackHeader(const Id& pack, int64_t size) {
  if (size <= 0) {
    ASSIGN_OR_RETURN(auto info, backend_->Stat(FileType::kPack, pack.Hex()));
    size = info.size;
  }
  // restic reads 15 entries' worth eagerly to save a round trip.
  int64_t want = std::min<int64_t>(size, 15 * kPackHeaderCompressedEntrySize + kCryptoOverhead + 4);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto tail = backend_->Load(FileType::kPack, pack.Hex(), size - want, want);
    if (!tail.ok()) return tail.status().WithContext("pack " + pack.ShortHex());
    size_t need = 0;
    auto blobs = ParsePackTail(key_, *tail, static_cast<uint64_t>(size), &need);
    if (blobs.ok() || blobs.status().code() != StatusCode::kFailedPrecondition || attempt == 1) {
      if (!blobs.ok()) return blobs.status().WithContext("pack " + pack.ShortHex());
      return blobs;
    }
    want = static_cast<int64_t>(need);
  }
  return Internal("unreachable");
}

Status Repository::sticky_error() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return error_;
}

void Repository::SetStickyError(const Status& st) {
  std::lock_guard<std::mutex> lock(stats_mu_);
  if (error_.ok()) error_ = st;
}

void Repository::ReleasePending(const std::vector<PackedBlob>& blobs) {
  std::lock_guard<std::mutex> lock(pending_mu_);
  for (const PackedBlob& b : blobs) pending_[static_cast<int>(b.type)].erase(b.id);
}

Result<SaveBlobResult> Repository::SaveBlob(BlobType type, std::string_view plaintext, const Id* given_id) {
  RETURN_IF_ERROR(sticky_error());
  const int t = static_cast<int>(type);
  SaveBlobResult result;
  result.id = given_id != nullptr ? *given_id : Id::Hash(plaintext);
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    if (pending_[t].count(result.id) != 0 || index_.Has({result.id, type})) {
      result.known = true;
    } else {
      pending_[t].insert(result.id);
    }
  }
  if (result.known) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.blobs_known;
    return result;
  }

  // The sealed blob goes to a per-thread buffer that is reused without being cleared
  // (resizing a std::string zero-fills it: a memset of every blob).
  thread_local std::unique_ptr<char[]> sealed_buf;
  thread_local size_t sealed_cap = 0;
  const size_t bound = SealedBlobBound(plaintext.size());
  if (sealed_cap < bound) {
    sealed_buf.reset();
    sealed_buf.reset(new char[bound]);
    sealed_cap = bound;
  }
  BlobCompression mode = BlobCompression::kNone;
  if (type == BlobType::kTree) {
    mode = BlobCompression::kAlways;  // restic repacks packs with uncompressed trees
  } else if (options_.compress_data && config_.version >= 2) {
    mode = BlobCompression::kAuto;
  }
  uint32_t ulen = 0;
  const int level = type == BlobType::kTree ? options_.compression_level : options_.data_compression_level;
  const size_t sealed_size = SealBlobInto(key_, plaintext, mode, level, sealed_buf.get(), &ulen);
  std::string_view sealed(sealed_buf.get(), sealed_size);
  result.stored_size = sealed_size;

  ASSIGN_OR_RETURN(std::unique_ptr<OpenPack> pack, TakePack(type));
  pack->writer.AddEntry(type, result.id, sealed.size(), ulen);
  pack->hash.Update(sealed);
  if (Status st = pack->file->Append(sealed); !st.ok()) {
    st = st.WithContext("writing a pack");
    SetStickyError(st);
    return st;  // the pack is discarded with its temporary file
  }
  if (sealed_cap > (size_t{32} << 20)) {
    sealed_buf.reset();
    sealed_cap = 0;
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.blobs_saved;
    stats_.bytes_plain += plaintext.size();
    stats_.bytes_stored += result.stored_size;
  }
  // Close the pack at the target size, or before its header could pass the 16 MiB limit.
  if (pack->writer.FinishedSize() >= options_.pack_size ||
      (pack->writer.count() + 1) * kPackHeaderCompressedEntrySize + kCryptoOverhead > kMaxPackHeaderSize) {
    RETURN_IF_ERROR(FinishPack(std::move(pack)));
  } else {
    ReturnPack(type, std::move(pack));
  }
  return result;
}

Result<std::unique_ptr<Repository::OpenPack>> Repository::TakePack(BlobType type) {
  const int t = static_cast<int>(type);
  {
    std::lock_guard<std::mutex> lock(packs_mu_);
    if (!idle_packs_[t].empty()) {
      std::unique_ptr<OpenPack> pack = std::move(idle_packs_[t].back());
      idle_packs_[t].pop_back();
      return pack;
    }
  }
  auto pack = std::make_unique<OpenPack>();
  // Room for a full pack plus the blob that tips it over and the header (for backends that
  // collect the pack in memory; untouched capacity is not resident).
  const size_t hint = std::min(options_.pack_size, size_t{64} << 20) + Chunker::kMaxSize + (size_t{1} << 20);
  auto file = backend_->Begin(FileType::kPack, hint);
  if (!file.ok()) {
    Status st = file.status().WithContext("starting a pack");
    SetStickyError(st);
    return st;
  }
  pack->file = std::move(*file);
  return pack;
}

void Repository::ReturnPack(BlobType type, std::unique_ptr<OpenPack> pack) {
  std::lock_guard<std::mutex> lock(packs_mu_);
  idle_packs_[static_cast<int>(type)].push_back(std::move(pack));
}

Status Repository::FinishPack(std::unique_ptr<OpenPack> pack) {
  std::vector<PackedBlob> blobs;
  const std::string tail = pack->writer.FinishHeader(key_, &blobs);
  pack->hash.Update(tail);
  const Id id = pack->hash.Final();
  Status st = pack->file->Append(tail);
  if (st.ok()) st = pack->file->Commit(id.Hex());
  pack.reset();
  if (!st.ok()) {
    st = st.WithContext("saving pack " + id.ShortHex());
    SetStickyError(st);
    return st;
  }
  index_.AddPack(id, blobs);
  ReleasePending(blobs);
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.packs_written;
  }
  std::lock_guard<std::mutex> lock(index_mu_);
  unsaved_blobs_ += blobs.size();
  unsaved_index_.packs.push_back(IndexPack{id, std::move(blobs)});
  if (unsaved_blobs_ >= options_.index_blobs_per_file) return WriteIndexLocked(false);
  return Status::Ok();
}

Status Repository::WriteIndexLocked(bool /*all*/) {
  if (unsaved_index_.packs.empty()) return Status::Ok();
  auto id = SaveUnpacked(FileType::kIndex, unsaved_index_.ToJson());
  if (!id.ok()) {
    SetStickyError(id.status());
    return id.status();
  }
  unsaved_index_ = IndexFile();
  unsaved_blobs_ = 0;
  written_index_files_.insert(*id);
  std::lock_guard<std::mutex> lock(stats_mu_);
  ++stats_.index_files_written;
  return Status::Ok();
}

Result<Id> Repository::SaveTree(Tree tree) {
  RETURN_IF_ERROR(tree.Sort());
  std::string json = tree.ToJson();
  ASSIGN_OR_RETURN(auto r, SaveBlob(BlobType::kTree, json));
  return r.id;
}

Status Repository::Flush() {
  RETURN_IF_ERROR(sticky_error());
  std::vector<std::unique_ptr<OpenPack>> open;
  {
    std::lock_guard<std::mutex> lock(packs_mu_);
    for (auto& idle : idle_packs_) {
      for (auto& p : idle) open.push_back(std::move(p));
      idle.clear();
    }
  }
  // The last packs are independent: finish them side by side, so a snapshot waits for one
  // pack's flushes instead of one after another.
  std::vector<Status> status(open.size());
  std::vector<std::thread> finishers;
  for (size_t i = 1; i < open.size(); ++i) {
    finishers.emplace_back([&, i] { status[i] = FinishPack(std::move(open[i])); });
  }
  if (!open.empty()) status[0] = FinishPack(std::move(open[0]));
  for (auto& th : finishers) th.join();
  for (const Status& st : status) RETURN_IF_ERROR(st);
  std::lock_guard<std::mutex> lock(index_mu_);
  return WriteIndexLocked(true);
}

Repository::WriteStats Repository::write_stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

// ---- unpacked files

Result<Id> Repository::SaveUnpacked(FileType type, std::string_view json) {
  std::string bytes = EncodeUnpacked(key_, json, config_.version >= 2, options_.compression_level);
  Id id = Id::Hash(bytes);
  RETURN_IF_ERROR(backend_->Save(type, id.Hex(), bytes));
  return id;
}

Result<std::string> Repository::LoadUnpacked(FileType type, const Id& id) {
  auto bytes = backend_->Load(type, id.Hex(), 0, 0);
  if (!bytes.ok()) return bytes.status().WithContext(FileName(type, id));
  if (Id::Hash(*bytes) != id) return Corruption(FileName(type, id) + ": content does not match its name");
  auto json = DecodeUnpacked(key_, *bytes);
  if (!json.ok()) return json.status().WithContext(FileName(type, id));
  return json;
}

Result<std::vector<Id>> Repository::List(FileType type) {
  ASSIGN_OR_RETURN(auto files, backend_->List(type));
  std::vector<Id> ids;
  ids.reserve(files.size());
  for (const FileInfo& f : files) {
    auto id = Id::Parse(f.name);
    if (id.ok()) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<Id> Repository::FindId(FileType type, std::string_view prefix) {
  ASSIGN_OR_RETURN(auto ids, List(type));
  auto id = FindUniqueByPrefix(ids, prefix);
  if (!id.ok()) return id.status().WithContext(std::string(FileTypeDir(type)));
  return id;
}

// ---- snapshots

Result<Id> Repository::SaveSnapshot(const Snapshot& snapshot) {
  if (snapshot.tree.IsNull()) return InvalidArgument("snapshot without a tree");
  return SaveUnpacked(FileType::kSnapshot, snapshot.ToJson());
}

Result<Snapshot> Repository::LoadSnapshot(const Id& id) {
  ASSIGN_OR_RETURN(auto json, LoadUnpacked(FileType::kSnapshot, id));
  auto s = Snapshot::Parse(json);
  if (!s.ok()) return s.status().WithContext(FileName(FileType::kSnapshot, id));
  return s;
}

Result<std::vector<SnapshotEntry>> Repository::ListSnapshots(bool skip_broken) {
  ASSIGN_OR_RETURN(auto ids, List(FileType::kSnapshot));
  std::vector<std::optional<SnapshotEntry>> loaded(ids.size());
  Status st = ParallelFor(ids.size(), 8, [&](size_t i) -> Status {
    auto s = LoadSnapshot(ids[i]);
    if (!s.ok()) return skip_broken ? Status::Ok() : s.status();
    loaded[i] = SnapshotEntry{ids[i], std::move(*s)};
    return Status::Ok();
  });
  RETURN_IF_ERROR(st);
  std::vector<SnapshotEntry> out;
  for (auto& e : loaded) {
    if (e) out.push_back(std::move(*e));
  }
  std::stable_sort(out.begin(), out.end(), [](const SnapshotEntry& a, const SnapshotEntry& b) {
    return a.snapshot.time.Before(b.snapshot.time);
  });
  return out;
}

Result<SnapshotEntry> Repository::FindSnapshot(std::string_view ref) {
  if (ref == "latest") {
    ASSIGN_OR_RETURN(auto all, ListSnapshots());
    if (all.empty()) return NotFound("the repository has no snapshots");
    return std::move(all.back());
  }
  ASSIGN_OR_RETURN(auto id, FindId(FileType::kSnapshot, ref));
  ASSIGN_OR_RETURN(auto snap, LoadSnapshot(id));
  return SnapshotEntry{id, std::move(snap)};
}

}  // namespace clawback::store
