# The README's tour: every `iclab ...` line of its code block runs, in a temporary directory
# (tests/readme_commands.py). The tour trains networks, so this needs the libtorch build.
find_program(ICLAB_PYTHON3 NAMES python3 DOC "Python 3, to run the README's tour commands")
if(ICLAB_NN AND ICLAB_PYTHON3)
  add_test(NAME readme_tour_commands
           COMMAND ${ICLAB_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/readme_commands.py
                   $<TARGET_FILE:iclab_cli> ${PROJECT_SOURCE_DIR}/README.md)
  set_tests_properties(readme_tour_commands PROPERTIES LABELS fast TIMEOUT 600)
endif()
