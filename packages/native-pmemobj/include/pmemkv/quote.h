// Quoting bytes read from files for error messages: the one way the SDK puts text it did not
// write (a layout name from a pool header, the first bytes of a foreign file, a message of
// libpmemobj that repeats such bytes) into a Status message or a JS error, so that a message
// never carries raw control bytes or invalid UTF-8 to a terminal or a log.
//
//   QuoteBytes("pmemkv_cmap")      "\"pmemkv_cmap\""
//   QuoteBytes("d\xf3\x8c", 3)     "\"d\\xf3\\x8c\""     (printed: "d\xf3\x8c")
//   EscapeBytes(msg)               msg with non-printable bytes as \xNN, quotes kept as they are
//
// Printable ASCII (0x20..0x7e) is kept; a backslash is doubled; every other byte is \xNN (two
// lowercase hex digits). Bytes past `limit` are left out and "..." marks the cut.
#pragma once

#include <cstddef>
#include <string>

namespace pmemkv {

// Bytes of foreign text a message quotes at most.
constexpr size_t kQuoteLimit = 64;

namespace quote_internal {

inline std::string Escape(const char* data, size_t size, size_t limit, bool escape_quote) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  const size_t n = size < limit ? size : limit;
  out.reserve(n + 8);
  for (size_t i = 0; i < n; i++) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    if (c == '\\' || (escape_quote && c == '"')) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c <= 0x7e) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (size > n) out += "...";
  return out;
}

}  // namespace quote_internal

// `data` in double quotes, escaped as above (a double quote inside becomes \").
inline std::string QuoteBytes(const char* data, size_t size, size_t limit = kQuoteLimit) {
  return "\"" + quote_internal::Escape(data, size, limit, true) + "\"";
}
inline std::string QuoteBytes(const std::string& s, size_t limit = kQuoteLimit) {
  return QuoteBytes(s.data(), s.size(), limit);
}

// `text` escaped as above without adding quotes, for messages of other libraries that may
// repeat bytes of a file (libpmemobj's "wrong layout" names the pool's layout as it found it).
// No length limit unless one is given.
inline std::string EscapeBytes(const std::string& text, size_t limit = std::string::npos) {
  return quote_internal::Escape(text.data(), text.size(), limit, false);
}

}  // namespace pmemkv
