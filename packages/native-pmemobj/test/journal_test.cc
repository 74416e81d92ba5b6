// journal.h through Pool: a commit reaches every target and survives a reopen; commits whose
// stores never reached their targets (a crash after the commit point, before a checkpoint)
// are redone on open, in order; a last commit whose payload did not all reach the pool is no
// commit; a format 1 commit in flight is redone and the journal converted; a damaged journal
// is refused before anything is written; and child processes killed with SIGKILL in the
// middle of commits, with checkpoints at every commit or only when the log fills, always leave
// all of a commit or none of it, payload included. Run by test/journal.test.ts (or: g++
// -std=c++17 -Iinclude test/journal_test.cc -lpmemobj -lpmem && PMEM_IS_PMEM_FORCE=1 ./a.out).
#include <pmemkv/journal.h>
#include <pmemkv/pool.h>
#include <pmemkv/root.h>
#include <pmemkv/testing.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>

namespace {

using pmemkv::Config;
using pmemkv::Journal;
using pmemkv::Pool;
using pmemkv::PoolSpan;
using pmemkv::Status;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kWords = 512;    // words every commit of the tests changes
constexpr uint64_t kPayloads = 8;   // payload buffers, used in turn
constexpr uint64_t kPayloadWords = 64;

// The test's root: the journal's slot, the words it changes, and buffers that commits fill
// and name (words[0] holds base; `named` the buffer of the commit that set it).
struct Root {
  uint64_t journal;
  uint64_t named;
  uint64_t words[kWords];
  uint64_t payloads[kPayloads][kPayloadWords];
};

std::unique_ptr<Pool> OpenPool(const std::string& path) {
  Config cfg;
  cfg.path = path;
  cfg.size = 16 * kMiB;
  cfg.create_if_missing = true;
  std::unique_ptr<Pool> pool;
  Status s = Pool::Open(cfg, "pmemkv_journal_test", &pool);
  if (!s.ok()) std::fprintf(stderr, "open %s: %s\n", path.c_str(), s.message().c_str());
  return pool;
}

Root* RootOf(Pool& pool) { return static_cast<Root*>(pmemobj_direct(pool.Root(sizeof(Root)))); }
uint64_t OffsetOf(Pool& pool, const void* p) {
  return static_cast<uint64_t>(static_cast<const char*>(p) - reinterpret_cast<char*>(pool.get()));
}

Status OpenJournal(Pool& pool, Journal* j, uint64_t capacity = 1024) {
  return j->Open(&RootOf(pool)->journal, 7, capacity, 0, pmemkv::SpanOf(pool), pool.path(), "test");
}

// The journal's persistent area, as the pool holds it.
Journal::Area* AreaOf(Pool& pool) {
  return reinterpret_cast<Journal::Area*>(reinterpret_cast<char*>(pool.get()) + RootOf(pool)->journal);
}

bool IsPmem(Pool& pool) { return pmemkv::RangePersister::MappingIsPmem(pool.get(), pool.size()); }

// One commit that sets every word to `value` + i, with a payload buffer filled from `value`
// (written, not persisted: the commit makes it durable) that `named` then points to.
void CommitAll(Pool& pool, Journal& j, uint64_t value) {
  pmemkv::WordStores stores(pool.get());
  pmemkv::ActionList acts(pool.get());
  Root* root = RootOf(pool);
  uint64_t* payload = root->payloads[(value / kWords) % kPayloads];
  for (uint64_t i = 0; i < kPayloadWords; ++i) payload[i] = value ^ i;
  stores.AddPayload(payload, kPayloadWords * sizeof(uint64_t));
  stores.Set(&root->named, OffsetOf(pool, payload));
  for (uint64_t i = 0; i < kWords; ++i) stores.Set(&root->words[i], value + i);
  stores.Commit(j, acts);
}

// Every word i equals base + i for one base; *base receives it.
bool AllOneCommit(const Root* root, uint64_t* base) {
  *base = root->words[0];
  for (uint64_t i = 1; i < kWords; ++i)
    if (root->words[i] != *base + i) return false;
  return true;
}

// The buffer `named` points to holds what the commit of `base` wrote into it.
bool PayloadOf(Pool& pool, uint64_t base) {
  const Root* root = RootOf(pool);
  if (root->named == 0) return base == 0;
  const uint64_t* payload = reinterpret_cast<const uint64_t*>(reinterpret_cast<char*>(pool.get()) + root->named);
  if (payload != root->payloads[(base / kWords) % kPayloads]) return false;
  for (uint64_t i = 0; i < kPayloadWords; ++i)
    if (payload[i] != (base ^ i)) return false;
  return true;
}

// Writes a format 2 block at `slot` by hand: records setting every word to base + i, one
// payload range of `payload_bytes` at `payload` (none when 0), a correct payload checksum
// unless `bad_payload`. Returns the slot after the block.
uint64_t WriteBlock(Pool& pool, uint64_t slot, uint64_t seq, uint64_t base, const void* payload = nullptr,
                    uint64_t payload_bytes = 0, bool bad_payload = false) {
  Journal::Area* area = AreaOf(pool);
  Root* root = RootOf(pool);
  const uint64_t m = payload_bytes != 0 ? 1 : 0;
  Journal::Record* block = area->records + slot;
  Journal::Record* body = block + Journal::kBlockHeaderSlots;
  const Journal::Range range{payload_bytes != 0 ? OffsetOf(pool, payload) : 0, payload_bytes};
  if (m != 0) body[0] = Journal::Record{range.off, range.len};
  for (uint64_t i = 0; i < kWords; ++i) body[m + i] = Journal::Record{OffsetOf(pool, &root->words[i]), base + i};
  block[0] = Journal::Record{seq, kWords << 32 | m};
  uint64_t payload_sum = 0;
  if (m != 0) payload_sum = Journal::PayloadChecksum(reinterpret_cast<char*>(pool.get()), &range, 1) ^ (bad_payload ? 1 : 0);
  block[1] = Journal::Record{Journal::RecordsChecksum(seq, kWords, m, body), payload_sum};
  pmemobj_persist(pool.get(), block, (Journal::kBlockHeaderSlots + m + kWords) * sizeof(Journal::Record));
  return slot + Journal::kBlockHeaderSlots + m + kWords;
}

PMEMKV_TEST(TestCommitReachesTargetsAndSurvivesReopen) {
  for (Journal::Checkpoints mode : {Journal::kEveryCommit, Journal::kWhenFull}) {
    const std::string path = pmemkv::testing::PoolPath(mode == Journal::kWhenFull ? "commit-lazy" : "commit");
    {
      auto pool = OpenPool(path);
      CHECK(pool != nullptr);
      Journal j(pool->get(), IsPmem(*pool), mode);
      CHECK_OK(OpenJournal(*pool, &j));
      CHECK(j.capacity() == 1022);
      for (uint64_t v = 1000; v < 1000 + 5 * kWords; v += kWords) CommitAll(*pool, j, v);
      uint64_t base = 0;
      CHECK(AllOneCommit(RootOf(*pool), &base) && base == 1000 + 4 * kWords);
      CHECK(PayloadOf(*pool, base));
      const Journal::Area* area = AreaOf(*pool);
      // kEveryCommit: the log is empty after each commit (first_seq past it); kWhenFull: it
      // holds the commits since the last checkpoint (here the last one: a second does not fit
      // beside it in 1,024 slots).
      if (mode == Journal::kEveryCommit) CHECK(area->records[0].target != area->first_seq);
      if (mode == Journal::kWhenFull) CHECK(area->records[0].target == area->first_seq);
    }
    auto pool = OpenPool(path);
    Journal j(pool->get(), IsPmem(*pool), mode);
    CHECK_OK(OpenJournal(*pool, &j));
    uint64_t base = 0;
    CHECK(AllOneCommit(RootOf(*pool), &base) && base == 1000 + 4 * kWords);
    CHECK(PayloadOf(*pool, base));
    const Journal::Area* area = AreaOf(*pool);
    CHECK(area->legacy_committed == 0 && area->format == Journal::kFormat);
    CHECK(area->records[0].target != area->first_seq);  // open leaves the log empty
  }
}

// A change too large for the journal goes through the publish instead, all the same.
PMEMKV_TEST(TestTooLargeForTheJournalPublishes) {
  auto pool = OpenPool(pmemkv::testing::PoolPath("large"));
  Journal j(pool->get(), IsPmem(*pool), Journal::kWhenFull);
  CHECK_OK(OpenJournal(*pool, &j, 16));
  CommitAll(*pool, j, 77);
  uint64_t base = 0;
  CHECK(AllOneCommit(RootOf(*pool), &base) && base == 77);
  CHECK(PayloadOf(*pool, base));
}

// The state a crash after commit points leaves: blocks durable, the targets still old. Open
// redoes every block of the chain in order; a block of a lower seq ends the chain; a last
// block whose payload does not match its checksum never committed, while the same mismatch in
// a block that another follows does not matter (its payload may have been reused since).
PMEMKV_TEST(TestCommittedBlocksAreRedoneOnOpen) {
  struct Case {
    const char* what;
    bool bad_first_payload, bad_last_payload, stale_second;
    uint64_t expected;
  } cases[] = {
      {"two blocks", false, false, false, 700},
      {"payload of the last block torn", false, true, false, 500},
      {"payload of an earlier block changed", true, false, false, 700},
      {"second block of an older seq", false, false, true, 500},
  };
  for (const Case& c : cases) {
    const std::string path = pmemkv::testing::PoolPath("redo");
    std::remove(path.c_str());
    {
      auto pool = OpenPool(path);
      Journal j(pool->get(), IsPmem(*pool));
      CHECK_OK(OpenJournal(*pool, &j, 2048));
      CommitAll(*pool, j, 10);
      Root* root = RootOf(*pool);
      const uint64_t seq = AreaOf(*pool)->first_seq;
      const uint64_t next = WriteBlock(*pool, 0, seq, 500, root->payloads[3], 64, c.bad_first_payload);
      WriteBlock(*pool, next, c.stale_second ? seq - 1 : seq + 1, 700, root->payloads[4], 64, c.bad_last_payload);
    }
    auto pool = OpenPool(path);
    uint64_t base = 0;
    CHECK(AllOneCommit(RootOf(*pool), &base) && base == 10);  // not redone yet
    Journal j(pool->get(), IsPmem(*pool));
    CHECK_OK(OpenJournal(*pool, &j, 2048));
    if (!AllOneCommit(RootOf(*pool), &base) || base != c.expected) std::fprintf(stderr, "%s: base %llu\n", c.what, static_cast<unsigned long long>(base));
    CHECK(AllOneCommit(RootOf(*pool), &base) && base == c.expected);
    CHECK(AreaOf(*pool)->records[0].target != AreaOf(*pool)->first_seq);
    // The journal works on afterwards.
    CommitAll(*pool, j, 9000);
    CHECK(AllOneCommit(RootOf(*pool), &base) && base == 9000);
  }
}

// A format 1 journal (before logs): its commit in flight is redone when its checksum matches
// and ignored when it does not; either way the journal is converted to format 2 and works on.
PMEMKV_TEST(TestFormat1JournalIsRedoneAndConverted) {
  for (bool matching : {true, false}) {
    const std::string path = pmemkv::testing::PoolPath("legacy");
    std::remove(path.c_str());
    {
      auto pool = OpenPool(path);
      Journal j(pool->get(), IsPmem(*pool));
      CHECK_OK(OpenJournal(*pool, &j));
      CommitAll(*pool, j, 10);
      Journal::Area* area = AreaOf(*pool);
      Root* root = RootOf(*pool);
      area->format = 0;
      area->first_seq = 0;
      for (uint64_t i = 0; i < kWords; ++i) area->records[i] = Journal::Record{OffsetOf(*pool, &root->words[i]), 300 + i};
      area->legacy_committed = kWords;
      area->legacy_checksum = Journal::Checksum(area->records, kWords) ^ (matching ? 0 : 1);
      pmemobj_persist(pool->get(), area, Journal::kHeaderBytes + kWords * sizeof(Journal::Record));
    }
    auto pool = OpenPool(path);
    Journal j(pool->get(), IsPmem(*pool), Journal::kWhenFull);
    CHECK_OK(OpenJournal(*pool, &j));
    uint64_t base = 0;
    CHECK(AllOneCommit(RootOf(*pool), &base) && base == (matching ? 300 : 10));
    const Journal::Area* area = AreaOf(*pool);
    CHECK(area->legacy_committed == 0 && area->legacy_checksum == 0 && area->format == Journal::kFormat);
    CHECK(area->first_seq != 0);
    CommitAll(*pool, j, 4000);
    CHECK(AllOneCommit(RootOf(*pool), &base) && base == 4000);
  }
}

// Damage is refused before any store: a block (with a matching records checksum) that targets
// outside the pool, the pool header, a misaligned word or the journal itself, a last block
// whose payload lies outside the pool, a log starting at seq 0, a format 1 count above the
// capacity, a journal offset outside the pool, an impossible capacity.
PMEMKV_TEST(TestDamagedJournalIsRefused) {
  const std::string path = pmemkv::testing::PoolPath("damaged");
  auto pool = OpenPool(path);
  {
    Journal j(pool->get(), IsPmem(*pool));
    CHECK_OK(OpenJournal(*pool, &j));
    CommitAll(*pool, j, 3);
  }
  Root* root = RootOf(*pool);
  Journal::Area* area = AreaOf(*pool);
  const uint64_t words_off = OffsetOf(*pool, &root->words[0]);
  const uint64_t seq = area->first_seq;
  struct Case {
    const char* what;
    uint64_t target;
    Journal::Range payload;
  } cases[] = {
      {"target past the end", 1ull << 40, {0, 0}},
      {"target in the pool header", 64, {0, 0}},
      {"target misaligned", words_off + 3, {0, 0}},
      {"target inside the journal", root->journal + Journal::kHeaderBytes, {0, 0}},
      {"payload past the end", words_off, {1ull << 40, 64}},
  };
  for (const Case& c : cases) {
    const uint64_t m = c.payload.len != 0 ? 1 : 0;
    Journal::Record* body = area->records + Journal::kBlockHeaderSlots;
    if (m != 0) body[0] = Journal::Record{c.payload.off, c.payload.len};
    body[m] = Journal::Record{c.target, 999};
    area->records[0] = Journal::Record{seq, uint64_t{1} << 32 | m};
    area->records[1] = Journal::Record{Journal::RecordsChecksum(seq, 1, m, body), m != 0 ? uint64_t{12345} : 0};
    Journal j(pool->get(), IsPmem(*pool));
    const Status s = OpenJournal(*pool, &j);
    if (s.ok() || s.message().find("damaged") == std::string::npos)
      std::fprintf(stderr, "%s: %s\n", c.what, s.ok() ? "opened" : s.message().c_str());
    CHECK(!s.ok());
    CHECK(area->first_seq == seq);  // nothing written
    uint64_t base = 0;
    CHECK(AllOneCommit(root, &base) && base == 3);
  }
  area->records[0] = Journal::Record{0, 0};
  {
    area->first_seq = 0;
    Journal j(pool->get(), IsPmem(*pool));
    CHECK(!OpenJournal(*pool, &j).ok());
    area->first_seq = seq;
  }
  {
    area->legacy_committed = 5000;
    Journal j(pool->get(), IsPmem(*pool));
    CHECK(!OpenJournal(*pool, &j).ok());
    CHECK(area->legacy_committed == 5000);
    area->legacy_committed = 0;
  }
  {
    const uint64_t cap = area->capacity;
    area->capacity = 1;
    Journal j(pool->get(), IsPmem(*pool));
    CHECK(!OpenJournal(*pool, &j).ok());
    area->capacity = cap;
  }
  const uint64_t good = root->journal;
  root->journal = 1ull << 40;
  {
    Journal j(pool->get(), IsPmem(*pool));
    CHECK(!OpenJournal(*pool, &j).ok());
  }
  root->journal = good;
  Journal j(pool->get(), IsPmem(*pool));
  CHECK_OK(OpenJournal(*pool, &j));  // the damage undone, the journal opens again
}

// Real crashes: a child process commits 512-word changes with a payload in a loop (each sets
// every word from one counter) and is killed with SIGKILL after a random delay; the reopened
// pool holds one whole commit, never a mix, with that commit's payload, and the counter never
// goes back past what the child had reported as durable. Both checkpoint modes.
PMEMKV_TEST(TestKilledInTheMiddleOfCommits) {
  int kills = 0, in_log = 0;
  uint64_t commits = 0;
  for (Journal::Checkpoints mode : {Journal::kEveryCommit, Journal::kWhenFull}) {
    const std::string path = pmemkv::testing::PoolPath(mode == Journal::kWhenFull ? "killed-lazy" : "killed");
    {
      auto pool = OpenPool(path);
      Journal j(pool->get(), IsPmem(*pool), mode);
      CHECK_OK(OpenJournal(*pool, &j, 4096));
      CommitAll(*pool, j, kWords);
    }
    std::mt19937_64 rng(42);
    uint64_t durable = kWords;  // the pool's commit before the round
    for (int round = 0; round < 20; ++round) {
      int ack[2];
      CHECK(pipe(ack) == 0);
      const pid_t child = fork();
      if (child == 0) {
        close(ack[0]);
        auto pool = OpenPool(path);
        Journal j(pool->get(), IsPmem(*pool), mode);
        if (pool == nullptr || !OpenJournal(*pool, &j, 4096).ok()) _exit(3);
        uint64_t base = 0;
        if (!AllOneCommit(RootOf(*pool), &base)) _exit(4);
        const uint64_t ready = 0;
        if (write(ack[1], &ready, sizeof ready) != sizeof ready) _exit(5);
        for (uint64_t v = base + kWords;; v += kWords) {
          CommitAll(*pool, j, v);
          if (write(ack[1], &v, sizeof v) != sizeof v) _exit(5);
        }
      }
      close(ack[1]);
      uint64_t v = 1;
      CHECK(read(ack[0], &v, sizeof v) == sizeof v && v == 0);  // the child opened the pool
      usleep(static_cast<useconds_t>(rng() % 4000));
      kill(child, SIGKILL);
      int status = 0;
      waitpid(child, &status, 0);
      CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      ++kills;
      uint64_t acked = durable;
      while (read(ack[0], &v, sizeof v) == sizeof v) acked = v;
      close(ack[0]);
      auto pool = OpenPool(path);
      CHECK(pool != nullptr);
      const Journal::Area* area = AreaOf(*pool);
      if (area->records[0].target == area->first_seq) ++in_log;
      Journal j(pool->get(), IsPmem(*pool), mode);
      CHECK_OK(OpenJournal(*pool, &j, 4096));
      uint64_t base = 0;
      CHECK(AllOneCommit(RootOf(*pool), &base));
      CHECK(PayloadOf(*pool, base));
      CHECK(base >= acked);           // every acknowledged commit is there
      CHECK(base <= acked + kWords);  // and at most the one in flight besides
      commits += (acked - durable) / kWords;
      durable = base;
    }
  }
  CHECK(commits >= 2 * static_cast<uint64_t>(kills));  // the kills land among commits, not before them
  std::printf("    %d kills after %llu acknowledged commits, %d of them found commits in the log\n", kills,
              static_cast<unsigned long long>(commits), in_log);
}

}  // namespace

int main() { return pmemkv::testing::RunAll(); }
