// comparator.h: the built-in comparators order keys as documented, ranges and derived walks
// follow the engine's comparator, the config key resolves names, and a stored name is checked
// against the configured one (COMPARATOR_MISMATCH naming both; a damaged or unknown name is
// UNKNOWN_ERROR). Run by test/comparator.test.ts.
#include <pmemkv/comparator.h>
#include <pmemkv/engine.h>
#include <pmemkv/testing.h>

#include <cstring>
#include <string>

namespace {

using pmemkv::Code;
using pmemkv::Comparator;
using pmemkv::Config;
using pmemkv::KeyRange;
using pmemkv::StoredComparatorName;

PMEMKV_TEST(BytewiseIsMemcmpOrderShorterPrefixFirst) {
  const auto cmp = pmemkv::kBytewise.compare;
  CHECK(cmp("", "") == 0);
  CHECK(cmp("", "a") < 0);
  CHECK(cmp("a", "ab") < 0);
  CHECK(cmp("ab", "b") < 0);
  CHECK(cmp(std::string_view("\xff", 1), std::string_view("\x00", 1)) > 0);  // unsigned bytes
  CHECK(cmp(std::string_view("a\0b", 3), std::string_view("a\0a", 3)) > 0);   // NUL inside keys
}

PMEMKV_TEST(ReverseBytewiseIsTheExactReverse) {
  const auto fwd = pmemkv::kBytewise.compare, rev = pmemkv::kReverseBytewise.compare;
  const char* keys[] = {"", "a", "ab", "abc", "b", "\xff"};
  for (const char* a : keys)
    for (const char* b : keys) CHECK(rev(a, b) == -fwd(a, b));
}

PMEMKV_TEST(RangesCompareWithTheirComparator) {
  KeyRange r;
  r.lower = {"c", true, true};
  r.upper = {"a", true, false};
  CHECK(r.IsEmpty());  // bytewise: c > a
  r.compare = pmemkv::kReverseBytewise.compare;
  CHECK(!r.IsEmpty());
  CHECK(r.Contains("c"));
  CHECK(r.Contains("b"));
  CHECK(!r.Contains("a"));  // exclusive upper
  CHECK(!r.Contains("d"));
}

Config WithComparator(const char* name) {
  Config c;
  Config::Item item{Config::Item::Type::kString, name};
  c.items.emplace_back("comparator", item);
  return c;
}

PMEMKV_TEST(ConfigNamesABuiltInComparator) {
  const Comparator* c = &pmemkv::kBytewise;
  CHECK_OK(pmemkv::ComparatorFromConfig(Config(), "test", &c));
  CHECK(c == nullptr);  // absent: the stored one (or bytewise on a new pool)
  CHECK_OK(pmemkv::ComparatorFromConfig(WithComparator("reverse-bytewise"), "test", &c));
  CHECK(c == &pmemkv::kReverseBytewise);
  pmemkv::Status s = pmemkv::ComparatorFromConfig(WithComparator("natural"), "test", &c);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("natural") != std::string::npos);
  CHECK(s.message().find("reverse-bytewise") != std::string::npos);
}

PMEMKV_TEST(StoredNameIsCheckedAgainstTheConfig) {
  StoredComparatorName field;
  pmemkv::StoreComparatorName(&field, pmemkv::kReverseBytewise);
  const Comparator* out = nullptr;
  CHECK_OK(pmemkv::ResolveStoredComparator(field, nullptr, "/p", "test", &out));
  CHECK(out == &pmemkv::kReverseBytewise);
  CHECK_OK(pmemkv::ResolveStoredComparator(field, &pmemkv::kReverseBytewise, "/p", "test", &out));
  pmemkv::Status s = pmemkv::ResolveStoredComparator(field, &pmemkv::kBytewise, "/p", "test", &out);
  CHECK(s.code() == Code::kComparatorMismatch);
  CHECK(s.message().find("'reverse-bytewise'") != std::string::npos);
  CHECK(s.message().find("'bytewise'") != std::string::npos);

  std::memcpy(field.bytes, "unknown-order", 14);
  s = pmemkv::ResolveStoredComparator(field, nullptr, "/p", "test", &out);
  CHECK(s.code() == Code::kUnknownError);
  field.bytes[31] = 'x';  // not NUL-padded
  s = pmemkv::ResolveStoredComparator(field, nullptr, "/p", "test", &out);
  CHECK(s.code() == Code::kUnknownError);
  CHECK(s.message().find("damaged") != std::string::npos);
}

}  // namespace

int main() { return pmemkv::testing::RunAll(); }
