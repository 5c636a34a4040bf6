// Lexical path helpers (no file system access, symlinks not resolved, as restic does).
#pragma once

#include <string>
#include <string_view>

namespace clawback {

// `path` made absolute against `cwd` (absolute) and cleaned: "." and empty parts dropped,
// ".." removes the part before it (never above "/"). "a/../b/" from "/w" is "/w/b".
std::string CleanAbsolutePath(std::string_view path, std::string_view cwd = "/");

// Whether clean absolute `path` is `root` or below it ("/" holds everything; "/ab" is not
// below "/a").
bool PathIsWithin(std::string_view path, std::string_view root);

}  // namespace clawback
