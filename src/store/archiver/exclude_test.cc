#include "store/archiver/exclude.h"

#include <gtest/gtest.h>

namespace clawback::store {
namespace {

TEST(Exclude, BasenameGlobMatchesAtAnyDepth) {
  ExcludeSet s;
  ASSERT_TRUE(s.Add("*.tmp").ok());
  EXPECT_TRUE(s.Excluded("a.tmp", false));
  EXPECT_TRUE(s.Excluded("srv/data/b.tmp", false));
  EXPECT_FALSE(s.Excluded("srv/data/b.tmpx", false));
  EXPECT_FALSE(s.Excluded("srv/tmp", false));
}

TEST(Exclude, AnchoredPatterns) {
  ExcludeSet s;
  ASSERT_TRUE(s.Add("/srv/cache").ok());
  EXPECT_TRUE(s.Excluded("srv/cache", true));
  EXPECT_FALSE(s.Excluded("home/srv/cache", true));
}

TEST(Exclude, InnerSlashMatchesAsSuffixAndDoubleStar) {
  ExcludeSet s;
  ASSERT_TRUE(s.Add("build/out").ok());
  ASSERT_TRUE(s.Add("logs/**/*.gz").ok());
  EXPECT_TRUE(s.Excluded("proj/build/out", true));
  EXPECT_FALSE(s.Excluded("proj/build/outside", true));
  EXPECT_TRUE(s.Excluded("var/logs/a.gz", false));
  EXPECT_TRUE(s.Excluded("var/logs/2026/11/a.gz", false));
  EXPECT_FALSE(s.Excluded("var/logs/2026/11/a.txt", false));
}

TEST(Exclude, DirOnlyAndNegation) {
  ExcludeSet s;
  ASSERT_TRUE(s.AddIgnoreFileText("# comment\n\nnode_modules/\n*.log\n!keep.log\r\n").ok());
  EXPECT_EQ(s.patterns().size(), 3u);
  EXPECT_TRUE(s.Excluded("app/node_modules", true));
  EXPECT_FALSE(s.Excluded("app/node_modules", false));  // a file of that name stays
  EXPECT_TRUE(s.Excluded("x/debug.log", false));
  EXPECT_FALSE(s.Excluded("x/keep.log", false));
}

TEST(Exclude, CharacterClassesAndEmptyPatterns) {
  ExcludeSet s;
  EXPECT_FALSE(s.Add("").ok());
  EXPECT_FALSE(s.Add("/").ok());
  EXPECT_FALSE(s.Add("!").ok());
  ASSERT_TRUE(s.Add("file[0-9].bin").ok());
  EXPECT_TRUE(s.Excluded("d/file7.bin", false));
  EXPECT_FALSE(s.Excluded("d/fileA.bin", false));
  ExcludeSet none;
  EXPECT_FALSE(none.Excluded("anything", false));
}

}  // namespace
}  // namespace clawback::store
