// Repository: a restic-format (v2) repository on a Backend — the API the archiver,
// restorer, checker, forget/prune and the CLI build on (docs/format/restic-compat.md).
//
//   auto repo = Repository::Open(backend, password);      // tries key files (≤ 20)
//   RETURN_IF_ERROR((*repo)->LoadIndex());                  // all index files
//   auto blob = (*repo)->LoadBlob(BlobType::kData, id);     // decrypt, unzstd, verify id
//   auto r = (*repo)->SaveBlob(BlobType::kData, bytes);     // dedups, packs, uploads
//   RETURN_IF_ERROR((*repo)->Flush());                      // last packs + index files
//   auto sid = (*repo)->SaveSnapshot(snapshot);              // only after Flush
//
// Write ordering (spec §14): packs are uploaded before the index files naming them, and a
// snapshot must only be saved after Flush(), so a crash leaves at most unreferenced packs.
// Reading: list snapshots before loading the index.
//
// Thread-safety: after Open/Init, every method may be called from many threads at once,
// except that Flush() and LoadIndex() must not overlap SaveBlob() calls. SaveBlob does its
// compression and encryption on the calling thread, so N archiver threads calling it use N
// cores; each concurrent caller appends to its own open pack, which streams to the backend
// (Backend::Begin) and is finished by the thread that filled it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "store/backend/backend.h"
#include "store/config.h"
#include "store/crypto/crypto.h"
#include "store/crypto/key_file.h"
#include "store/id.h"
#include "store/index/index_file.h"
#include "store/index/master_index.h"
#include "store/pack/pack.h"
#include "store/snapshot.h"
#include "store/tree.h"

namespace clawback::store {

struct RepositoryOptions {
  // zstd level for tree blobs and unpacked files (index, snapshots, locks).
  int compression_level = 3;
  // zstd level for data blobs. Level 1 compresses text ~1.75x faster than level 3 and, on
  // the bench set's logs cut into ~1 MiB chunks, to 91 % of level 3's ratio; restic 0.14's
  // encoder (klauspost "default", 512 KiB window) wrote a ~1.5 % larger repository of the
  // whole set than level 3 did, about what level 1 writes.
  int data_compression_level = 1;
  // Store data blobs compressed (type 2). Trees are always compressed.
  bool compress_data = true;
  // A pack is finished once it reaches this size (restic's default is 16 MiB).
  size_t pack_size = 16 * 1024 * 1024;
  // An index file is written once this many blobs are waiting (restic: 150 000 with
  // compression); Flush() writes the rest.
  size_t index_blobs_per_file = 150000;
};

struct InitOptions {
  // scrypt parameters; empty = calibrate like restic (CalibrateKdf()).
  std::optional<KdfParams> kdf;
  // The chunker polynomial; 0 = random (tests pin it for deterministic chunks).
  uint64_t chunker_polynomial = 0;
  std::string username;  // recorded in the key file (informational)
  std::string hostname;
};

struct SaveBlobResult {
  Id id;
  bool known = false;         // already in the repository (or being saved): nothing stored
  size_t stored_size = 0;     // bytes added to a pack (compressed + 32), 0 when known
};

class Repository {
 public:
  // Opens the repository: lists keys/, tries each key file (at most 20, as restic) with
  // `password`, then reads the config. WrongPassword when no key opens ("wrong password or
  // no key found"); FailedPrecondition when there is no config (not initialised).
  static Result<std::unique_ptr<Repository>> Open(Backend* backend, std::string_view password,
                                                  const RepositoryOptions& options = {});
  // Creates a new version-2 repository: directory structure, one key file, the config.
  // AlreadyExists when the backend already holds a config.
  static Result<std::unique_ptr<Repository>> Init(Backend* backend, std::string_view password,
                                                  const InitOptions& init = {},
                                                  const RepositoryOptions& options = {});

  ~Repository();
  Repository(const Repository&) = delete;
  Repository& operator=(const Repository&) = delete;

  Backend* backend() const { return backend_; }
  const RepoConfig& config() const { return config_; }
  const Key& key() const { return key_; }
  const Id& key_id() const { return key_id_; }  // the key file that opened the repository
  const RepositoryOptions& options() const { return options_; }

  // ---- keys
  // Adds a key file wrapping the same master key under another password; returns its id.
  Result<Id> AddKey(std::string_view password, const KdfParams& params, std::string username = "",
                    std::string hostname = "");

  // ---- index
  // Loads every index file into index() (adding to what is there). Index files are read in
  // parallel; Corruption names the index file that failed.
  Status LoadIndex();
  // For long-lived sessions (`clawback serve`): loads the index files that appeared since
  // the last load; when one that was loaded (or written here) is gone — prune or a rebuilt
  // index superseded it — drops the whole in-memory index and reloads it.
  // REQUIRES: no SaveBlob/Flush running.
  Status RefreshIndex();
  // For long-lived sessions after a failed write: forgets everything unfinished (open packs,
  // blobs being saved, uploaded packs no index file names yet, the sticky error) and reloads
  // the index from the backend, so later writes never dedup against blobs that only this
  // process believed stored. REQUIRES: no SaveBlob/Flush running.
  Status DiscardWritesAndReloadIndex();
  MasterIndex& index() { return index_; }
  const MasterIndex& index() const { return index_; }
  bool HasBlob(BlobType type, const Id& id) const { return index_.Has({id, type}); }

