#pragma once
/// The librdkafka handle the control room reads Kafka with (metadata, watermarks, the admin API).

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

#include "base/result.h"

namespace streamflow::control {

using Client = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;

/// A handle for `bootstrap`, its own logging off (errors come back as Results). A consumer
/// handle without a group: it joins nothing, commits nothing, creates no topic, and both the
/// admin API and watermark queries work on it.
base::Result<Client> open_client(const std::string& bootstrap);

}  // namespace streamflow::control
