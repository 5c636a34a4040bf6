#include "store/forget/policy.h"

#include <gtest/gtest.h>

#include <set>

#include "common/clock.h"

namespace clawback::store::forget {
namespace {

// "2024-03-31T12:00:00+02:00" -> SnapshotInfo with that instant and offset.
SnapshotInfo Snap(const std::string& id, const std::string& rfc3339, std::string host = "h",
                  std::vector<std::string> tags = {}) {
  int64_t ms = 0;
  EXPECT_TRUE(ParseRfc3339Millis(rfc3339, &ms)) << rfc3339;
  SnapshotInfo s;
  s.id = id;
  s.unix_nanos = ms * 1'000'000;
  s.utc_offset_seconds = 0;
  if (rfc3339.size() > 6) {
    std::string tz = rfc3339.substr(rfc3339.size() - 6);
    if (tz[0] == '+' || tz[0] == '-') {
      int off = (std::stoi(tz.substr(1, 2)) * 60 + std::stoi(tz.substr(4, 2))) * 60;
      s.utc_offset_seconds = tz[0] == '-' ? -off : off;
    }
  }
  s.hostname = std::move(host);
  s.paths = {"/data"};
  s.tags = std::move(tags);
  return s;
}

std::set<std::string> KeptIds(const std::vector<Decision>& ds) {
  std::set<std::string> ids;
  for (const auto& d : ds) {
    if (d.keep) ids.insert(d.snapshot.id);
  }
  return ids;
}

// Ten snapshots, two a day at 08:00 and 20:00 UTC, 2024-01-01 .. 2024-01-05.
std::vector<SnapshotInfo> TenSnaps() {
  std::vector<SnapshotInfo> v;
  for (int day = 1; day <= 5; ++day) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "2024-01-%02dT08:00:00Z", day);
    v.push_back(Snap("d" + std::to_string(day) + "am", buf));
    std::snprintf(buf, sizeof buf, "2024-01-%02dT20:00:00Z", day);
    v.push_back(Snap("d" + std::to_string(day) + "pm", buf));
  }
  return v;
}

TEST(ForgetPolicy, KeepLastKeepsTheNewest) {
  Policy p;
  p.last = 3;
  auto ds = ApplyPolicy(TenSnaps(), p);
  ASSERT_EQ(ds.size(), 10u);
  EXPECT_EQ(ds.front().snapshot.id, "d5pm");  // newest first
  EXPECT_EQ(KeptIds(ds), (std::set<std::string>{"d5pm", "d5am", "d4pm"}));
  EXPECT_EQ(ds[0].reasons, std::vector<std::string>{"last snapshot"});
}

TEST(ForgetPolicy, KeepDailyKeepsNewestOfEachDay) {
  Policy p;
  p.daily = 3;
  auto ds = ApplyPolicy(TenSnaps(), p);
  EXPECT_EQ(KeptIds(ds), (std::set<std::string>{"d5pm", "d4pm", "d3pm"}));
}

TEST(ForgetPolicy, CountsAreUnionedAndReasonsListed) {
  Policy p;
  p.last = 2;
  p.daily = 2;
  auto ds = ApplyPolicy(TenSnaps(), p);
  EXPECT_EQ(KeptIds(ds), (std::set<std::string>{"d5pm", "d5am", "d4pm"}));
  EXPECT_EQ(ds[0].reasons, (std::vector<std::string>{"last snapshot", "daily snapshot"}));
  EXPECT_EQ(ds[1].reasons, (std::vector<std::string>{"last snapshot"}));
  EXPECT_EQ(ds[2].reasons, (std::vector<std::string>{"daily snapshot"}));
}

TEST(ForgetPolicy, UnlimitedCount) {
  Policy p;
  p.daily = -1;
  auto ds = ApplyPolicy(TenSnaps(), p);
  EXPECT_EQ(KeptIds(ds).size(), 5u);
}

