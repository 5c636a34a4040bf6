#include "store/forget/policy.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace clawback::store::forget {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (month may be 1..12, day any).
int64_t DaysFromCivil(int64_t y, int m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int* year, int* month, int* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(y + (m <= 2));
  *month = m;
  *day = d;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

constexpr int64_t kNanosPerSecond = 1'000'000'000;

// The newest-first order restic uses; ties broken by id so results are deterministic.
bool NewerFirst(const SnapshotInfo& a, const SnapshotInfo& b) {
  if (a.unix_nanos != b.unix_nanos) return a.unix_nanos > b.unix_nanos;
  return a.id > b.id;
}

bool HasAllTags(const SnapshotInfo& s, const std::vector<std::string>& want) {
  for (const auto& w : want) {
    if (std::find(s.tags.begin(), s.tags.end(), w) == s.tags.end()) return false;
  }
  return true;
}

// The cut-off of keep-within: `latest` minus the duration, with Go AddDate semantics.
int64_t WithinCutoff(const SnapshotInfo& latest, const Duration& d) {
  CivilTime c = ToCivil(latest.unix_nanos, latest.utc_offset_seconds);
  int64_t y = c.year - d.years;
  int64_t m0 = static_cast<int64_t>(c.month - 1) - d.months;
  y += FloorDiv(m0, 12);
  m0 -= FloorDiv(m0, 12) * 12;
  const int64_t days = DaysFromCivil(y, static_cast<int>(m0 + 1), 1) + (c.day - 1) - d.days;
  const int64_t local_secs = days * 86400 + c.hour * 3600 + c.minute * 60 + c.second;
  const int64_t utc_secs = local_secs - latest.utc_offset_seconds - int64_t{d.hours} * 3600;
  return utc_secs * kNanosPerSecond + c.nanos;
}

std::vector<std::string> SplitComma(std::string_view v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string_view::npos) comma = v.size();
    std::string part(v.substr(start, comma - start));
    if (!part.empty()) out.push_back(part);
    start = comma + 1;
  }
  return out;
}

}  // namespace

CivilTime ToCivil(int64_t unix_nanos, int32_t utc_offset_seconds) {
  CivilTime c;
  int64_t secs = FloorDiv(unix_nanos, kNanosPerSecond);
  c.nanos = unix_nanos - secs * kNanosPerSecond;
  secs += utc_offset_seconds;
  const int64_t days = FloorDiv(secs, 86400);
  int64_t rem = secs - days * 86400;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(rem / 3600);
  rem %= 3600;
  c.minute = static_cast<int>(rem / 60);
  c.second = static_cast<int>(rem % 60);
  return c;
}

void IsoWeek(const CivilTime& t, int* iso_year, int* iso_week) {
  const int64_t days = DaysFromCivil(t.year, t.month, t.day);
  // 1970-01-01 was a Thursday; Monday = 0.
  const int64_t weekday_mon0 = ((days % 7) + 7 + 3) % 7;
  const int64_t thursday = days - weekday_mon0 + 3;
  int y, m, d;
  CivilFromDays(thursday, &y, &m, &d);
  const int64_t yday = thursday - DaysFromCivil(y, 1, 1);
  *iso_year = y;
  *iso_week = static_cast<int>(yday / 7 + 1);
}

std::string Duration::ToString() const {
  std::string s;
  if (years) s += std::to_string(years) + "y";
  if (months) s += std::to_string(months) + "m";
  if (days) s += std::to_string(days) + "d";
  if (hours) s += std::to_string(hours) + "h";
  return s.empty() ? "0h" : s;
}

Result<Duration> ParseDuration(std::string_view text) {
  Duration d;
  if (text.empty()) return InvalidArgument("empty duration; expected e.g. 1y2m3d4h");
  bool seen[4] = {false, false, false, false};
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000) return InvalidArgument("duration " + std::string(text) + " is too large");
      ++i;
    }
    if (i == start || i == text.size()) {
      return InvalidArgument("invalid duration \"" + std::string(text) +
                             "\": expected numbers with units y, m, d, h (e.g. 1y2m3d4h)");
    }
    int* field = nullptr;
    int slot = 0;
    switch (text[i]) {
      case 'y': field = &d.years; slot = 0; break;
      case 'm': field = &d.months; slot = 1; break;
      case 'd': field = &d.days; slot = 2; break;
      case 'h': field = &d.hours; slot = 3; break;
      default:
        return InvalidArgument("invalid unit '" + std::string(1, text[i]) + "' in duration \"" +
                               std::string(text) + "\": use y, m, d or h");
    }
    if (seen[slot]) {
      return InvalidArgument("unit '" + std::string(1, text[i]) + "' given twice in duration \"" +
                             std::string(text) + "\"");
    }
    seen[slot] = true;
    *field = static_cast<int>(n);
    ++i;
  }
  return d;
}

bool Policy::Empty() const {
  return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 &&
         within.Zero() && tags.empty();
}

void Policy::AddKeepTag(std::string_view value) {
  auto parts = SplitComma(value);
  if (!parts.empty()) tags.push_back(std::move(parts));
}

