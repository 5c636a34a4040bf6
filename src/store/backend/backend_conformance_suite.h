// The Backend conformance suite: every Backend implementation must pass these tests
// (restic's internal/backend/test/suite.go, our own tests). A test file instantiates it
// with factories:
//
//   INSTANTIATE_TEST_SUITE_P(Mem, BackendConformanceTest,
//       ::testing::Values(BackendFactory{"mem", [] { return MakeMem(); }}),
//       BackendFactoryName);
//
// backend_conformance_test.cc runs it on mem and local; s3_integration_test.cc on S3
// against a real s3rver over HTTPS.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/backend/backend.h"
#include "store/backend/sigv4.h"

namespace clawback::store {

struct BackendFactory {
  std::string name;
  // A fresh, empty backend (Create() not yet called); nullptr skips the test (with a
  // reason printed by the factory).
  std::function<BackendPtr()> make;
};

inline void PrintTo(const BackendFactory& f, std::ostream* os) { *os << f.name; }

inline std::string BackendFactoryName(const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

// Deterministic pseudo-random bytes.
inline std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// The name a file gets in a repository: the SHA-256 of its bytes.
inline std::string IdOf(std::string_view data) { return Sha256Hex(data); }

class BackendConformanceTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    if (!backend_) {
      if (HasFailure()) FAIL() << GetParam().name << " backend could not be made";
      GTEST_SKIP() << GetParam().name << " backend is not available here";
    }
    ASSERT_TRUE(backend_->Create().ok());
  }

  // Saves `data` under its content hash and returns the name.
  std::string SaveNew(FileType t, const std::string& data) {
    std::string name = IdOf(data);
    Status s = backend_->Save(t, name, data);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return name;
  }

  static std::set<std::string> Names(const std::vector<FileInfo>& files) {
    std::set<std::string> out;
    for (const auto& f : files) out.insert(f.name);
    return out;
  }

  BackendPtr backend_;
};

constexpr FileType kAllTypes[] = {FileType::kKey, FileType::kLock, FileType::kSnapshot,
                                  FileType::kIndex, FileType::kPack};

TEST_P(BackendConformanceTest, CreateIsIdempotentAndExistsFollowsConfig) {
  EXPECT_FALSE(backend_->Location().empty());
  ASSERT_TRUE(backend_->Create().ok());
  auto exists = backend_->Exists();
  ASSERT_TRUE(exists.ok()) << exists.status().ToString();
  EXPECT_FALSE(*exists);
  ASSERT_TRUE(backend_->Save(FileType::kConfig, "config", "{\"version\":2}").ok());
  exists = backend_->Exists();
  ASSERT_TRUE(exists.ok());
  EXPECT_TRUE(*exists);
  auto config = backend_->Load(FileType::kConfig, "config");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config, "{\"version\":2}");
  auto list = backend_->List(FileType::kConfig);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "config");
  EXPECT_EQ((*list)[0].size, 13);
  EXPECT_TRUE(backend_->Create().ok());
  EXPECT_TRUE(*backend_->Exists());
}

TEST_P(BackendConformanceTest, SaveLoadRoundTripsEveryType) {
  uint32_t seed = 1;
  for (FileType t : kAllTypes) {
    std::string data = RandomBytes(1000 + seed * 37, seed);
    ++seed;
    std::string name = SaveNew(t, data);
    auto loaded = backend_->Load(t, name);
    ASSERT_TRUE(loaded.ok()) << FileTypeDir(t) << ": " << loaded.status().ToString();
    EXPECT_EQ(*loaded, data) << FileTypeDir(t);
    auto info = backend_->Stat(t, name);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->name, name);
    EXPECT_EQ(info->size, static_cast<int64_t>(data.size()));
  }
}

TEST_P(BackendConformanceTest, TypesAreSeparateNamespaces) {
  std::string data = "same bytes, two types";
  std::string name = SaveNew(FileType::kIndex, data);
  EXPECT_EQ(backend_->Load(FileType::kSnapshot, name).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(backend_->Save(FileType::kSnapshot, name, data).ok());
  ASSERT_TRUE(backend_->Remove(FileType::kIndex, name).ok());
  EXPECT_TRUE(backend_->Load(FileType::kSnapshot, name).ok());
}

TEST_P(BackendConformanceTest, EmptyAndBinaryFilesRoundTrip) {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  binary += std::string("\0\r\n\0", 4);
  std::string empty_name = IdOf("");
  ASSERT_TRUE(backend_->Save(FileType::kPack, empty_name, "").ok());
  auto empty = backend_->Load(FileType::kPack, empty_name);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, "");
  EXPECT_EQ(backend_->Stat(FileType::kPack, empty_name)->size, 0);
  std::string name = SaveNew(FileType::kPack, binary);
  EXPECT_EQ(*backend_->Load(FileType::kPack, name), binary);
}

