#pragma once
/// Per-nationality data of the mock API: names and places in the scripts the real
/// randomuser.me serves, and the shapes of its postcodes, phones and national ids.
/// Static, immutable tables.

#include <span>
#include <string_view>

namespace streamflow::mockapi {

/// How a nationality writes its postcode: a digit pattern served as a JSON number, or a
/// template served as a string ('#' digit, '@' upper-case letter).
struct PostcodeFormat {
  std::string_view pattern;
  bool numeric;  ///< served as a number (leading zeros impossible), else a string
};

struct NatData {
  std::string_view code;     ///< "US"
  std::string_view country;  ///< "United States"
  std::span<const std::string_view> male_first;
  std::span<const std::string_view> female_first;
  std::span<const std::string_view> last;
  std::span<const std::string_view> streets;
  std::span<const std::string_view> cities;
  std::span<const std::string_view> states;
  std::span<const std::string_view> male_titles;
  std::span<const std::string_view> female_titles;
  PostcodeFormat postcode;
  std::string_view phone;  ///< template: '#' digit, '@' letter
  std::string_view cell;
  std::string_view id_name;  ///< "" with id_value empty: the API serves {"name": "", "value": null}
  std::string_view id_value;  ///< template, "" for null
};

/// All 21 nationalities of the real API, in its order.
std::span<const NatData> nationalities();
const NatData* find_nat(std::string_view code);

/// "Name|Latin transliteration" entries carry the latin form used for e-mails.
std::string_view display_part(std::string_view entry);
std::string_view latin_part(std::string_view entry);

}  // namespace streamflow::mockapi
