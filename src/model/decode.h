#pragma once
/// Decoding what a randomuser.me-compatible API served, or what someone saved of it, into
/// validated Users and Rejects. Pure: no I/O.
///
/// Framing (the document as a whole): the documented envelope {"results": [...], "info": {...}};
/// a bare JSON array of result objects; JSON Lines (one result object per line); a single
/// result object; any of them with a UTF-8 byte-order mark or white space around. Anything
/// else is an error naming what was found, and nothing of it is kept.
///
/// Records, the rules the Spark job mirrors and tests/golden/ pins down:
///  - required: login.uuid (a UUID), the key of a user everywhere downstream; every other
///    field may be absent or null and is then null. A field that is present must be well
///    formed (a wrong type or value rejects the record with "<field>: <what is wrong>");
///  - text is normalised by normalise_text(); empty optional text becomes null;
///  - postcode, phone, cell and id.value may be strings or numbers and are kept as text;
///  - coordinates may be strings or numbers and must be decimals within +-90 / +-180;
///  - older API shapes are mapped where that needs no guessing: the pre-1.0 {"user": {...}}
///    wrapper is unwrapped, location.zip is the postcode, a string location.street is the
///    street's name, dob/registered as epoch seconds (1.0 and before) or as a bare date
///    string (1.1) are timestamps, a top-level username and nationality are login.username and
///    nat, and a top-level national id (SSN, NINO, TFN, ...) is the id. Records of API versions
///    before 1.2 carry no login.uuid and are rejected, saying so;
///  - credentials are never read into a User, and every reject payload goes through
///    sanitise() (model/sanitise.h): credentials dropped, national ids hashed, at any depth;
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

/// Fails only when the document as a whole is unusable: invalid_argument for a framing that is
/// none of the accepted ones (the message names what was found), unavailable for an API error
/// object such as {"error": "Uh oh, something has gone wrong"}. Individual bad records never
/// fail the call: they come back as Rejects.
base::Result<Batch> decode_response(std::string_view body, const IdHasher& hasher,
                                    const Limits& limits = {});

}  // namespace streamflow::model
