#include "store/archiver/parent_prefetch.h"

namespace clawback::store {

ParentPrefetch::Map::~Map() {
  for (auto& [name, slot] : slots_) {
    std::unique_lock<std::mutex> l(slot->mu);
    if (slot->state == Slot::State::kQueued) {
      slot->state = Slot::State::kClaimed;
    } else {
      slot->cv.wait(l, [&] { return slot->state != Slot::State::kLoading; });
    }
  }
}

ParentPrefetch::Slot* ParentPrefetch::Map::Find(std::string_view name) const {
  auto it = slots_.find(name);
  return it == slots_.end() ? nullptr : it->second.get();
}

std::optional<Tree> ParentPrefetch::Load(const Node* pnode) {
  if (pnode == nullptr || pnode->type != NodeType::kDir || !pnode->subtree) return std::nullopt;
  auto t = repo_->LoadTree(*pnode->subtree);
  if (!t.ok()) return std::nullopt;
  return std::move(*t);
}

void ParentPrefetch::Queue(const Tree& ptree, Map* map) {
  for (const Node& n : ptree.nodes) {
    if (n.type != NodeType::kDir || !n.subtree) continue;
    auto slot = std::make_shared<Slot>();
    map->slots_.emplace(n.name, slot);
    pool_->Submit([this, slot, pnode = &n] {
      {
        std::lock_guard<std::mutex> l(slot->mu);
        if (slot->state != Slot::State::kQueued) return;
        slot->state = Slot::State::kLoading;
      }
      std::optional<Tree> t = keep_going_() ? Load(pnode) : std::nullopt;
      std::lock_guard<std::mutex> l(slot->mu);
      slot->tree = std::move(t);
      slot->state = Slot::State::kDone;
      slot->cv.notify_all();
    });
  }
}

std::optional<Tree> ParentPrefetch::Take(const Node* pnode, Slot* slot) {
  if (slot == nullptr) return Load(pnode);
  std::unique_lock<std::mutex> l(slot->mu);
  if (slot->state == Slot::State::kQueued) {
    slot->state = Slot::State::kClaimed;
    l.unlock();
    return Load(pnode);
  }
  slot->cv.wait(l, [slot] { return slot->state == Slot::State::kDone; });
  return std::move(slot->tree);
}

}  // namespace clawback::store