TEST(ForgetPolicy, HourlyUsesWallClockOfTheSnapshotsOffset) {
  // Same instant range, but daily buckets are taken in the stored offset: 23:30-02:00 on
  // Jan 1 is Jan 2 in UTC, yet it belongs to Jan 1.
  std::vector<SnapshotInfo> v = {Snap("a", "2024-01-01T23:30:00-02:00"),
                                 Snap("b", "2024-01-01T22:00:00-02:00"),
                                 Snap("c", "2024-01-02T00:30:00Z")};
  Policy p;
  p.daily = 10;
  auto ds = ApplyPolicy(v, p);
  // Newest: a (01:30Z), then c (00:30Z, day Jan 2), then b (00:00Z, Jan 1 local, same as a).
  ASSERT_EQ(ds[0].snapshot.id, "a");
  ASSERT_EQ(ds[1].snapshot.id, "c");
  EXPECT_EQ(KeptIds(ds), (std::set<std::string>{"a", "c", "b"}));  // a:Jan1, c:Jan2, b:Jan1 again
  // restic compares with the previous kept bucket only, so b (Jan 1 after Jan 2) counts anew.
  EXPECT_EQ(ds[2].reasons, std::vector<std::string>{"daily snapshot"});
}

TEST(ForgetPolicy, IsoWeeksAcrossYearEnd) {
  int y, w;
  IsoWeek(ToCivil(Snap("", "2008-12-29T00:00:00Z").unix_nanos, 0), &y, &w);
  EXPECT_EQ(y, 2009);
  EXPECT_EQ(w, 1);
  IsoWeek(ToCivil(Snap("", "2010-01-03T12:00:00Z").unix_nanos, 0), &y, &w);
  EXPECT_EQ(y, 2009);
  EXPECT_EQ(w, 53);
  IsoWeek(ToCivil(Snap("", "2021-01-04T00:00:00Z").unix_nanos, 0), &y, &w);
  EXPECT_EQ(y, 2021);
  EXPECT_EQ(w, 1);
  IsoWeek(ToCivil(Snap("", "2024-12-30T00:00:00Z").unix_nanos, 0), &y, &w);
  EXPECT_EQ(y, 2025);
  EXPECT_EQ(w, 1);

  // 2020-12-31 (Thu) and 2021-01-03 (Sun) are both ISO week 2020-W53: one weekly keep.
  std::vector<SnapshotInfo> v = {Snap("thu", "2020-12-31T10:00:00Z"),
                                 Snap("sun", "2021-01-03T10:00:00Z"),
                                 Snap("mon", "2021-01-04T10:00:00Z")};
  Policy p;
  p.weekly = 5;
  EXPECT_EQ(KeptIds(ApplyPolicy(v, p)), (std::set<std::string>{"mon", "sun"}));
}

TEST(ForgetPolicy, MonthlyAndYearly) {
  std::vector<SnapshotInfo> v = {Snap("2022-12", "2022-12-15T00:00:00Z"),
                                 Snap("2023-01a", "2023-01-02T00:00:00Z"),
                                 Snap("2023-01b", "2023-01-20T00:00:00Z"),
                                 Snap("2023-06", "2023-06-01T00:00:00Z"),
                                 Snap("2024-02", "2024-02-29T00:00:00Z")};
  Policy monthly;
  monthly.monthly = 3;
  EXPECT_EQ(KeptIds(ApplyPolicy(v, monthly)),
            (std::set<std::string>{"2024-02", "2023-06", "2023-01b"}));
  Policy yearly;
  yearly.yearly = 2;
  EXPECT_EQ(KeptIds(ApplyPolicy(v, yearly)), (std::set<std::string>{"2024-02", "2023-06"}));
}

TEST(ForgetPolicy, WithinIsRelativeToTheNewestSnapshotNotNow) {
  // Newest is 2024-03-31T00:00Z. "1m" goes back with Go's AddDate: Feb 31 -> Mar 2 (leap year).
  std::vector<SnapshotInfo> v = {Snap("newest", "2024-03-31T00:00:00Z"),
                                 Snap("in", "2024-03-02T00:00:01Z"),
                                 Snap("edge", "2024-03-02T00:00:00Z"),
                                 Snap("out", "2024-03-01T12:00:00Z")};
  Policy p;
  ASSERT_TRUE(ParseDuration("1m").ok());
  p.within = *ParseDuration("1m");
  auto ds = ApplyPolicy(v, p);
  EXPECT_EQ(KeptIds(ds), (std::set<std::string>{"newest", "in"}));
  EXPECT_EQ(ds[0].reasons, std::vector<std::string>{"within 1m"});

  Policy hours;
  hours.within = *ParseDuration("1d12h");
  EXPECT_EQ(KeptIds(ApplyPolicy(v, hours)), (std::set<std::string>{"newest"}));
  Policy long_ago;
  long_ago.within = *ParseDuration("1y");
  EXPECT_EQ(KeptIds(ApplyPolicy(v, long_ago)).size(), 4u);
}

