#include "store/backend/s3_backend.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string>

#include "store/backend/backend_util.h"
#include "store/backend/mem_backend.h"
#include "store/backend/sigv4.h"

namespace clawback::store {
namespace {

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// XML helpers for S3's small, flat responses. Decodes the five entities and &#N;/&#xN;.
std::string XmlUnescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    static constexpr std::pair<std::string_view, char> kNamed[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    bool named = false;
    for (const auto& [entity, c] : kNamed) {
      if (ent == entity) {
        out += c;
        named = true;
      }
    }
    if (!named && ent.starts_with('#')) {
      unsigned long cp = 0;
      bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      std::string digits(ent.substr(hex ? 2 : 1));
      cp = std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10);
      if (cp < 0x80) {
        out += static_cast<char>(cp);
      } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      }
    } else if (!named) {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

// The text of the first <tag>…</tag> at or after *pos within [.., end); advances *pos past
// it. Returns false when there is none.
bool NextElement(std::string_view xml, std::string_view tag, size_t* pos, size_t end,
                 std::string* text) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t b = xml.find(open, *pos);
  if (b == std::string_view::npos || b >= end) return false;
  size_t e = xml.find(close, b + open.size());
  if (e == std::string_view::npos || e > end) return false;
  *text = XmlUnescape(xml.substr(b + open.size(), e - b - open.size()));
  *pos = e + close.size();
  return true;
}

std::string FirstElement(std::string_view xml, std::string_view tag) {
  size_t pos = 0;
  std::string text;
  return NextElement(xml, tag, &pos, xml.size(), &text) ? text : std::string();
}

bool ParseInt(std::string_view s, int64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Status S3ErrorStatus(const std::string& what, const S3Backend::Response& r) {
  std::string code = FirstElement(r.body, "Code");
  std::string message = FirstElement(r.body, "Message");
  std::string text = what + ": HTTP " + std::to_string(r.status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += ": " + message;
  if (r.status == 404) return NotFound(text);
  if (r.status == 401) return Unauthenticated(text);
  if (r.status == 403) {
    if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch") {
      return Unauthenticated(text + " (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)");
    }
    if (code.empty()) text += " (access denied: check the credentials and the bucket policy)";
    return PermissionDenied(text);
  }
  if (r.status == 429 || r.status >= 500 || code == "SlowDown" || code == "RequestTimeout") {
    return Unavailable(text);
  }
  if (r.status == 409 || r.status == 412) return FailedPrecondition(text);
  return FailedPrecondition(text);
}

Result<S3Location> ParseS3Url(std::string_view url) {
  const std::string original(url);
  if (!url.starts_with("s3:")) return InvalidArgument("not an S3 URL: " + original);
  url.remove_prefix(3);
  S3Location loc;
  if (url.starts_with("https://")) {
    loc.scheme = "https";
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    loc.scheme = "http";
    url.remove_prefix(7);
  } else if (url.find("://") != std::string_view::npos) {
    return InvalidArgument("S3 URL scheme must be https or http: " + original);
  } else {
    loc.scheme = "https";
  }
  size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : url.substr(slash + 1);
  if (hostport.empty()) return InvalidArgument("S3 URL has no host: " + original);
  size_t colon = hostport.rfind(':');
  size_t bracket = hostport.rfind(']');  // "[::1]:9000"
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    int64_t port = 0;
    if (!ParseInt(hostport.substr(colon + 1), &port) || port <= 0 || port > 65535) {
      return InvalidArgument("S3 URL has a bad port: " + original);
    }
    loc.port = static_cast<int>(port);
    hostport = hostport.substr(0, colon);
  }
  loc.host = std::string(hostport);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t bslash = path.find('/');
  loc.bucket = std::string(path.substr(0, bslash));
  if (bslash != std::string_view::npos) loc.prefix = std::string(path.substr(bslash + 1));
  if (loc.bucket.empty()) {
    return InvalidArgument("S3 URL names no bucket (s3:https://HOST[:PORT]/BUCKET[/PREFIX]): " +
                           original);
  }
  return loc;
}

Result<std::unique_ptr<S3Backend>> S3Backend::Open(const std::string& url, S3Options options) {
  ASSIGN_OR_RETURN(S3Location loc, ParseS3Url(url));
  if (options.access_key.empty()) options.access_key = Getenv("AWS_ACCESS_KEY_ID");
  if (options.secret_key.empty()) options.secret_key = Getenv("AWS_SECRET_ACCESS_KEY");
  if (options.session_token.empty()) options.session_token = Getenv("AWS_SESSION_TOKEN");
  if (options.ca_file.empty()) options.ca_file = Getenv("CLAWBACK_S3_CA_FILE");
  if (options.region.empty()) options.region = "us-east-1";
  if (options.max_keys <= 0 || options.max_keys > 1000) options.max_keys = 1000;
  if (options.access_key.empty() || options.secret_key.empty()) {
    return Unauthenticated("no S3 credentials for " + url +
                           ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the config)");
  }
  if (!options.ca_file.empty()) {
    if (FILE* f = std::fopen(options.ca_file.c_str(), "r")) {
      std::fclose(f);
    } else {
      return InvalidArgument("S3 CA file " + options.ca_file + " cannot be read");
    }
  }
  return std::unique_ptr<S3Backend>(new S3Backend(std::move(loc), std::move(options)));
}

S3Backend::S3Backend(S3Location location, S3Options options)
    : loc_(std::move(location)), opts_(std::move(options)) {
  http::ClientOptions o;
  o.timeout = std::chrono::milliseconds(0);  // packs are big: a stall is the limit instead
  o.connect_timeout = opts_.connect_timeout;
  o.stall_timeout = opts_.stall_timeout;
  o.ca_file = opts_.ca_file;
  o.connect_to = opts_.connect_to;
  http_ = http::NewClient(std::move(o));
}

S3Backend::~S3Backend() = default;

std::string S3Backend::Location() const {
  std::string s = "s3:" + loc_.scheme + "://" + loc_.host;
  if (loc_.port != 0) s += ":" + std::to_string(loc_.port);
  s += "/" + loc_.bucket;
  if (!loc_.prefix.empty()) s += "/" + loc_.prefix;
  return s;
}

std::string S3Backend::KeyOf(FileType t, const std::string& name) const {
  std::string rel = ObjectPath(t, name);
  return loc_.prefix.empty() ? rel : loc_.prefix + "/" + rel;
}

Result<S3Backend::Response> S3Backend::Request(
    const std::string& method, const std::string& key,
    const std::vector<std::pair<std::string, std::string>>& query,
    const std::vector<std::pair<std::string, std::string>>& extra_headers, std::string_view body) {
  const bool default_port = loc_.port == 0 || (loc_.scheme == "https" && loc_.port == 443) ||
                            (loc_.scheme == "http" && loc_.port == 80);
  std::string host = opts_.virtual_host ? loc_.bucket + "." + loc_.host : loc_.host;
  std::string host_header = default_port ? host : host + ":" + std::to_string(loc_.port);
  std::string path =
      opts_.virtual_host ? "/" + key : "/" + loc_.bucket + (key.empty() ? "" : "/" + key);
  const std::string canonical_uri = UriEncode(path, /*keep_slash=*/true);
  const std::string canonical_query = CanonicalQuery(query);
  std::string url = loc_.scheme + "://" + host_header + canonical_uri;
  if (!canonical_query.empty()) url += "?" + canonical_query;

  const Clock& clock = opts_.clock ? *opts_.clock : SystemClock();
  const std::string amz_date = AmzDate(clock.NowUnixMillis() / 1000);
  const std::string payload_hash = body.empty() ? kEmptySha256 : Sha256Hex(body);

  SigV4Request req;
  req.method = method;
  req.canonical_uri = canonical_uri;
  req.canonical_query = canonical_query;
  req.headers = {
      {"host", host_header}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", amz_date}};
  if (!opts_.session_token.empty())
    req.headers.emplace_back("x-amz-security-token", opts_.session_token);
  for (const auto& h : extra_headers) req.headers.push_back(h);
  req.payload_hash = payload_hash;
  SigV4Credentials creds{opts_.access_key, opts_.secret_key, opts_.region, "s3"};
  const SigV4Signature sig = SignV4(req, creds, amz_date);

  http::Request r{method, url, std::move(req.headers), {}, body};
  r.headers.emplace_back("Authorization", sig.authorization);
  auto response = http_->Send(r);
  if (!response.ok()) {
    std::string message = "S3 " + response.status().message();
    if (response.status().code() == StatusCode::kFailedPrecondition)
      message += " (set the CA file: s3_ca_file or CLAWBACK_S3_CA_FILE)";
    return Status(response.status().code(), message);
  }
  return response;
}

Status S3Backend::Create() {
  ASSIGN_OR_RETURN(Response r, Request("HEAD", "", {}, {}, {}));
  if (r.status / 100 == 2) return Status::Ok();
  if (r.status != 404) return S3ErrorStatus("S3 HEAD bucket " + loc_.bucket, r);
  std::string body;
  if (opts_.region != "us-east-1") {
    body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        opts_.region + "</LocationConstraint></CreateBucketConfiguration>";
  }
  ASSIGN_OR_RETURN(Response c, Request("PUT", "", {}, {}, body));
  if (c.status / 100 == 2) return Status::Ok();
  if (FirstElement(c.body, "Code") == "BucketAlreadyOwnedByYou") return Status::Ok();
  return S3ErrorStatus("S3 create bucket " + loc_.bucket, c);
}

Result<bool> S3Backend::Exists() {
  const std::string key = KeyOf(FileType::kConfig, "config");
  ASSIGN_OR_RETURN(Response r, Request("HEAD", key, {}, {}, {}));
  if (r.status / 100 == 2) return true;
  if (r.status == 404) return false;
  return S3ErrorStatus("S3 HEAD " + key, r);
}

Status S3Backend::Save(FileType t, const std::string& name, std::string_view data) {
  RETURN_IF_ERROR(ValidateName(t, name));
  const std::string key = KeyOf(t, name);
  // S3 PUT replaces silently; files are immutable, so look first. (Two writers racing on
  // the same name write the same bytes, since names are content hashes; the config is
  // written once, by `init`.)
  ASSIGN_OR_RETURN(Response head, Request("HEAD", key, {}, {}, {}));
  if (head.status / 100 == 2)
    return AlreadyExists(Location() + "/" + ObjectPath(t, name) + " already exists");
  if (head.status != 404) return S3ErrorStatus("S3 HEAD " + key, head);
  ASSIGN_OR_RETURN(Response r, Request("PUT", key, {}, {}, data));
  if (r.status / 100 == 2) return Status::Ok();
  return S3ErrorStatus("S3 PUT " + key, r);
}

Result<std::string> S3Backend::Load(FileType t, const std::string& name, int64_t offset,
                                    int64_t length) {
  RETURN_IF_ERROR(ValidateName(t, name));
  if (offset < 0 || length < 0) return InvalidArgument("negative offset or length");
  const std::string key = KeyOf(t, name);
  std::vector<std::pair<std::string, std::string>> headers;
  if (offset > 0 || length > 0) {
    std::string range = "bytes=" + std::to_string(offset) + "-";
    if (length > 0) range += std::to_string(offset + length - 1);
    headers.emplace_back("range", range);
  }
  ASSIGN_OR_RETURN(Response r, Request("GET", key, {}, headers, {}));
  if (r.status == 416) {
    // Range not satisfiable: either exactly at the end (an empty read) or past it.
    ASSIGN_OR_RETURN(FileInfo info, Stat(t, name));
    ASSIGN_OR_RETURN(int64_t n, CheckRange(key, info.size, offset, length));
    (void)n;
    return std::string();
  }
  if (r.status == 404) return NotFound(Location() + "/" + ObjectPath(t, name) + " not found");
  if (r.status / 100 != 2) return S3ErrorStatus("S3 GET " + key, r);
  if (r.status == 200 && (offset > 0 || length > 0) &&
      r.Header("content-range").starts_with("bytes " + std::to_string(offset) + "-")) {
    r.status = 206;  // a server that answers a range with 200 and a Content-Range
  }
  if (r.status == 200) {
    // The server ignored the Range header (or there was none): cut it ourselves.
    ASSIGN_OR_RETURN(int64_t n,
                     CheckRange(key, static_cast<int64_t>(r.body.size()), offset, length));
    if (offset == 0 && n == static_cast<int64_t>(r.body.size())) return std::move(r.body);
    return r.body.substr(static_cast<size_t>(offset), static_cast<size_t>(n));
  }
  // 206. Some servers (s3rver for "bytes=0-0") send more than asked from the right start:
  // keep what was asked for.
  if (length > 0 && static_cast<int64_t>(r.body.size()) > length &&
      r.Header("content-range").starts_with("bytes " + std::to_string(offset) + "-")) {
    r.body.resize(static_cast<size_t>(length));
  }
  // S3 clips a range that runs past the end; the contract says that is an error.
  if (length > 0 && static_cast<int64_t>(r.body.size()) != length) {
    return Corruption("short read of " + key + ": wanted " + std::to_string(length) +
                      " bytes at offset " + std::to_string(offset) + ", got " +
                      std::to_string(r.body.size()));
  }
  return std::move(r.body);
}

Result<FileInfo> S3Backend::Stat(FileType t, const std::string& name) {
  RETURN_IF_ERROR(ValidateName(t, name));
  const std::string key = KeyOf(t, name);
  ASSIGN_OR_RETURN(Response r, Request("HEAD", key, {}, {}, {}));
  if (r.status == 404) return NotFound(Location() + "/" + ObjectPath(t, name) + " not found");
  if (r.status / 100 != 2) return S3ErrorStatus("S3 HEAD " + key, r);
  int64_t size = 0;
  if (!ParseInt(r.Header("content-length"), &size)) {
    return Corruption("S3 HEAD " + key + ": no valid Content-Length");
  }
  return FileInfo{t == FileType::kConfig ? "config" : name, size};
}

Status S3Backend::Remove(FileType t, const std::string& name) {
  RETURN_IF_ERROR(ValidateName(t, name));
  const std::string key = KeyOf(t, name);
  // S3 answers DELETE of a missing key with 204; look first so Remove reports NotFound
  // like the other backends.
  ASSIGN_OR_RETURN(Response head, Request("HEAD", key, {}, {}, {}));
  if (head.status == 404) return NotFound(Location() + "/" + ObjectPath(t, name) + " not found");
  if (head.status / 100 != 2) return S3ErrorStatus("S3 HEAD " + key, head);
  ASSIGN_OR_RETURN(Response r, Request("DELETE", key, {}, {}, {}));
  if (r.status / 100 == 2 || r.status == 404) return Status::Ok();
  return S3ErrorStatus("S3 DELETE " + key, r);
}

Result<std::vector<FileInfo>> S3Backend::List(FileType t) {
  std::vector<FileInfo> out;
  if (t == FileType::kConfig) {
    Result<FileInfo> info = Stat(t, "config");
    if (info.ok())
      out.push_back(*info);
    else if (info.status().code() != StatusCode::kNotFound)
      return info.status();
    return out;
  }
  const std::string prefix =
      (loc_.prefix.empty() ? "" : loc_.prefix + "/") + std::string(FileTypeDir(t)) + "/";
  std::string token;
  for (int page = 0;; ++page) {
    std::vector<std::pair<std::string, std::string>> query = {
        {"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(opts_.max_keys)}};
    if (!token.empty()) query.emplace_back("continuation-token", token);
    ASSIGN_OR_RETURN(Response r, Request("GET", "", query, {}, {}));
    if (r.status / 100 != 2) return S3ErrorStatus("S3 list " + prefix, r);
    const std::string& xml = r.body;
    size_t pos = 0;
    while (true) {
      size_t b = xml.find("<Contents>", pos);
      if (b == std::string::npos) break;
      size_t e = xml.find("</Contents>", b);
      if (e == std::string::npos) return Corruption("S3 list " + prefix + ": malformed XML");
      size_t p = b;
      std::string key, size_text;
      if (!NextElement(xml, "Key", &p, e, &key)) return Corruption("S3 list: entry without Key");
      p = b;
      int64_t size = 0;
      if (!NextElement(xml, "Size", &p, e, &size_text) || !ParseInt(size_text, &size)) {
        return Corruption("S3 list: entry " + key + " without a valid Size");
      }
      pos = e + 11;
      if (!key.starts_with(prefix)) continue;
      std::string_view rest = std::string_view(key).substr(prefix.size());
      if (t == FileType::kPack) {
        // "xx/<id>" with xx the id's first two digits.
        if (rest.size() != 67 || rest[2] != '/' || rest.substr(0, 2) != rest.substr(3, 2)) continue;
        rest.remove_prefix(3);
      }
      if (!IsHexId(rest)) continue;
      out.push_back({std::string(rest), size});
    }
    if (FirstElement(xml, "IsTruncated") != "true") break;
    token = FirstElement(xml, "NextContinuationToken");
    if (token.empty())
      return Corruption("S3 list " + prefix + ": truncated page without a continuation token");
    if (page > 1'000'000) return Internal("S3 list " + prefix + ": too many pages");
  }
  return out;
}

}  // namespace clawback::store