  // ---- blobs
  // Reads, decrypts, decompresses and verifies a blob; tries every stored copy before
  // failing. NotFound when the index does not know the blob.
  Result<std::string> LoadBlob(BlobType type, const Id& id);
  // LoadBlob into *plaintext, reading the stored bytes into *scratch; both keep their
  // capacity, so a caller going through many large blobs (a restore of a big file) reuses
  // two buffers instead of mapping fresh ones per blob.
  Status LoadBlobInto(BlobType type, const Id& id, std::string* plaintext, std::string* scratch);
  // Reads one stored blob of a known pack location (checker, restorer).
  Result<std::string> LoadBlobAt(const Id& pack, const PackedBlob& blob);
  Result<Tree> LoadTree(const Id& id);
  // Reads and authenticates a pack's header from the end of the pack file (one ranged read
  // of the last ~15 entries, a second one if the header is longer). `size` is the pack's
  // size from a listing or Stat; 0 = Stat it. Checks the header against the size.
  Result<std::vector<PackedBlob>> LoadPackHeader(const Id& pack, int64_t size = 0);

  // Stores a blob unless the index or an unfinished pack already holds it. `id` may be
  // passed when the caller already hashed the plaintext. Thread-safe.
  Result<SaveBlobResult> SaveBlob(BlobType type, std::string_view plaintext, const Id* id = nullptr);
  // Sorts the tree (InvalidArgument on duplicate names), encodes it and saves it.
  Result<Id> SaveTree(Tree tree);
  // Finishes the open packs, uploads them and writes index files for everything not yet
  // indexed. REQUIRES: no SaveBlob running concurrently.
  Status Flush();

  // ---- unpacked files (index, snapshots, locks)
  // Encodes (0x02 + zstd for v2), seals and stores `json`; returns the storage id.
  Result<Id> SaveUnpacked(FileType type, std::string_view json);
  // Loads, checks sha256(file) == id, opens and decompresses.
  Result<std::string> LoadUnpacked(FileType type, const Id& id);
  // Ids of all files of a type (names that are not 64 hex digits are skipped, as restic does).
  Result<std::vector<Id>> List(FileType type);
  // The unique id of `type` whose hex starts with `prefix`.
  Result<Id> FindId(FileType type, std::string_view prefix);

  // ---- snapshots
  Result<Id> SaveSnapshot(const Snapshot& snapshot);
  Result<Snapshot> LoadSnapshot(const Id& id);
  // Every snapshot, oldest first. Files that fail to load are skipped only if
  // `skip_broken`; otherwise the first error is returned.
  Result<std::vector<SnapshotEntry>> ListSnapshots(bool skip_broken = false);
  // "latest" (newest by time) or an id prefix.
  Result<SnapshotEntry> FindSnapshot(std::string_view ref);

  // Statistics of this session's writes.
  struct WriteStats {
    uint64_t blobs_saved = 0;
    uint64_t blobs_known = 0;
    uint64_t bytes_plain = 0;   // plaintext bytes of saved blobs
    uint64_t bytes_stored = 0;  // stored bytes of saved blobs
    uint64_t packs_written = 0;
    uint64_t index_files_written = 0;
  };
  WriteStats write_stats() const;

 private:
  Repository(Backend* backend, Key key, Id key_id, RepoConfig config, RepositoryOptions options);

  // A pack being written: its blobs stream to the backend as they are added (nothing of
  // it is kept in memory but the header entries) and are hashed on the way for its id.
  struct OpenPack {
    PackWriter writer;
    std::unique_ptr<PendingFile> file;
    Sha256 hash;
  };
  // An idle open pack of `type`, or a new one; owned by the caller until ReturnPack or
  // FinishPack. Concurrent savers each fill their own pack, so neither the copy, the
  // hashing nor the (O_DIRECT) writes of one wait for another.
  Result<std::unique_ptr<OpenPack>> TakePack(BlobType type);
  void ReturnPack(BlobType type, std::unique_ptr<OpenPack> pack);
  // Appends the header, commits the file under its hash and records the blobs for the index.
  Status FinishPack(std::unique_ptr<OpenPack> pack);
  Status WriteIndexLocked(bool all);
  Status LoadIndexFiles(const std::vector<Id>& ids);
  void ReleasePending(const std::vector<PackedBlob>& blobs);
  Status sticky_error() const;
  void SetStickyError(const Status& st);

  Backend* backend_;
  Key key_;
  Id key_id_;
  RepoConfig config_;
  RepositoryOptions options_;
  MasterIndex index_;

  // Blobs claimed by a SaveBlob that are not yet in index_ (being sealed, in an open pack
  // or uploading), so concurrent savers of the same content store it once.
  mutable std::mutex pending_mu_;
  std::unordered_set<Id, IdHash> pending_[2];

  std::mutex packs_mu_;
  std::vector<std::unique_ptr<OpenPack>> idle_packs_[2];  // [data, tree]; GUARDED_BY(packs_mu_)

  // Packs uploaded but not yet written to an index file.
  std::mutex index_mu_;
  IndexFile unsaved_index_;
  size_t unsaved_blobs_ = 0;
  std::unordered_set<Id, IdHash> written_index_files_;  // GUARDED_BY(index_mu_)

  mutable std::mutex stats_mu_;
  WriteStats stats_;
  Status error_;
};

}  // namespace clawback::store
