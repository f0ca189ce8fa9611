// `streamflow down`: stop the local stack; every service's data is kept.

#include "apps/stack_command.h"

namespace streamflow::apps {

[[maybe_unused]] const bool kDownRegistered = register_stack_command(
    {20, "down", "stop the local stack (stop signal, bounded wait, then SIGKILL); data is kept"},
    &stack::Stack::down);

}  // namespace streamflow::apps
