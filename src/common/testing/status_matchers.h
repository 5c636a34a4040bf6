// GoogleTest checks for Status and Result<T> (common/status.h) that print the status on
// failure:
//
//   ASSERT_OK(ledger->Migrate());          // "ledger->Migrate() is not OK: NotFound: …"
//   EXPECT_OK(ledger->GetConversation(id));
//   ASSERT_OK_AND_ASSIGN(auto conv, ledger->GetConversation(id));
//
// Test-only (include from *_test.cc files). Thread-safety: as GoogleTest's assertions.
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "common/status.h"

namespace clawback::test {

inline const Status& StatusOf(const Status& st) { return st; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

// The predicate-formatter behind ASSERT_OK/EXPECT_OK.
template <typename S>
::testing::AssertionResult IsOk(const char* expr, const S& status_or_result) {
  const Status& st = StatusOf(status_or_result);
  if (st.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expr << " is not OK: " << st.ToString();
}

}  // namespace clawback::test

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::clawback::test::IsOk, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::clawback::test::IsOk, expr)

// ASSERT_OK_AND_ASSIGN(lhs, expr): asserts the Result `expr` is OK, then moves its value
// into `lhs` (a declaration such as `auto x` or an existing variable).
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  CLAWBACK_ASSERT_OK_AND_ASSIGN_IMPL_(CLAWBACK_CONCAT_(_assert_res_, __LINE__), lhs, expr)
#define CLAWBACK_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)                       \
  auto tmp = (expr);                                                            \
  ASSERT_TRUE(tmp.ok()) << #expr " is not OK: " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
