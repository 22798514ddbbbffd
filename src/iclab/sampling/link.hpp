// Label links y = f(x . t) + noise: linear (the papers' model) and the single-index nonlinear variants
// of the task-alignment appendix (tanh, cube, square).
#pragma once

#include <string>
#include <vector>

namespace iclab {

enum class Link { linear, tanh, cube, square };
Link parse_link(const std::string& text);  // throws InvalidArgument listing the names
std::string to_string(Link link);
const std::vector<std::string>& link_names();  // every link's name, in enum order
double apply_link(Link link, double s);

}  // namespace iclab
