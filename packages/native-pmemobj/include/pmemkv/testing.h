// The native unit-test harness of every engine: one CHECK, one way to register and run tests,
// one temporary directory for pools. Engine tests are plain programs (no Node.js):
//
//   #include <pmemkv/testing.h>
//   PMEMKV_TEST(PutThenGet) { ... CHECK(x == 1); CHECK_OK(engine->Put("k", "v")); ... }
//   int main() { return pmemkv::testing::RunAll(); }
//
// CHECK and CHECK_OK print the failing expression with file and line, count a failure and
// return from the current test (the next test still runs). RunAll makes a fresh directory
// under /dev/shm (or $TMPDIR, or /tmp), runs every test in registration order, removes the
// directory and returns the process exit code (0 when nothing failed).
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <algorithm>
#include <string>
#include <vector>

#include "engine.h"
#include "status.h"

namespace pmemkv {
namespace testing {

struct Registered {
  const char* name;
  void (*fn)();
};

inline std::vector<Registered>& Tests() {
  static std::vector<Registered> tests;
  return tests;
}

inline int& Failures() {
  static int failures = 0;
  return failures;
}

inline std::string& Dir() {
  static std::string dir;
  return dir;
}

// A path inside the run's temporary directory.
inline std::string PoolPath(const std::string& name) { return Dir() + "/" + name; }

// A ValueReceiver that keeps a copy of the value it receives.
struct ValueCopy final : ValueReceiver {
  std::string value;
  void Receive(Slice v) override { value.assign(v.data(), v.size()); }
};

struct Registrar {
  Registrar(const char* name, void (*fn)()) { Tests().push_back({name, fn}); }
};

inline bool Fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: %s\n", file, line, what.c_str());
  Failures()++;
  return false;
}

inline int RunAll() {
  const char* base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  std::string tmpl = std::string(base) + "/pmemkv-native-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 2;
  }
  Dir() = tmpl;
  // PMEMKV_TEST_FILTER=<text>[,<text>...]: only the tests whose name contains one of them.
  const char* filter = getenv("PMEMKV_TEST_FILTER");
  const auto selected = [filter](const std::string& name) {
    if (filter == nullptr) return true;
    const std::string list(filter);
    for (size_t at = 0; at <= list.size();) {
      const size_t end = std::min(list.find(',', at), list.size());
      if (end > at && name.find(list.substr(at, end - at)) != std::string::npos) return true;
      at = end + 1;
    }
    return false;
  };
  size_t ran = 0;
  for (const Registered& t : Tests()) {
    if (!selected(t.name)) continue;
    ran++;
    const int before = Failures();
    t.fn();
    std::printf("%s %s\n", Failures() == before ? "ok  " : "FAIL", t.name);
  }
  std::error_code ec;
  std::filesystem::remove_all(Dir(), ec);
  std::printf("%zu tests, %d failed checks\n", ran, Failures());
  return Failures() == 0 ? 0 : 1;
}

}  // namespace testing
}  // namespace pmemkv

#define PMEMKV_TEST(name)                                                    \
  static void name();                                                        \
  static ::pmemkv::testing::Registrar name##_registrar(#name, &name);        \
  static void name()

#define CHECK(cond)                                                                         \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      ::pmemkv::testing::Fail(__FILE__, __LINE__, std::string("CHECK failed: ") + #cond);   \
      return;                                                                               \
    }                                                                                       \
  } while (0)

#define CHECK_OK(expr)                                                                                 \
  do {                                                                                                 \
    ::pmemkv::Status check_status_ = (expr);                                                           \
    if (!check_status_.ok()) {                                                                         \
      ::pmemkv::testing::Fail(__FILE__, __LINE__, std::string(#expr) + " -> " +                        \
                                                      ::pmemkv::CodeName(check_status_.code()) + " " + \
                                                      check_status_.message());                        \
      return;                                                                                          \
    }                                                                                                  \
  } while (0)
