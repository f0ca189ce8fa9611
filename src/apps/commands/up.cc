// `streamflow up`: start the local stack and wait until every service is healthy.

#include "apps/stack_command.h"

namespace streamflow::apps {

[[maybe_unused]] const bool kUpRegistered = register_stack_command(
    {10, "up", "start the local stack and wait until every service is healthy (harmless when up)"},
    &stack::Stack::up);

}  // namespace streamflow::apps
