// Deterministic test data: the same seed gives the same bytes on every run and machine
// (std::mt19937_64 is specified exactly by the standard).
//
//   WriteFile(dir + "/big.bin", test::RandomBytes(1'500'000, /*seed=*/1));
//
// Test-only (include from *_test.cc files). Thread-safety: reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace clawback::test {

// `n` bytes from std::mt19937_64 seeded with `seed` (one byte per draw: its low 8 bits).
inline std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace clawback::test
