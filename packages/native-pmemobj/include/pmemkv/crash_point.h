// Crash points: named places inside an engine's persistence steps where a crash test can kill
// the process (the kill is the test's; the engine only calls CrashPoint).
//
//   CrashPoint("split: slot moved");   // in the engine, at each step worth breaking
//   pmemkv::SetCrashHook([](const char* step) { if (...) raise(SIGKILL); });   // in a test
//
// In production no hook is set: a CrashPoint is one predictable branch. Set the hook only
// while no other thread runs engine code (it is a plain global, one per addon).
#pragma once

namespace pmemkv {

using CrashHook = void (*)(const char* step);

inline CrashHook& CrashHookSlot() noexcept {
  static CrashHook hook = nullptr;
  return hook;
}

inline void SetCrashHook(CrashHook hook) noexcept { CrashHookSlot() = hook; }

inline void CrashPoint(const char* step) {
  if (__builtin_expect(CrashHookSlot() != nullptr, 0)) CrashHookSlot()(step);
}

}  // namespace pmemkv
