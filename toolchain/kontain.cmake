# CMake toolchain file for Kontain:
#   cmake -DCMAKE_TOOLCHAIN_FILE=<sdk>/share/kontain/kontain.cmake ...
# Builds with kontain-gcc/g++; finds headers, libraries, packages and
# pkg-config modules in the SDK only, programs on the host; try_run() and
# add_test() run their programs with km.
get_filename_component(KONTAIN_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER "${KONTAIN_PREFIX}/bin/kontain-gcc")
set(CMAKE_CXX_COMPILER "${KONTAIN_PREFIX}/bin/kontain-g++")
set(CMAKE_CROSSCOMPILING_EMULATOR "${KONTAIN_PREFIX}/bin/km")
set(PKG_CONFIG_EXECUTABLE "${KONTAIN_PREFIX}/bin/kontain-pkg-config" CACHE FILEPATH "kontain-pkg-config")

set(CMAKE_FIND_ROOT_PATH "${KONTAIN_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# km runs static programs: add_library(SHARED) builds a static library,
# with CMake's warning, after every project() has read the platform files.
set(CMAKE_PROJECT_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/kontain-project.cmake")
