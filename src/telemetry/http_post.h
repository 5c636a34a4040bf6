// PostPayload: one exporter push (OTLP, Loki, Grafana annotations) through the one HTTP
// client, its answer mapped for the batching exporter's retry rule:
// 2xx → OK; 429 and 5xx → Unavailable (retryable); other 4xx → InvalidArgument (the receiver
// rejected the payload: retrying will not help); a failed exchange → its http::Client error.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/client.h"

namespace clawback::telemetry {

// The client an exporter pushes with: `timeout` for the whole request, at most 2 s to
// connect, only the start of an answer's body kept (for the error message).
std::unique_ptr<http::Client> NewExporterClient(std::chrono::milliseconds timeout);

Status PostPayload(http::Client& client, const std::string& url, const std::string& content_type,
                   std::string body, const http::Headers& headers = {});

}  // namespace clawback::telemetry
