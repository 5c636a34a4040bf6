// Helpers shared by the ledger's implementation files; not part of the interface.
#pragma once

#include <string>
#include <string_view>

#include "ledger/ledger.h"

namespace clawback::ledger {


// An event's attributes as stored and hashed: the object's DumpJson; null becomes {} and any
// other non-object value v becomes {"value": v}.
std::string StoredAttributes(const Json& attributes);

// CanonicalEventBytes / ChainHash with the event's attributes given as their stored JSON
// text (DumpJson(e.attributes) for a new event), so writing and verifying hash the same bytes.
std::string CanonicalEventBytesWithAttributes(const Event& e, const std::string& attributes_json);
void AppendCanonicalEventBytes(const Event& e, const std::string& attributes_json,
                               std::string* out);
std::string ChainHashWithAttributes(const std::string& prev_hash_hex, const Event& e,
                                    const std::string& attributes_json);
// Hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

}  // namespace clawback::ledger