TEST_P(BackendConformanceTest, FilesAreImmutable) {
  std::string name = SaveNew(FileType::kPack, "first");
  Status s = backend_->Save(FileType::kPack, name, "second, different");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_EQ(*backend_->Load(FileType::kPack, name), "first");
  ASSERT_TRUE(backend_->Save(FileType::kConfig, "config", "one").ok());
  EXPECT_EQ(backend_->Save(FileType::kConfig, "config", "two").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*backend_->Load(FileType::kConfig, "config"), "one");
}

TEST_P(BackendConformanceTest, LockIsRefreshedByRemoveAndSave) {
  std::string name = IdOf("lock-name");
  ASSERT_TRUE(backend_->Save(FileType::kLock, name, "{\"time\":1}").ok());
  EXPECT_EQ(backend_->Save(FileType::kLock, name, "{\"time\":2}").code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(backend_->Remove(FileType::kLock, name).ok());
  ASSERT_TRUE(backend_->Save(FileType::kLock, name, "{\"time\":2}").ok());
  EXPECT_EQ(*backend_->Load(FileType::kLock, name), "{\"time\":2}");
}

TEST_P(BackendConformanceTest, MissingFilesAreNotFound) {
  std::string name = IdOf("never stored");
  EXPECT_EQ(backend_->Load(FileType::kPack, name).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Load(FileType::kPack, name, 10, 5).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Stat(FileType::kSnapshot, name).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Remove(FileType::kIndex, name).code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Load(FileType::kConfig, "config").status().code(), StatusCode::kNotFound);
}

TEST_P(BackendConformanceTest, RangeReads) {
  std::string data = RandomBytes(10'000, 7);
  std::string name = SaveNew(FileType::kPack, data);
  struct Case {
    int64_t offset, length;
  };
  for (Case c : {Case{0, 0}, Case{0, 1}, Case{0, 10'000}, Case{1, 0}, Case{9'999, 1},
                 Case{9'999, 0}, Case{4'321, 1'234}, Case{5'000, 5'000}}) {
    auto got = backend_->Load(FileType::kPack, name, c.offset, c.length);
    ASSERT_TRUE(got.ok()) << c.offset << "+" << c.length << ": " << got.status().ToString();
    std::string want = data.substr(c.offset, c.length == 0 ? std::string::npos : c.length);
    EXPECT_EQ(*got, want) << c.offset << "+" << c.length;
  }
  // Exactly at the end, to the end: empty.
  auto at_end = backend_->Load(FileType::kPack, name, 10'000, 0);
  ASSERT_TRUE(at_end.ok()) << at_end.status().ToString();
  EXPECT_EQ(*at_end, "");
}

TEST_P(BackendConformanceTest, LoadIntoReplacesTheBufferContents) {
  std::string data = RandomBytes(10'000, 9);
  std::string name = SaveNew(FileType::kPack, data);
  std::string buf(20'000, 'x');  // longer than any read: must shrink, not keep a tail
  ASSERT_TRUE(backend_->LoadInto(FileType::kPack, name, 0, 0, &buf).ok());
  EXPECT_EQ(buf, data);
  ASSERT_TRUE(backend_->LoadInto(FileType::kPack, name, 4'321, 1'234, &buf).ok());
  EXPECT_EQ(buf, data.substr(4'321, 1'234));
  ASSERT_TRUE(backend_->LoadInto(FileType::kPack, name, 9'000, 0, &buf).ok());
  EXPECT_EQ(buf, data.substr(9'000));
  EXPECT_EQ(backend_->LoadInto(FileType::kPack, name, 9'999, 2, &buf).code(), StatusCode::kCorruption);
  std::string missing = SaveNew(FileType::kPack, "x");
  ASSERT_TRUE(backend_->Remove(FileType::kPack, missing).ok());
  EXPECT_EQ(backend_->LoadInto(FileType::kPack, missing, 0, 0, &buf).code(), StatusCode::kNotFound);
}

TEST_P(BackendConformanceTest, RangesPastTheEndAreErrorsNotShortReads) {
  std::string data = RandomBytes(1'000, 8);
  std::string name = SaveNew(FileType::kPack, data);
  for (auto [offset, length] :
       {std::pair<int64_t, int64_t>{999, 2}, {0, 1'001}, {1'001, 0}, {2'000, 10}, {500, 600}}) {
    auto got = backend_->Load(FileType::kPack, name, offset, length);
    EXPECT_EQ(got.status().code(), StatusCode::kCorruption)
        << offset << "+" << length << ": " << (got.ok() ? "ok" : got.status().ToString());
  }
}

TEST_P(BackendConformanceTest, ListReturnsEveryFileOfAType) {
  std::set<std::string> packs, indexes;
  for (int i = 0; i < 23; ++i)
    packs.insert(SaveNew(FileType::kPack, RandomBytes(100 + i, 100 + i)));
  for (int i = 0; i < 4; ++i)
    indexes.insert(SaveNew(FileType::kIndex, RandomBytes(50 + i, 200 + i)));
  auto listed = backend_->List(FileType::kPack);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), packs.size());
  EXPECT_EQ(Names(*listed), packs);
  for (const FileInfo& f : *listed) {
    EXPECT_EQ(f.size, static_cast<int64_t>(backend_->Load(FileType::kPack, f.name)->size()));
  }
  EXPECT_EQ(Names(*backend_->List(FileType::kIndex)), indexes);
  EXPECT_TRUE(backend_->List(FileType::kSnapshot)->empty());
  EXPECT_TRUE(backend_->List(FileType::kConfig)->empty());
}

TEST_P(BackendConformanceTest, RemoveDeletesOnlyThatFile) {
  std::string a = SaveNew(FileType::kSnapshot, "a");
  std::string b = SaveNew(FileType::kSnapshot, "b");
  ASSERT_TRUE(backend_->Remove(FileType::kSnapshot, a).ok());
  EXPECT_EQ(backend_->Load(FileType::kSnapshot, a).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend_->Stat(FileType::kSnapshot, a).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Names(*backend_->List(FileType::kSnapshot)), std::set<std::string>{b});
  EXPECT_EQ(backend_->Remove(FileType::kSnapshot, a).code(), StatusCode::kNotFound);
  // A removed name can be written again.
  ASSERT_TRUE(backend_->Save(FileType::kSnapshot, a, "a").ok());
}

TEST_P(BackendConformanceTest, InvalidNamesAreRejected) {
  for (const std::string& bad :
       {std::string(""), std::string("abc"), std::string("../config"), std::string(64, 'A'),
        std::string(63, 'a') + "/", std::string("keys/") + std::string(59, 'a'),
        IdOf("x") + "-tmp-1234"}) {
    EXPECT_EQ(backend_->Save(FileType::kKey, bad, "x").code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(backend_->Load(FileType::kPack, bad).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(backend_->Save(FileType::kConfig, "other", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(backend_->List(FileType::kKey)->empty());
}

TEST_P(BackendConformanceTest, LargeFileAndItsMiddle) {
  std::string data = RandomBytes(5 * 1024 * 1024 + 17, 42);
  std::string name = SaveNew(FileType::kPack, data);
  auto all = backend_->Load(FileType::kPack, name);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(*all == data);
  auto middle = backend_->Load(FileType::kPack, name, 3'000'001, 65'536);
  ASSERT_TRUE(middle.ok());
  EXPECT_TRUE(*middle == data.substr(3'000'001, 65'536));
}

// Begin/Append/Commit (how the repository writes packs): the file appears only at Commit,
// whole, under the given name; pieces of any size (crossing 1 MiB staging pieces) come
// back in order; an existing name is AlreadyExists; a file dropped before Commit leaves
// nothing listed.
TEST_P(BackendConformanceTest, PendingFilesAppearOnlyWhenCommitted) {
  std::string data = RandomBytes(3 * 1024 * 1024 + 4097, 77);
  auto file = backend_->Begin(FileType::kPack, data.size());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  size_t pos = 0;
  for (size_t piece : {size_t{1}, size_t{4095}, size_t{1} << 20, size_t{1} << 20, size_t{300000}}) {
    ASSERT_TRUE((*file)->Append(std::string_view(data).substr(pos, piece)).ok());
    pos += piece;
  }
  ASSERT_TRUE((*file)->Append(std::string_view(data).substr(pos)).ok());
  EXPECT_TRUE(backend_->List(FileType::kPack)->empty());
  const std::string name = IdOf(data);
  Status st = (*file)->Commit(name);
  ASSERT_TRUE(st.ok()) << st.ToString();
  file->reset();
  auto back = backend_->Load(FileType::kPack, name);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == data);
  EXPECT_EQ(backend_->Stat(FileType::kPack, name)->size, static_cast<int64_t>(data.size()));

  auto again = backend_->Begin(FileType::kPack);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Append("other bytes").ok());
  EXPECT_EQ((*again)->Commit(name).code(), StatusCode::kAlreadyExists);

  for (size_t size : {size_t{10}, size_t{2} << 20}) {
    auto dropped = backend_->Begin(FileType::kPack);
    ASSERT_TRUE(dropped.ok());
    ASSERT_TRUE((*dropped)->Append(RandomBytes(size, 5)).ok());
  }
  auto listed = backend_->List(FileType::kPack);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Names(*listed), std::set<std::string>{name});
  auto small = backend_->Begin(FileType::kPack);
  ASSERT_TRUE(small.ok());
  ASSERT_TRUE((*small)->Append("x").ok());
  ASSERT_TRUE((*small)->Commit(IdOf("x")).ok());
  EXPECT_EQ(*backend_->Load(FileType::kPack, IdOf("x")), "x");
}

TEST_P(BackendConformanceTest, ConcurrentSavesAndLoads) {
  constexpr int kThreads = 4, kPerThread = 8;
  std::vector<std::vector<std::string>> names(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string data = RandomBytes(2'000 + i, static_cast<uint32_t>(1000 * t + i));
        std::string name = IdOf(data);
        if (!backend_->Save(FileType::kPack, name, data).ok()) failures++;
        auto back = backend_->Load(FileType::kPack, name);
        if (!back.ok() || *back != data) failures++;
        names[t].push_back(name);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto listed = backend_->List(FileType::kPack);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace clawback::store
