#pragma once
/// Decoding a randomuser.me-compatible API response (versions 1.4 and 1.3, and the legacy
/// string forms of dob/registered/street) into validated Users and Rejects. Pure: no I/O.
///
/// The rules, which the Spark job mirrors and tests/golden/ pins down:
///  - required: login.uuid (a UUID), gender (male|female), name.first, name.last, email,
///    dob.date (ISO 8601), nat (two letters); everything else is optional;
///  - text is normalised by normalise_text(); empty optional text becomes null;
///  - postcode, phone, cell and id.value may be strings or numbers and are kept as text;
///  - coordinates may be strings or numbers and must be decimals within +-90 / +-180;
///  - login.password/salt/md5/sha1/sha256 are never read into a User and are removed from
///    every reject payload (at any depth); id.value becomes an HMAC-SHA256 hash;
///  - a uuid seen twice in one response: the first is kept, the later one is a Reject.

#include <string_view>

#include "base/result.h"
#include "model/id_hash.h"
#include "model/user.h"

namespace streamflow::model {

/// Byte limits per kind of text field; longer values make the record a Reject.
struct Limits {
  std::size_t text = 256;
  std::size_t url = 2048;
  std::size_t email = 320;
  std::size_t code = 64;  ///< postcode, phone, cell, ids
};

/// Fails (invalid_argument) only when the document as a whole is unusable: not JSON, no
/// "results" array, or an API error object such as {"error": "Uh oh, something has gone wrong"}.
/// Individual bad records never fail the call: they come back as Rejects.
base::Result<Batch> decode_response(std::string_view body, const IdHasher& hasher,
                                    const Limits& limits = {});

}  // namespace streamflow::model
