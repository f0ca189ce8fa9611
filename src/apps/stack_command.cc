#include "apps/stack_command.h"

#include <iostream>
#include <utility>

#include "deploy/layout.h"

namespace streamflow::apps {

namespace {

class StackCommand final : public Command {
 public:
  explicit StackCommand(StackOperation operation) : operation_(std::move(operation)) {}
  int run(const config::Settings& settings) override {
    auto layout = deploy::Layout::load(settings);
    if (!layout) return report(layout.error());
    stack::Stack stack(std::move(*layout));
    auto r = operation_(stack, std::cout);
    return r ? 0 : report(r.error());
  }

 private:
  StackOperation operation_;
};

}  // namespace

bool register_stack_command(CommandInfo info, StackOperation operation) {
  return register_command(std::move(info), [operation = std::move(operation)] {
    return std::make_unique<StackCommand>(operation);
  });
}

}  // namespace streamflow::apps
