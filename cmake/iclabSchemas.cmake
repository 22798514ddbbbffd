# The modules' experiment schemas (src/iclab/<module>/schema.toml; src/iclab/experiments/schema.hpp)
# compiled into the iclab library, so that a program without a module (`iclab` without libtorch) still
# validates its experiment files, and the core's code never spells a module's names. In this order
# (the order of quantities and keys in messages and columns); editing a file reruns cmake.
set(ICLAB_SCHEMA_FILES iclab/nn/schema.toml iclab/repr/schema.toml)
iclab_embed_files(TARGET iclab SOURCE schema_files.cpp INCLUDE iclab/experiments/schema.hpp
                  FUNCTION module_schema_files TYPE SchemaFile DELIMITER ICLAB_SCHEMA BASE ${PROJECT_SOURCE_DIR}/src
                  PREFIX src/ FROM "cmake/iclabSchemas.cmake from src/iclab/*/schema.toml" FILES ${ICLAB_SCHEMA_FILES})
