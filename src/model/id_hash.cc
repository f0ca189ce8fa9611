#include "model/id_hash.h"

#include "base/digest.h"

namespace streamflow::model {

std::string IdHasher::hash(std::string_view value) const { return base::to_hex(hmac_.mac(value)); }

}  // namespace streamflow::model
