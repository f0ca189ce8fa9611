#pragma once
/// Commands that run one operation of the local stack, with its progress on stdout and no
/// options of their own: `up`, `down`, `migrate`.

#include <functional>
#include <ostream>

#include "apps/command.h"
#include "stack/stack.h"

namespace streamflow::apps {

using StackOperation = std::function<base::Result<void>(stack::Stack&, std::ostream&)>;

bool register_stack_command(CommandInfo info, StackOperation operation);

}  // namespace streamflow::apps
