// journal.h through Pool: a commit reaches every target and survives a reopen; a committed
// journal whose stores never reached their targets (a crash between the commit point and the
// end of the apply) is redone on open; a damaged journal is refused before anything is
// written; and child processes killed with SIGKILL in the middle of commits always leave all
// of a commit or none of it. Run by test/journal.test.ts (or: g++ -std=c++17 -Iinclude
// test/journal_test.cc -lpmemobj -lpmem && PMEM_IS_PMEM_FORCE=1 ./a.out).
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
constexpr uint64_t kWords = 512;  // words every commit of the tests changes

// The test's root: the journal's slot and the words it changes.
struct Root {
  uint64_t journal;
  uint64_t words[kWords];
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

Status OpenJournal(Pool& pool, Journal* j, uint64_t capacity = 1024) {
  return j->Open(&RootOf(pool)->journal, 7, capacity, 0, pmemkv::SpanOf(pool), pool.path(), "test");
}

// The journal's persistent area, as the pool holds it.
Journal::Area* AreaOf(Pool& pool) {
  return reinterpret_cast<Journal::Area*>(reinterpret_cast<char*>(pool.get()) + RootOf(pool)->journal);
}

bool IsPmem(Pool& pool) { return pmemkv::RangePersister::MappingIsPmem(pool.get(), pool.size()); }

// One commit that sets every word to `value`.
void CommitAll(Pool& pool, Journal& j, uint64_t value) {
  pmemkv::WordStores stores(pool.get());
  pmemkv::ActionList acts(pool.get());
  Root* root = RootOf(pool);
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

PMEMKV_TEST(TestCommitReachesTargetsAndSurvivesReopen) {
  const std::string path = pmemkv::testing::PoolPath("commit");
  {
    auto pool = OpenPool(path);
    CHECK(pool != nullptr);
    Journal j(pool->get(), IsPmem(*pool));
    CHECK_OK(OpenJournal(*pool, &j));
    CHECK(j.capacity() == 1024);
    CommitAll(*pool, j, 1000);
    uint64_t base = 0;
    CHECK(AllOneCommit(RootOf(*pool), &base) && base == 1000);
  }
  auto pool = OpenPool(path);
  Journal j(pool->get(), IsPmem(*pool));
  CHECK_OK(OpenJournal(*pool, &j));
  uint64_t base = 0;
  CHECK(AllOneCommit(RootOf(*pool), &base) && base == 1000);
  const Journal::Area* area = AreaOf(*pool);
  CHECK(area->committed == 0);
}

// A change too large for the journal goes through the publish instead, all the same.
PMEMKV_TEST(TestTooLargeForTheJournalPublishes) {
  auto pool = OpenPool(pmemkv::testing::PoolPath("large"));
  Journal j(pool->get(), IsPmem(*pool));
  CHECK_OK(OpenJournal(*pool, &j, 16));
  CommitAll(*pool, j, 77);
  uint64_t base = 0;
  CHECK(AllOneCommit(RootOf(*pool), &base) && base == 77);
}

// The state a crash after the commit point leaves: records and commit word durable, the
// targets still old. Open must redo the stores and clear the word.
PMEMKV_TEST(TestCommittedJournalIsRedoneOnOpen) {
  const std::string path = pmemkv::testing::PoolPath("redo");
  {
    auto pool = OpenPool(path);
    Journal j(pool->get(), IsPmem(*pool));
    CHECK_OK(OpenJournal(*pool, &j));
    CommitAll(*pool, j, 10);
    Root* root = RootOf(*pool);
    Journal::Area* area = AreaOf(*pool);
    const uint64_t base_off = reinterpret_cast<char*>(&root->words[0]) - reinterpret_cast<char*>(pool->get());
    for (uint64_t i = 0; i < kWords; ++i) area->records[i] = Journal::Record{base_off + 8 * i, 500 + i};
    area->committed = kWords;
    area->checksum = Journal::Checksum(area->records, kWords);
    pmemobj_persist(pool->get(), area, Journal::kHeaderBytes + kWords * sizeof(Journal::Record));
  }
  auto pool = OpenPool(path);
  uint64_t base = 0;
  CHECK(AllOneCommit(RootOf(*pool), &base) && base == 10);  // not redone yet
  Journal j(pool->get(), IsPmem(*pool));
  CHECK_OK(OpenJournal(*pool, &j));
  CHECK(AllOneCommit(RootOf(*pool), &base) && base == 500);
  const Journal::Area* area = AreaOf(*pool);
  CHECK(area->committed == 0);
}

// Damage is refused before any store: a count above the capacity, a target outside the pool,
// a target inside the journal itself (each with a matching checksum), a journal offset outside
// the pool. A header whose checksum does not match its records (a commit torn by a crash, or
// changed bytes) is no commit: nothing is redone and the header is cleared.
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
  const uint64_t words_off = reinterpret_cast<char*>(&root->words[0]) - reinterpret_cast<char*>(pool->get());
  struct Case {
    const char* what;
    uint64_t committed;
    uint64_t target;
  } cases[] = {
      {"count above capacity", 5000, words_off},
      {"target past the end", 1, 1ull << 40},
      {"target in the pool header", 1, 64},
      {"target misaligned", 1, words_off + 3},
      {"target inside the journal", 1, root->journal + Journal::kHeaderBytes},
  };
  for (const Case& c : cases) {
    area->records[0] = Journal::Record{c.target, 999};
    area->committed = c.committed;
    area->checksum = Journal::Checksum(area->records, c.committed <= 1024 ? c.committed : 0);
    Journal j(pool->get(), IsPmem(*pool));
    const Status s = OpenJournal(*pool, &j);
    if (s.ok() || s.message().find("damaged") == std::string::npos)
      std::fprintf(stderr, "%s: %s\n", c.what, s.ok() ? "opened" : s.message().c_str());
    CHECK(!s.ok());
    CHECK(area->committed == c.committed);  // nothing written
    uint64_t base = 0;
    CHECK(AllOneCommit(root, &base) && base == 3);
  }
  // A checksum that does not match: ignored, cleared, no store made.
  area->records[0] = Journal::Record{words_off, 999};
  area->committed = 1;
  area->checksum = Journal::Checksum(area->records, 1) ^ 1;
  {
    Journal j(pool->get(), IsPmem(*pool));
    CHECK_OK(OpenJournal(*pool, &j));
    CHECK(area->committed == 0 && area->checksum == 0);
    uint64_t base = 0;
    CHECK(AllOneCommit(root, &base) && base == 3);
  }
  area->committed = 0;
  const uint64_t good = root->journal;
  root->journal = 1ull << 40;
  Journal j(pool->get(), IsPmem(*pool));
  CHECK(!OpenJournal(*pool, &j).ok());
  root->journal = good;
}

// Real crashes: a child process commits 512-word changes in a loop (each sets every word from
// one counter) and is killed with SIGKILL after a random delay; the reopened pool holds one
// whole commit, never a mix, and the counter never goes back past what the child had
// reported as durable (its last acknowledged commit is in the pool).
PMEMKV_TEST(TestKilledInTheMiddleOfCommits) {
  const std::string path = pmemkv::testing::PoolPath("killed");
  {
    auto pool = OpenPool(path);
    Journal j(pool->get(), IsPmem(*pool));
    CHECK_OK(OpenJournal(*pool, &j));
    CommitAll(*pool, j, 1);
  }
  std::mt19937_64 rng(42);
  int kills = 0, mid_commit = 0;
  uint64_t durable = 1;  // the pool's commit before the round
  for (int round = 0; round < 40; ++round) {
    int ack[2];
    CHECK(pipe(ack) == 0);
    const pid_t child = fork();
    if (child == 0) {
      close(ack[0]);
      auto pool = OpenPool(path);
      Journal j(pool->get(), IsPmem(*pool));
      if (pool == nullptr || !OpenJournal(*pool, &j).ok()) _exit(3);
      uint64_t base = 0;
      if (!AllOneCommit(RootOf(*pool), &base)) _exit(4);
      for (uint64_t v = base + kWords;; v += kWords) {
        CommitAll(*pool, j, v);
        if (write(ack[1], &v, sizeof v) != sizeof v) _exit(5);
      }
    }
    close(ack[1]);
    usleep(2000 + static_cast<useconds_t>(rng() % 20000));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ++kills;
    uint64_t acked = durable, v = 0;
    while (read(ack[0], &v, sizeof v) == sizeof v) acked = v;
    close(ack[0]);
    auto pool = OpenPool(path);
    CHECK(pool != nullptr);
    const Journal::Area* area = AreaOf(*pool);
    if (area->committed != 0) ++mid_commit;
    Journal j(pool->get(), IsPmem(*pool));
    CHECK_OK(OpenJournal(*pool, &j));
    uint64_t base = 0;
    CHECK(AllOneCommit(RootOf(*pool), &base));
    CHECK(base >= acked);               // every acknowledged commit is there
    CHECK(base <= acked + kWords);      // and at most the one in flight besides
    durable = base;
  }
  std::printf("    %d kills, %d of them found a commit in flight\n", kills, mid_commit);
}

}  // namespace

int main() { return pmemkv::testing::RunAll(); }
