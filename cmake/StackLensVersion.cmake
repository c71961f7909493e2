# Version header: the project version plus the git revision when built from a checkout.
find_package(Git QUIET)
set(STACKLENS_GIT_REVISION "unknown")
if(GIT_FOUND AND EXISTS ${CMAKE_SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short HEAD
                  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                  OUTPUT_VARIABLE STACKLENS_GIT_REVISION
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT STACKLENS_GIT_REVISION)
    set(STACKLENS_GIT_REVISION "unknown")
  endif()
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.h.in
               ${CMAKE_BINARY_DIR}/generated/stacklens/core/version.h @ONLY)
