// Linked into every test binary by clawback_add_test: points the tests at the source tree,
// the built `clawback` binary and ../shared unless the environment already says otherwise.
// (Passing these through ctest's ENVIRONMENT property does not survive gtest discovery:
// its list separator splits the values.)
#include <cstdlib>

namespace {

struct TestEnvironment {
  TestEnvironment() {
    setenv("CLAWBACK_SOURCE_DIR", CLAWBACK_TEST_SOURCE_DIR, 0);
    setenv("CLAWBACK_BINARY", CLAWBACK_TEST_BINARY, 0);
    setenv("CLAWBACK_SHARED_DIR", CLAWBACK_TEST_SHARED_DIR, 0);
  }
};

const TestEnvironment kTestEnvironment;

}  // namespace
