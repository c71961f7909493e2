# Warning and sanitizer flags for StackLens' own targets, as one interface target.
add_library(stacklens_compiler_options INTERFACE)
add_library(stacklens::compiler_options ALIAS stacklens_compiler_options)

target_compile_options(stacklens_compiler_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  $<$<BOOL:${STACKLENS_WERROR}>:-Werror>)

# GCC 12 reports -Wrestrict false positives inside libstdc++ for `"literal" + std::string` at -O2
# and above (GCC bug 105651), fixed in GCC 13.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(stacklens_compiler_options INTERFACE -Wno-restrict)
endif()

if(STACKLENS_SANITIZE)
  target_compile_options(stacklens_compiler_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(stacklens_compiler_options INTERFACE -fsanitize=address,undefined)
endif()
