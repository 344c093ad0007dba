#include "memory/OffsetPlanner.h"

#include "support/Error.h"

#include <llvm/ADT/BitVector.h>
#include <llvm/ADT/STLExtras.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <tuple>

namespace edgesplit {
namespace {

// A buffer together with everything aliasing it: one span of bytes, placed as a unit, alive from
// the first step of any member to the last step of any member.
struct Block {
  int64_t bytes = 0;
  int firstStep = 0;
  int lastStep = 0;
  int64_t alignment = 1;
};

struct Blocks {
  llvm::SmallVector<Block, 0> blocks; // ordered by their lowest buffer index
  llvm::SmallVector<size_t, 0> blockOfBuffer;
};

void checkBuffer(const Buffer &buffer, size_t bufferCount) {
  if (buffer.bytes < 0)
    fail("internal error: buffer '{}': negative size {}", buffer.name, buffer.bytes);
  if (buffer.lastStep < buffer.firstStep)
    fail("internal error: buffer '{}': last step {} is before first step {}", buffer.name,
         buffer.lastStep, buffer.firstStep);
  if (buffer.alignment < 1)
    fail("internal error: buffer '{}': alignment {} < 1", buffer.name, buffer.alignment);
  if (buffer.aliasOf && *buffer.aliasOf >= bufferCount)
    fail("internal error: buffer '{}': aliases buffer {} of {}", buffer.name, *buffer.aliasOf,
         bufferCount);
}

size_t aliasRoot(llvm::ArrayRef<Buffer> buffers, size_t index) {
  for (size_t hops = 0; buffers[index].aliasOf; ++hops) {
    if (hops == buffers.size())
      fail("internal error: buffer '{}': cyclic aliases", buffers[index].name);
    index = *buffers[index].aliasOf;
  }
  return index;
}

// A member larger than its target widens the block rather than overflowing it.
void absorb(Block &block, const Buffer &member) {
  block.bytes = std::max(block.bytes, member.bytes);
  block.firstStep = std::min(block.firstStep, member.firstStep);
  block.lastStep = std::max(block.lastStep, member.lastStep);
  block.alignment = std::lcm(block.alignment, member.alignment);
}

Blocks resolveAliases(llvm::ArrayRef<Buffer> buffers) {
  for (const Buffer &buffer : buffers) checkBuffer(buffer, buffers.size());
  constexpr size_t kNoBlock = std::numeric_limits<size_t>::max();
  llvm::SmallVector<size_t, 0> blockOfRoot(buffers.size(), kNoBlock);
  Blocks result;
  result.blockOfBuffer.resize(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    size_t &block = blockOfRoot[aliasRoot(buffers, i)];
    if (block == kNoBlock) {
      block = result.blocks.size();
      result.blocks.push_back(
          {buffers[i].bytes, buffers[i].firstStep, buffers[i].lastStep, buffers[i].alignment});
    } else {
      absorb(result.blocks[block], buffers[i]);
    }
    result.blockOfBuffer[i] = block;
  }
  return result;
}

int64_t peakLiveBytes(llvm::ArrayRef<Block> blocks) {
  // (step, change): a block adds its bytes at its first step and removes them after its last.
  llvm::SmallVector<std::pair<int64_t, int64_t>, 0> events;
  for (const Block &block : blocks) {
    events.push_back({block.firstStep, block.bytes});
    events.push_back({int64_t{block.lastStep} + 1, -block.bytes});
  }
  // Removals sort before additions of the same step, so the running sum only peaks at real steps.
  llvm::sort(events);
  int64_t live = 0, peak = 0;
  for (const auto &[step, change] : events) {
    live += change;
    peak = std::max(peak, live);
  }
  return peak;
}

// A section is a maximal run of steps over which the same blocks are alive: all blocks of a
// section are alive together, so they stack.
struct SectionRange {
  uint32_t first = 0;
  uint32_t last = 0; // inclusive
};

// The blocks and, for each, the non-empty blocks alive at one of its steps (the only ones its
// placement must avoid) and the sections it spans.
struct Problem {
  llvm::SmallVector<Block, 0> blocks;
  llvm::SmallVector<llvm::SmallVector<uint32_t, 8>, 0> conflicts;
  llvm::SmallVector<SectionRange, 0> sectionsOf; // per non-empty block
  size_t sectionCount = 0;
  int64_t lowerBound = 0;
};

void findConflicts(Problem &problem) {
  const llvm::SmallVector<Block, 0> &blocks = problem.blocks;
  problem.conflicts.resize(blocks.size());
  llvm::SmallVector<uint32_t, 0> byStart(blocks.size());
  std::iota(byStart.begin(), byStart.end(), 0);
  llvm::stable_sort(
      byStart, [&](uint32_t a, uint32_t b) { return blocks[a].firstStep < blocks[b].firstStep; });
  for (size_t i = 0; i < byStart.size(); ++i) {
    const uint32_t a = byStart[i];
    if (blocks[a].bytes == 0) continue;
    for (size_t j = i + 1; j < byStart.size() && blocks[byStart[j]].firstStep <= blocks[a].lastStep;
         ++j) {
      const uint32_t b = byStart[j];
      if (blocks[b].bytes == 0) continue;
      problem.conflicts[a].push_back(b);
      problem.conflicts[b].push_back(a);
    }
  }
}

void findSections(Problem &problem) {
  // Sections start wherever a block starts or the step after one ends.
  llvm::SmallVector<int64_t, 0> starts;
  for (const Block &block : problem.blocks) {
    if (block.bytes == 0) continue;
    starts.push_back(block.firstStep);
    starts.push_back(int64_t{block.lastStep} + 1);
  }
  llvm::sort(starts);
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  auto sectionOf = [&](int64_t step) {
    return static_cast<uint32_t>(std::upper_bound(starts.begin(), starts.end(), step) -
                                 starts.begin() - 1);
  };
  problem.sectionCount = starts.empty() ? 0 : starts.size() - 1;
  problem.sectionsOf.resize(problem.blocks.size());
  for (size_t i = 0; i < problem.blocks.size(); ++i)
    if (problem.blocks[i].bytes != 0)
      problem.sectionsOf[i] = {sectionOf(problem.blocks[i].firstStep),
                               sectionOf(problem.blocks[i].lastStep)};
}

Problem makeProblem(llvm::SmallVector<Block, 0> blocks) {
  Problem problem;
  problem.lowerBound = peakLiveBytes(blocks);
  problem.blocks = std::move(blocks);
  findConflicts(problem);
  findSections(problem);
  return problem;
}

// Where a block goes among the gaps left by the blocks already placed: the lowest offset, or the
// gap it fills most tightly (lowest offset among equals). Trying both finds more good plans.
enum class Fit { Lowest, Tightest };

struct Placement {
  llvm::SmallVector<int64_t, 0> offsets; // per block
  int64_t arenaBytes = 0;
};

int64_t alignUp(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// `taken`: [begin, end) byte ranges sorted by begin, possibly overlapping each other.
int64_t findOffset(llvm::ArrayRef<std::pair<int64_t, int64_t>> taken, const Block &block, Fit fit) {
  int64_t free = 0; // everything below a range's begin and at or above `free` is unused
  std::optional<int64_t> tightest;
  int64_t tightestSlack = std::numeric_limits<int64_t>::max();
  for (const auto &[begin, end] : taken) {
    const int64_t candidate = alignUp(free, block.alignment);
    if (candidate + block.bytes <= begin) {
      if (fit == Fit::Lowest) return candidate;
      if (begin - candidate - block.bytes < tightestSlack) {
        tightestSlack = begin - candidate - block.bytes;
        tightest = candidate;
      }
    }
    free = std::max(free, end);
  }
  return tightest ? *tightest : alignUp(free, block.alignment);
}

using BlockOrder = llvm::SmallVector<uint32_t, 0>;

Placement place(const Problem &problem, llvm::ArrayRef<uint32_t> order, Fit fit) {
  Placement result;
  result.offsets.assign(problem.blocks.size(), 0);
  llvm::BitVector placed(problem.blocks.size());
  llvm::SmallVector<std::pair<int64_t, int64_t>, 16> taken;
  for (uint32_t index : order) {
    const Block &block = problem.blocks[index];
    if (block.bytes == 0) continue; // occupies nothing: offset 0 is as good as any
    taken.clear();
    for (uint32_t other : problem.conflicts[index])
      if (placed[other])
        taken.push_back(
            {result.offsets[other], result.offsets[other] + problem.blocks[other].bytes});
    llvm::sort(taken);
    result.offsets[index] = findOffset(taken, block, fit);
    placed.set(index);
    result.arenaBytes = std::max(result.arenaBytes, result.offsets[index] + block.bytes);
  }
  return result;
}

int64_t lifetime(const Block &block) { return int64_t{block.lastStep} - block.firstStep + 1; }

// Blocks by decreasing `key`, ties by index.
template <typename Key> BlockOrder orderBy(llvm::ArrayRef<Block> blocks, Key key) {
  BlockOrder order(blocks.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::stable_sort(order, [&](uint32_t a, uint32_t b) { return key(blocks[a]) > key(blocks[b]); });
  return order;
}

// Greedy-by-size is the classic choice; the others win on lifetimes it handles badly (long-lived
// small buffers fragmenting the arena, or many short ones in sequence).
llvm::SmallVector<BlockOrder, 4> startingOrders(llvm::ArrayRef<Block> blocks) {
  return {
      orderBy(blocks, [](const Block &b) { return std::tuple(b.bytes, lifetime(b)); }),
      orderBy(blocks, [](const Block &b) { return std::tuple(b.bytes * lifetime(b), b.bytes); }),
      orderBy(blocks, [](const Block &b) { return std::tuple(lifetime(b), b.bytes); }),
      orderBy(blocks, [](const Block &b) { return std::tuple(-b.firstStep, b.bytes); }),
  };
}

Placement bestGreedyPlacement(const Problem &problem) {
  std::optional<Placement> best;
  for (const BlockOrder &order : startingOrders(problem.blocks))
    for (Fit fit : {Fit::Lowest, Fit::Tightest}) {
      Placement placement = place(problem, order, fit);
      if (!best || placement.arenaBytes < best->arenaBytes) best = std::move(placement);
      if (best->arenaBytes == problem.lowerBound) return std::move(*best);
    }
  return std::move(*best);
}

// Branch and bound over "gravity" placements, after MiniMalloc (Moffitt, ASPLOS 2024). Any
// placement can have its blocks dropped until each rests on a block alive with it (or on 0);
// listing those blocks by (offset, rank), each sits exactly on the highest block listed before it
// that it conflicts with. So the search only chooses which block comes next, places it on what is
// below, and requires (offset, rank) to increase. Pruning:
// - a block may not go at or above the top of another unplaced block's resting place: that one
//   would fit below it and drop, so the placement would not be gravity-compliant;
// - per section, the unplaced blocks stack above the section's placed blocks, above the last
//   offset and above the lowest resting place among them, and must stay within the capacity.
//   (The last of these is what lets chains of activations reach their lower bound.)
class GravitySearch {
public:
  explicit GravitySearch(const Problem &problem) : problem_(problem) { rankBlocks(); }

  // A placement whose arena is at most `capacity`, or nullopt when there is none or `nodesLeft`
  // runs out first.
  std::optional<Placement> fitWithin(int64_t capacity, int64_t &nodesLeft) {
    start(capacity, nodesLeft);
    if (descend(0, 0) != Outcome::Found) return std::nullopt;
    return std::move(found_);
  }

private:
  enum class Outcome { Found, NotFound, OutOfNodes };
  static constexpr int64_t kUnplaced = -1;

  struct Change {
    uint32_t index; // a block (for its resting offset) or a section (for its floor)
    int64_t previous;
  };

  // Blocks in the busiest sections first, then the larger, then the longer-lived.
  void rankBlocks() {
    llvm::SmallVector<int64_t, 0> total(problem_.sectionCount, 0);
    for (uint32_t b = 0; b < problem_.blocks.size(); ++b)
      forSections(b, [&](uint32_t s) { total[s] += problem_.blocks[b].bytes; });
    llvm::SmallVector<int64_t, 0> busiest(problem_.blocks.size(), 0);
    for (uint32_t b = 0; b < problem_.blocks.size(); ++b) {
      if (problem_.blocks[b].bytes == 0) continue;
      forSections(b, [&](uint32_t s) { busiest[b] = std::max(busiest[b], total[s]); });
      byRank_.push_back(b);
    }
    llvm::stable_sort(byRank_, [&](uint32_t a, uint32_t b) {
      const Block &x = problem_.blocks[a], &y = problem_.blocks[b];
      return std::tuple(busiest[a], x.bytes, lifetime(x)) >
             std::tuple(busiest[b], y.bytes, lifetime(y));
    });
    rank_.assign(problem_.blocks.size(), 0);
    for (uint32_t r = 0; r < byRank_.size(); ++r) rank_[byRank_[r]] = r;
  }

  template <typename F> void forSections(uint32_t block, F f) const {
    if (problem_.blocks[block].bytes == 0) return;
    for (uint32_t s = problem_.sectionsOf[block].first; s <= problem_.sectionsOf[block].last; ++s)
      f(s);
  }

  void start(int64_t capacity, int64_t &nodesLeft) {
    capacity_ = capacity;
    nodesLeft_ = &nodesLeft;
    offset_.assign(problem_.blocks.size(), kUnplaced);
    restingOffset_.assign(problem_.blocks.size(), 0);
    floor_.assign(problem_.sectionCount, 0);
    unplacedBytes_.assign(problem_.sectionCount, 0);
    for (uint32_t block : byRank_)
      forSections(block, [&](uint32_t s) { unplacedBytes_[s] += problem_.blocks[block].bytes; });
    unplacedCount_ = byRank_.size();
  }

  Outcome descend(int64_t lastOffset, uint32_t nextRank) {
    if (unplacedCount_ == 0) {
      recordFound(); // before the recursion unwinds the placement
      return Outcome::Found;
    }
    if ((*nodesLeft_)-- <= 0) return Outcome::OutOfNodes;
    llvm::SmallVector<uint32_t, 32> candidates;
    int64_t lowestTop = std::numeric_limits<int64_t>::max();
    for (uint32_t block : byRank_) {
      if (offset_[block] != kUnplaced) continue;
      candidates.push_back(block);
      lowestTop = std::min(lowestTop, restingOffset_[block] + problem_.blocks[block].bytes);
    }
    llvm::stable_sort(
        candidates, [&](uint32_t a, uint32_t b) { return restingOffset_[a] < restingOffset_[b]; });
    for (uint32_t block : candidates) {
      const int64_t offset = restingOffset_[block];
      if (offset >= lowestTop) break; // and so are all the following candidates
      if (std::pair(offset, rank_[block]) < std::pair(lastOffset, nextRank)) continue;
      if (offset + problem_.blocks[block].bytes > capacity_) continue;
      llvm::SmallVector<Change, 16> restings, floors;
      place(block, restings, floors);
      const Outcome outcome =
          sectionsFit(offset) ? descend(offset, rank_[block] + 1) : Outcome::NotFound;
      unplace(block, restings, floors);
      if (outcome != Outcome::NotFound) return outcome;
    }
    return Outcome::NotFound;
  }

  void recordFound() {
    found_.offsets.assign(problem_.blocks.size(), 0);
    found_.arenaBytes = 0;
    for (uint32_t block : byRank_) {
      found_.offsets[block] = offset_[block];
      found_.arenaBytes =
          std::max(found_.arenaBytes, offset_[block] + problem_.blocks[block].bytes);
    }
  }

  void place(uint32_t block, llvm::SmallVector<Change, 16> &restings,
             llvm::SmallVector<Change, 16> &floors) {
    const Block &placed = problem_.blocks[block];
    offset_[block] = restingOffset_[block];
    --unplacedCount_;
    const int64_t top = offset_[block] + placed.bytes;
    for (uint32_t other : problem_.conflicts[block]) {
      if (offset_[other] != kUnplaced) continue;
      const int64_t resting = alignUp(top, problem_.blocks[other].alignment);
      if (resting <= restingOffset_[other]) continue;
      restings.push_back({other, restingOffset_[other]});
      restingOffset_[other] = resting;
    }
    forSections(block, [&](uint32_t s) {
      floors.push_back({s, floor_[s]});
      floor_[s] = top; // blocks are placed in increasing offset order: this one is the highest
      unplacedBytes_[s] -= placed.bytes;
    });
  }

  void unplace(uint32_t block, llvm::ArrayRef<Change> restings, llvm::ArrayRef<Change> floors) {
    for (const Change &change : floors) {
      floor_[change.index] = change.previous;
      unplacedBytes_[change.index] += problem_.blocks[block].bytes;
    }
    for (const Change &change : restings) restingOffset_[change.index] = change.previous;
    offset_[block] = kUnplaced;
    ++unplacedCount_;
  }

  bool sectionsFit(int64_t lastOffset) {
    lowestResting_.assign(problem_.sectionCount, std::numeric_limits<int64_t>::max());
    for (uint32_t block : byRank_)
      if (offset_[block] == kUnplaced)
        forSections(block, [&](uint32_t s) {
          lowestResting_[s] = std::min(lowestResting_[s], restingOffset_[block]);
        });
    for (size_t s = 0; s < problem_.sectionCount; ++s) {
      if (unplacedBytes_[s] == 0) continue;
      const int64_t base = std::max({floor_[s], lastOffset, lowestResting_[s]});
      if (base + unplacedBytes_[s] > capacity_) return false;
    }
    return true;
  }

  const Problem &problem_;
  llvm::SmallVector<uint32_t, 0> byRank_; // the non-empty blocks
  llvm::SmallVector<uint32_t, 0> rank_;
  int64_t capacity_ = 0;
  int64_t *nodesLeft_ = nullptr;
  llvm::SmallVector<int64_t, 0> offset_;        // per block, kUnplaced until placed
  llvm::SmallVector<int64_t, 0> restingOffset_; // per block: on top of its placed conflicts
  llvm::SmallVector<int64_t, 0> floor_;         // per section: top of its highest placed block
  llvm::SmallVector<int64_t, 0> unplacedBytes_; // per section
  llvm::SmallVector<int64_t, 0> lowestResting_; // per section, scratch of sectionsFit
  size_t unplacedCount_ = 0;
  Placement found_;
};

// Work allowed to the search per plan: a node costs about one pass over the blocks and the
// sections they span, so large inputs get fewer nodes. 1M units take a few milliseconds.
constexpr int64_t kSearchWork = 1'000'000;

int64_t searchNodeCost(const Problem &problem) {
  int64_t cost = static_cast<int64_t>(problem.blocks.size() + problem.sectionCount);
  for (const SectionRange &range : problem.sectionsOf) cost += range.last - range.first + 1;
  return cost;
}

// Binary search on the capacity between the lower bound (tried first: networks usually reach
// it) and the best arena found. Each try gets half of the nodes left, so a capacity too hard to
// decide leaves some for the next; a try that finds nothing counts as infeasible.
void improveBySearch(const Problem &problem, Placement &best) {
  GravitySearch search(problem);
  int64_t nodesLeft = kSearchWork / searchNodeCost(problem);
  int64_t lowest = problem.lowerBound;
  for (int64_t capacity = lowest; lowest < best.arenaBytes && nodesLeft > 0;
       capacity = lowest + (best.arenaBytes - 1 - lowest) / 2) {
    const int64_t granted = nodesLeft / 2 + 1;
    int64_t unused = granted;
    std::optional<Placement> placement = search.fitWithin(capacity, unused);
    nodesLeft -= granted - std::max<int64_t>(unused, 0);
    if (placement)
      best = std::move(*placement);
    else
      lowest = capacity + 1;
  }
}

} // namespace

OffsetPlan planOffsets(llvm::ArrayRef<Buffer> buffers) {
  Blocks blocks = resolveAliases(buffers);
  const Problem problem = makeProblem(std::move(blocks.blocks));
  OffsetPlan plan;
  if (problem.blocks.empty()) return plan;
  Placement best = bestGreedyPlacement(problem);
  if (best.arenaBytes > problem.lowerBound) improveBySearch(problem, best);
  plan.arenaBytes = best.arenaBytes;
  for (size_t block : blocks.blockOfBuffer) plan.offsets.push_back(best.offsets[block]);
  return plan;
}

int64_t lowerBoundBytes(llvm::ArrayRef<Buffer> buffers) {
  return peakLiveBytes(resolveAliases(buffers).blocks);
}

} // namespace edgesplit
