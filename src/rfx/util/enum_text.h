// Enums that a config key or a flag names by text: one lookup and one "allowed" list for all of
// them, so that each enum only lists its values and says how each one is written. `values` is
// any range of the enum (an array, a vector) or a braced list; `text` maps a value to its text.
#pragma once
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>

namespace rfx {

// The value v of `values` with text(v) == `s`, or nullopt.
template <typename Range, typename TextFn>
auto FindByText(const Range& values, TextFn text, const std::string& s)
    -> std::optional<std::decay_t<decltype(*std::begin(values))>> {
  for (const auto& v : values) {
    if (s == text(v)) return v;
  }
  return std::nullopt;
}
template <typename E, typename TextFn>
std::optional<E> FindByText(std::initializer_list<E> values, TextFn text, const std::string& s) {
  return FindByText<std::initializer_list<E>>(values, text, s);
}

// "a, b, c": the texts of `values` in order, for an error's "allowed: …".
template <typename Range, typename TextFn>
std::string TextList(const Range& values, TextFn text) {
  std::string list;
  for (const auto& v : values) list += (list.empty() ? "" : ", ") + std::string(text(v));
  return list;
}
template <typename E, typename TextFn>
std::string TextList(std::initializer_list<E> values, TextFn text) {
  return TextList<std::initializer_list<E>>(values, text);
}

}  // namespace rfx
