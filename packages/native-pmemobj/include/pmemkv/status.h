// Status: the result of every engine operation. Engines return a Status and never throw
// across the SDK boundary; the glue maps it to a PmemkvError in JS (one table, StatusName).
//
// The numeric codes are pmemkv's own (0..12) plus this project's extensions (13..), and are part
// of the public API: never renumber.
#pragma once

#include <string>
#include <utility>

namespace pmemkv {

enum class Code : int {
  kOk = 0,
  kUnknownError = 1,
  kNotFound = 2,
  kNotSupported = 3,
  kInvalidArgument = 4,
  kConfigParsingError = 5,
  kConfigTypeError = 6,
  kStoppedByCallback = 7,
  kOutOfMemory = 8,
  kWrongEngineName = 9,
  kTransactionScopeError = 10,
  kDefragError = 11,
  kComparatorMismatch = 12,
  // pmemkv for Node.js extensions (pmemkv itself stops at 12).
  kPoolLocked = 13,  // the pool is held open by another process (libpmemobj's file lock)
};

// The status name JS sees as PmemkvError.code.
inline const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kUnknownError: return "UNKNOWN_ERROR";
    case Code::kNotFound: return "NOT_FOUND";
    case Code::kNotSupported: return "NOT_SUPPORTED";
    case Code::kInvalidArgument: return "INVALID_ARGUMENT";
    case Code::kConfigParsingError: return "CONFIG_PARSING_ERROR";
    case Code::kConfigTypeError: return "CONFIG_TYPE_ERROR";
    case Code::kStoppedByCallback: return "STOPPED_BY_CB";
    case Code::kOutOfMemory: return "OUT_OF_MEMORY";
    case Code::kWrongEngineName: return "WRONG_ENGINE_NAME";
    case Code::kTransactionScopeError: return "TRANSACTION_SCOPE_ERROR";
    case Code::kDefragError: return "DEFRAG_ERROR";
    case Code::kComparatorMismatch: return "COMPARATOR_MISMATCH";
    case Code::kPoolLocked: return "POOL_LOCKED";
  }
  return "UNKNOWN_ERROR";
}

// A code plus a message for the user (what happened and what to do). OK and NOT_FOUND carry
// no message, so the hot paths never allocate.
class Status {
 public:
  Status() noexcept : code_(Code::kOk) {}
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() noexcept { return Status(); }
  static Status NotFound() { return Status(Code::kNotFound, std::string()); }
  static Status StoppedByCallback() { return Status(Code::kStoppedByCallback, std::string()); }
  static Status NotSupported(std::string m) { return Status(Code::kNotSupported, std::move(m)); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status OutOfMemory(std::string m) { return Status(Code::kOutOfMemory, std::move(m)); }
  static Status DefragError(std::string m) { return Status(Code::kDefragError, std::move(m)); }
  static Status Unknown(std::string m) { return Status(Code::kUnknownError, std::move(m)); }

  bool ok() const noexcept { return code_ == Code::kOk; }
  bool IsNotFound() const noexcept { return code_ == Code::kNotFound; }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

 private:
  Code code_;
  std::string message_;
};

}  // namespace pmemkv
