// Clock: the one seam through which clawback reads time. Production code takes a
// Clock& (usually SystemClock()); tests pass a ManualClock and move it by hand.
//
// Thread-safety: all implementations are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace clawback {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, milliseconds since the Unix epoch.
  virtual int64_t NowUnixMillis() const = 0;
  // Wall-clock time, nanoseconds since the Unix epoch.
  virtual int64_t NowUnixNanos() const = 0;
  // Monotonic time in nanoseconds, for durations only.
  virtual int64_t MonotonicNanos() const = 0;
};

// The process-wide real clock.
Clock& SystemClock();

class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t unix_nanos = 1'700'000'000'000'000'000) : now_(unix_nanos) {}

  // Clock
  int64_t NowUnixMillis() const override { return now_.load() / 1'000'000; }
  int64_t NowUnixNanos() const override { return now_.load(); }
  int64_t MonotonicNanos() const override { return now_.load(); }

  void Advance(std::chrono::nanoseconds d) { now_ += d.count(); }
  void SetUnixNanos(int64_t t) { now_ = t; }

 private:
  std::atomic<int64_t> now_;
};

// RFC 3339 in UTC with millisecond precision: "2026-11-27T02:12:01.646Z".
std::string FormatRfc3339Millis(int64_t unix_millis);
// An RFC 3339 time as written: the instant and the offset it was written in.
struct Rfc3339Time {
  int64_t unix_seconds = 0;        // UTC
  uint32_t nanos = 0;              // 0 .. 999'999'999 (digits past 9 are dropped)
  int32_t utc_offset_seconds = 0;  // east of UTC
};
enum class Rfc3339Form {
  kStrict,   // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm), seconds <= 59 (restic's JSON)
  kLenient,  // also a date alone (midnight UTC), 't' or ' ' for 'T', 'z', a leap second 60
};
// The one RFC 3339 parser; false when the text is not such a time.
bool ParseRfc3339(std::string_view text, Rfc3339Form form, Rfc3339Time* out);
// Lenient ParseRfc3339 into Unix milliseconds ("2026-11-27T02:12:01Z", "2026-11-27").
bool ParseRfc3339Millis(std::string_view text, int64_t* unix_millis);
// A length of time as people write it: a number and a unit (ms, s, m, h, d, w), or several
// ("1m30s"); false for anything else, a negative or an overflowing one.
bool ParseDurationMillis(std::string_view text, int64_t* millis);
// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace clawback
