// Rendering a Figure with gnuplot (pngcairo and svg terminals): stem.png, stem.svg and stem.gp.
#pragma once

#include <string>

#include "iclab/plot/figure.hpp"

namespace iclab::plot {

// The gnuplot executable: $ICLAB_GNUPLOT when set (a path, or a name looked up in PATH), else `gnuplot`
// found in PATH. Throws InvalidArgument (one line) when there is none.
std::string gnuplot_executable();

// The self-contained gnuplot script for `figure`: the data as datablocks, the figure's commands in the
// datablock $figure, rendered once to the pngcairo and once to the svg terminal. Output files are
// the variables png_output / svg_output, defaulting to stem_name.png / stem_name.svg (relative to the
// directory gnuplot runs in). Throws InvalidArgument for an inconsistent figure (sizes, empty grid, ...).
std::string gnuplot_script(const Figure& figure, const std::string& stem_name);

// Writes stem.png, stem.svg and stem.gp (re-render with `gnuplot stem.gp` in their directory); every file
// is written atomically, and none when anything fails. Throws InvalidArgument (one line) for an
// inconsistent figure or when gnuplot is not installed, and std::runtime_error with gnuplot's first error
// line when it fails.
void render(const Figure& figure, const std::string& stem);

}  // namespace iclab::plot
