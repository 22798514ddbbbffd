# The figure folders (figures/<figure>/<scale>/*.toml, docs/figures.md) compiled into the iclab library,
# so that `iclab reproduce NAME --scale paper` works from any directory and an installed program needs no
# data path. Re-globbed at build time (CONFIGURE_DEPENDS: a file added or removed); iclab_embed_files makes
# each file a configure dependency (a file edited).
file(GLOB_RECURSE ICLAB_FIGURE_FILES RELATIVE ${PROJECT_SOURCE_DIR}/figures CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/figures/*.toml)
list(SORT ICLAB_FIGURE_FILES)
iclab_embed_files(TARGET iclab SOURCE figure_files.cpp INCLUDE iclab/reproduce/figure_files.hpp
                  FUNCTION figure_files TYPE FigureFile DELIMITER ICLAB_FIGURE BASE ${PROJECT_SOURCE_DIR}/figures
                  FROM "cmake/iclabFigures.cmake from figures/" FILES ${ICLAB_FIGURE_FILES})
