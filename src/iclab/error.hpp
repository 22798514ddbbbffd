// The error types of iclab's public interface. They live apart from any one module so that io/, plot/
// and programs using the installed library can report or catch bad input without depending on the
// model's parameters.
#pragma once

#include <stdexcept>

namespace iclab {

// Raised for invalid user input; front ends turn it into one line on stderr and exit code 2.
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace iclab
