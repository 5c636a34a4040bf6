// ParentPrefetch: parent trees loaded ahead by pool tasks, claimed by the walker when it
// comes first, cancelled with their directory's map. A pool without threads runs tasks
// only when the test calls TryRunOne, which makes every interleaving deterministic.
#include "store/archiver/parent_prefetch.h"

#include <gtest/gtest.h>

#include <atomic>

#include "store/backend/mem_backend.h"

namespace clawback::store {
namespace {

Node DirNode(const std::string& name, const Id& subtree) {
  Node n;
  n.name = name;
  n.type = NodeType::kDir;
  n.subtree = subtree;
  return n;
}

class ParentPrefetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions init;
    init.kdf = KdfParams{1024, 8, 1};
    auto r = Repository::Init(&backend_, "pw", init);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    repo_ = std::move(*r);
    // parent: a/ (holding "in-a"), b/ (holding "in-b"), and a file f.
    for (const char* sub : {"a", "b"}) {
      Tree t;
      Node f;
      f.name = std::string("in-") + sub;
      t.nodes.push_back(f);
      auto id = repo_->SaveTree(t);
      ASSERT_TRUE(id.ok());
      parent_.nodes.push_back(DirNode(sub, *id));
    }
    Node f;
    f.name = "f";
    parent_.nodes.push_back(f);
    ASSERT_TRUE(repo_->Flush().ok());
  }
  ParentPrefetch Make(WorkPool* pool) {
    return ParentPrefetch(repo_.get(), pool, [this] {
      loads_++;
      return keep_going_.load();
    });
  }
  static std::string FirstName(const std::optional<Tree>& t) {
    return t && !t->nodes.empty() ? t->nodes[0].name : "<none>";
  }

  MemBackend backend_;
  std::unique_ptr<Repository> repo_;
  Tree parent_;
  std::atomic<int> loads_{0};  // tasks that got to loading
  std::atomic<bool> keep_going_{true};
};

TEST_F(ParentPrefetchTest, QueuedTreesAreLoadedByTheTasksAndTaken) {
  WorkPool pool(0, 16);
  ParentPrefetch p = Make(&pool);
  ParentPrefetch::Map map;
  p.Queue(parent_, &map);
  EXPECT_EQ(map.size(), 2u);  // directories only
  EXPECT_EQ(map.Find("f"), nullptr);
  while (pool.TryRunOne()) {
  }
  EXPECT_EQ(loads_, 2);
  EXPECT_EQ(FirstName(p.Take(&parent_.nodes[0], map.Find("a"))), "in-a");
  EXPECT_EQ(FirstName(p.Take(&parent_.nodes[1], map.Find("b"))), "in-b");
}

TEST_F(ParentPrefetchTest, WalkerClaimsATreeStillQueuedAndTheTaskSkipsIt) {
  WorkPool pool(0, 16);
  ParentPrefetch p = Make(&pool);
  ParentPrefetch::Map map;
  p.Queue(parent_, &map);
  EXPECT_EQ(FirstName(p.Take(&parent_.nodes[0], map.Find("a"))), "in-a");  // loaded here
  while (pool.TryRunOne()) {
  }
  EXPECT_EQ(loads_, 1);  // only b's task loaded
}

TEST_F(ParentPrefetchTest, DestroyingTheMapCancelsQueuedTasks) {
  WorkPool pool(0, 16);
  ParentPrefetch p = Make(&pool);
  {
    ParentPrefetch::Map map;
    p.Queue(parent_, &map);
  }
  while (pool.TryRunOne()) {
  }
  EXPECT_EQ(loads_, 0);
}

TEST_F(ParentPrefetchTest, NothingIsLoadedOnceTheArchiveFailed) {
  WorkPool pool(0, 16);
  ParentPrefetch p = Make(&pool);
  ParentPrefetch::Map map;
  p.Queue(parent_, &map);
  keep_going_ = false;
  while (pool.TryRunOne()) {
  }
  EXPECT_FALSE(p.Take(&parent_.nodes[0], map.Find("a")).has_value());
}

TEST_F(ParentPrefetchTest, WithWorkerThreadsEveryTakeGetsItsTree) {
  WorkPool pool(2, 16);
  ParentPrefetch p = Make(&pool);
  for (int i = 0; i < 50; i++) {
    ParentPrefetch::Map map;
    p.Queue(parent_, &map);
    EXPECT_EQ(FirstName(p.Take(&parent_.nodes[1], map.Find("b"))), "in-b");
  }  // a's slots: cancelled or waited for by each map
}

TEST_F(ParentPrefetchTest, LoadWithoutAUsableParentGivesNothing) {
  WorkPool pool(0, 16);
  ParentPrefetch p = Make(&pool);
  EXPECT_FALSE(p.Load(nullptr).has_value());
  EXPECT_FALSE(p.Load(&parent_.nodes[2]).has_value());  // a file
  Node missing = DirNode("m", Id::Hash("no such tree"));
  EXPECT_FALSE(p.Load(&missing).has_value());
  EXPECT_FALSE(p.Take(&missing, nullptr).has_value());
  EXPECT_EQ(FirstName(p.Take(&parent_.nodes[0], nullptr)), "in-a");
}

}  // namespace
}  // namespace clawback::store