TEST(ForgetPolicy, KeepTagNeedsAllTagsOfOneSetAndUsesNoCount) {
  std::vector<SnapshotInfo> v = {Snap("new", "2024-01-05T00:00:00Z"),
                                 Snap("pre", "2024-01-04T00:00:00Z", "h", {"reason=pre", "x"}),
                                 Snap("half", "2024-01-03T00:00:00Z", "h", {"reason=pre"}),
                                 Snap("old", "2024-01-02T00:00:00Z", "h", {"x", "reason=pre"})};
  Policy p;
  p.last = 1;
  p.AddKeepTag("reason=pre,x");
  auto ds = ApplyPolicy(v, p);
  EXPECT_EQ(KeptIds(ds), (std::set<std::string>{"new", "pre", "old"}));
  // "pre" was kept by tag AND by keep-last (restic counts the bucket whatever the tag says).
  Policy only_tag;
  only_tag.AddKeepTag("reason=pre");
  only_tag.AddKeepTag("nope");
  EXPECT_EQ(KeptIds(ApplyPolicy(v, only_tag)), (std::set<std::string>{"pre", "half", "old"}));
}

TEST(ForgetPolicy, GroupsByHostAndPaths) {
  std::vector<SnapshotInfo> v = {Snap("a1", "2024-01-01T00:00:00Z", "alpha"),
                                 Snap("a2", "2024-01-02T00:00:00Z", "alpha"),
                                 Snap("b1", "2024-01-01T00:00:00Z", "beta"),
                                 Snap("b2", "2024-01-03T00:00:00Z", "beta")};
  auto other_path = Snap("a3", "2024-01-04T00:00:00Z", "alpha");
  other_path.paths = {"/etc"};
  v.push_back(other_path);
  Policy p;
  p.last = 1;
  auto groups = ApplyPolicyGrouped(v, p, GroupBy{});
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].hostname, "alpha");
  EXPECT_EQ(groups[0].paths, std::vector<std::string>{"/data"});
  EXPECT_EQ(groups[0].Kept().size(), 1u);
  EXPECT_EQ(groups[0].Kept()[0].id, "a2");
  EXPECT_EQ(groups[0].Removed()[0].id, "a1");
  EXPECT_EQ(groups[1].paths, std::vector<std::string>{"/etc"});
  EXPECT_EQ(groups[2].Kept()[0].id, "b2");

  auto by_nothing = ApplyPolicyGrouped(v, p, *ParseGroupBy(""));
  ASSERT_EQ(by_nothing.size(), 1u);
  EXPECT_EQ(by_nothing[0].Kept()[0].id, "a3");
  EXPECT_FALSE(ParseGroupBy("host,colour").ok());
}

TEST(ForgetPolicy, ParseDuration) {
  auto d = ParseDuration("1y2m3d4h");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->years, 1);
  EXPECT_EQ(d->months, 2);
  EXPECT_EQ(d->days, 3);
  EXPECT_EQ(d->hours, 4);
  EXPECT_EQ(d->ToString(), "1y2m3d4h");
  EXPECT_EQ(ParseDuration("90d")->days, 90);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("5").ok());
  EXPECT_FALSE(ParseDuration("d").ok());
  EXPECT_FALSE(ParseDuration("3w").ok());
  EXPECT_FALSE(ParseDuration("1d2d").ok());
}

TEST(ForgetPolicy, EmptyPolicyIsDetected) {
  Policy p;
  EXPECT_TRUE(p.Empty());
  p.AddKeepTag(",");
  EXPECT_TRUE(p.Empty());
  p.AddKeepTag("t");
  EXPECT_FALSE(p.Empty());
  Policy q;
  q.within.hours = 1;
  EXPECT_FALSE(q.Empty());
}

}  // namespace
}  // namespace clawback::store::forget