Result<GroupBy> ParseGroupBy(std::string_view text) {
  GroupBy g{false, false, false};
  for (const auto& part : SplitComma(text)) {
    if (part == "host") {
      g.host = true;
    } else if (part == "paths") {
      g.paths = true;
    } else if (part == "tags") {
      g.tags = true;
    } else {
      return InvalidArgument("unknown --group-by field \"" + part +
                             "\": use host, paths, tags, or a comma-separated mix");
    }
  }
  return g;
}

std::vector<Decision> ApplyPolicy(std::vector<SnapshotInfo> snapshots, const Policy& policy) {
  std::sort(snapshots.begin(), snapshots.end(), NewerFirst);
  std::vector<Decision> out;
  out.reserve(snapshots.size());
  if (snapshots.empty()) return out;

  struct Bucket {
    int count;
    const char* reason;
    int64_t (*key)(const SnapshotInfo&, size_t index);
    int64_t last = -1;
  };
  std::vector<Bucket> buckets = {
      {policy.last, "last snapshot", [](const SnapshotInfo&, size_t i) { return int64_t(i); }},
      {policy.hourly, "hourly snapshot",
       [](const SnapshotInfo& s, size_t) {
         CivilTime c = ToCivil(s.unix_nanos, s.utc_offset_seconds);
         return int64_t{c.year} * 1000000 + c.month * 10000 + c.day * 100 + c.hour;
       }},
      {policy.daily, "daily snapshot",
       [](const SnapshotInfo& s, size_t) {
         CivilTime c = ToCivil(s.unix_nanos, s.utc_offset_seconds);
         return int64_t{c.year} * 10000 + c.month * 100 + c.day;
       }},
      {policy.weekly, "weekly snapshot",
       [](const SnapshotInfo& s, size_t) {
         int y, w;
         IsoWeek(ToCivil(s.unix_nanos, s.utc_offset_seconds), &y, &w);
         return int64_t{y} * 100 + w;
       }},
      {policy.monthly, "monthly snapshot",
       [](const SnapshotInfo& s, size_t) {
         CivilTime c = ToCivil(s.unix_nanos, s.utc_offset_seconds);
         return int64_t{c.year} * 100 + c.month;
       }},
      {policy.yearly, "yearly snapshot",
       [](const SnapshotInfo& s, size_t) {
         return int64_t{ToCivil(s.unix_nanos, s.utc_offset_seconds).year};
       }},
  };

  const bool use_within = !policy.within.Zero();
  const int64_t cutoff = use_within ? WithinCutoff(snapshots.front(), policy.within) : 0;

  for (size_t i = 0; i < snapshots.size(); ++i) {
    Decision d;
    d.snapshot = std::move(snapshots[i]);
    for (const auto& tag_set : policy.tags) {
      if (HasAllTags(d.snapshot, tag_set)) {
        d.keep = true;
        std::string joined;
        for (const auto& t : tag_set) joined += (joined.empty() ? "" : ",") + t;
        d.reasons.push_back("has tags [" + joined + "]");
        break;
      }
    }
    for (auto& b : buckets) {
      if (b.count == 0) continue;
      const int64_t key = b.key(d.snapshot, i);
      if (key != b.last) {
        d.keep = true;
        b.last = key;
        if (b.count > 0) --b.count;
        d.reasons.push_back(b.reason);
      }
    }
    if (use_within && d.snapshot.unix_nanos > cutoff) {
      d.keep = true;
      d.reasons.push_back("within " + policy.within.ToString());
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<SnapshotInfo> GroupResult::Kept() const {
  std::vector<SnapshotInfo> v;
  for (const auto& d : decisions) {
    if (d.keep) v.push_back(d.snapshot);
  }
  return v;
}

std::vector<SnapshotInfo> GroupResult::Removed() const {
  std::vector<SnapshotInfo> v;
  for (const auto& d : decisions) {
    if (!d.keep) v.push_back(d.snapshot);
  }
  return v;
}

std::vector<GroupResult> ApplyPolicyGrouped(const std::vector<SnapshotInfo>& snapshots,
                                            const Policy& policy, const GroupBy& group_by) {
  using Key = std::tuple<std::string, std::vector<std::string>, std::vector<std::string>>;
  std::map<Key, std::vector<SnapshotInfo>> groups;
  for (const auto& s : snapshots) {
    Key k;
    if (group_by.host) std::get<0>(k) = s.hostname;
    if (group_by.paths) {
      std::get<1>(k) = s.paths;
      std::sort(std::get<1>(k).begin(), std::get<1>(k).end());
    }
    if (group_by.tags) {
      std::get<2>(k) = s.tags;
      std::sort(std::get<2>(k).begin(), std::get<2>(k).end());
    }
    groups[k].push_back(s);
  }
  std::vector<GroupResult> out;
  for (auto& [key, list] : groups) {
    GroupResult g;
    g.hostname = std::get<0>(key);
    g.paths = std::get<1>(key);
    g.tags = std::get<2>(key);
    g.decisions = ApplyPolicy(std::move(list), policy);
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace clawback::store::forget
