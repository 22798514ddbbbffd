#include "iclab/sampling/link.hpp"

#include <cmath>

#include "iclab/error.hpp"

namespace iclab {

Link parse_link(const std::string& text) {
  if (text == "linear") return Link::linear;
  if (text == "tanh") return Link::tanh;
  if (text == "cube") return Link::cube;
  if (text == "square") return Link::square;
  throw InvalidArgument("link: expected 'linear', 'tanh', 'cube' or 'square', got '" + text + "'");
}

std::string to_string(Link link) {
  switch (link) {
    case Link::linear:
      return "linear";
    case Link::tanh:
      return "tanh";
    case Link::cube:
      return "cube";
    case Link::square:
      return "square";
  }
  return "?";
}

const std::vector<std::string>& link_names() {
  static const std::vector<std::string> names = {to_string(Link::linear), to_string(Link::tanh), to_string(Link::cube),
                                                 to_string(Link::square)};
  return names;
}

double apply_link(Link link, double s) {
  switch (link) {
    case Link::linear:
      return s;
    case Link::tanh:
      return std::tanh(s);
    case Link::cube:
      return s * s * s;
    case Link::square:
      return s * s;
  }
  return s;
}

}  // namespace iclab
