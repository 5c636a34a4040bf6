#include "common/path.h"

#include <vector>

namespace clawback {

std::string CleanAbsolutePath(std::string_view path, std::string_view cwd) {
  const std::string full = !path.empty() && path[0] == '/'
                               ? std::string(path)
                               : std::string(cwd) + "/" + std::string(path);
  std::vector<std::string_view> parts;
  const std::string_view f(full);
  size_t i = 0;
  while (i < f.size()) {
    size_t j = f.find('/', i);
    if (j == std::string_view::npos) j = f.size();
    const std::string_view part = f.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const std::string_view p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? std::string("/") : out;
}

bool PathIsWithin(std::string_view path, std::string_view root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.substr(0, root.size()) == root &&
                          path[root.size()] == '/');
}

}  // namespace clawback
