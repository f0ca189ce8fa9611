#pragma once
/// What must never be kept in clear, recognised by meaning rather than by today's field names,
/// and the sanitiser that every copy of a raw record goes through before it is stored, printed
/// or logged (reject payloads, `ingest --show-rejects`). Pure: no I/O.
///
///  - Credentials are dropped, whatever their depth: randomuser's login.password, salt, md5,
///    sha1 and sha256, the pre-1.0 forms of the same at the top of a record, the 0.1-0.2 names
///    md5_hash and sha1_hash, and any other password, salt or hash name (see
///    is_credential_key).
///  - National ids are replaced by "hmac-sha256:<hex>" under the id-hash key, whatever their
///    depth: the value of any `id` object ({"name": "SSN", "value": ...}), a scalar under a key
///    named `id`, and the value of any key that names a national id in some API version (SSN,
///    NINO, TFN, ... see is_national_id_key).
///
/// The Spark job's dead-letter copies apply the same lists (pipeline/spark), and
/// tests/corpus plants values of every kind to prove that none is kept anywhere.

#include <simdjson.h>

#include <string>
#include <string_view>

#include "model/id_hash.h"

namespace streamflow::model {

/// password, passwd, salt, md5, sha1, sha224, sha256, sha384, sha512, hash, or a name that
/// starts with "password" or ends with "_hash" / "hash" (md5_hash, password_hash, pwhash); any
/// case.
bool is_credential_key(std::string_view key);

/// A key naming a national identifier in some randomuser API version, any case: SSN (US), TFN
/// (AU), CPF (BR), SIN (CA), AVS (CH), SVNR (DE), CPR (DK), DNI (ES), HETU (FI), INSEE (FR),
/// NINO (GB), PPS (IE), UIDAI (IN), NSS (MX), BSN (NL), FN (NO), SID (RS), TC (TR), SN (the
/// LEGO id), and generic spellings (national_id, nationalid, social_security_number).
bool is_national_id_key(std::string_view key);

/// The id-hash text a sanitised payload carries in place of a national id.
std::string hashed_id(std::string_view clear, const IdHasher& hasher);

/// Appends `el` as JSON with credentials removed and national ids hashed, at any depth.
/// Strings longer than 1 KiB are cut to an excerpt (a reject keeps what explains it, not a
/// megabyte); NUL becomes U+FFFD (PostgreSQL's jsonb refuses \u0000).
void sanitise(const simdjson::dom::element& el, std::string& out, const IdHasher& hasher);

/// Appends `s` as a JSON string literal (the same escaping as sanitise()).
void append_json_string(std::string& out, std::string_view s);

}  // namespace streamflow::model
