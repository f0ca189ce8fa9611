// `streamflow migrate`: the staging schema and the keyspace's migrations, on their own.

#include "apps/stack_command.h"

namespace streamflow::apps {

[[maybe_unused]] const bool kMigrateRegistered = register_stack_command(
    {60, "migrate", "apply the PostgreSQL staging and Cassandra migrations to the running stack"},
    &stack::Stack::migrate);

}  // namespace streamflow::apps
