# librdkafka, linked statically from the prefix scripts/install-librdkafka.sh
# builds (Debian bookworm's own 2.0.2 is too old: it loses assignments in
# cooperative rebalances and has no next-generation group protocol).
#
#   -DKAFKA_SIDECAR_RDKAFKA_PREFIX=DIR   a prefix with include/librdkafka and
#                                        lib/librdkafka.a (scripts/build.sh
#                                        passes the script's output)
#
# Defines the imported target rdkafka::rdkafka. The library's own
# dependencies (OpenSSL, Cyrus SASL, zstd, lz4, zlib, curl) come from its
# pkg-config file and are linked as the system's shared libraries.

set(KAFKA_SIDECAR_RDKAFKA_MIN_VERSION 2.13.2)
set(KAFKA_SIDECAR_RDKAFKA_PREFIX "" CACHE PATH
    "librdkafka >= ${KAFKA_SIDECAR_RDKAFKA_MIN_VERSION} install prefix (scripts/install-librdkafka.sh prints it)")
if(NOT KAFKA_SIDECAR_RDKAFKA_PREFIX)
  message(FATAL_ERROR
    "KAFKA_SIDECAR_RDKAFKA_PREFIX is not set. Build with scripts/build.sh, or run "
    "scripts/install-librdkafka.sh and pass its output as "
    "-DKAFKA_SIDECAR_RDKAFKA_PREFIX=<prefix>.")
endif()

find_package(PkgConfig REQUIRED)
set(_saved_pkg_config_path "$ENV{PKG_CONFIG_PATH}")
set(ENV{PKG_CONFIG_PATH} "${KAFKA_SIDECAR_RDKAFKA_PREFIX}/lib/pkgconfig")
pkg_check_modules(RDKAFKA QUIET rdkafka>=${KAFKA_SIDECAR_RDKAFKA_MIN_VERSION})
set(ENV{PKG_CONFIG_PATH} "${_saved_pkg_config_path}")
if(NOT RDKAFKA_FOUND OR NOT RDKAFKA_PREFIX STREQUAL KAFKA_SIDECAR_RDKAFKA_PREFIX)
  message(FATAL_ERROR
    "No librdkafka >= ${KAFKA_SIDECAR_RDKAFKA_MIN_VERSION} in ${KAFKA_SIDECAR_RDKAFKA_PREFIX} "
    "(found: '${RDKAFKA_VERSION}' in '${RDKAFKA_PREFIX}'). Run scripts/install-librdkafka.sh.")
endif()
find_library(KAFKA_SIDECAR_RDKAFKA_ARCHIVE NAMES librdkafka.a
             PATHS "${KAFKA_SIDECAR_RDKAFKA_PREFIX}/lib" NO_DEFAULT_PATH NO_CACHE)
if(NOT KAFKA_SIDECAR_RDKAFKA_ARCHIVE)
  message(FATAL_ERROR "${KAFKA_SIDECAR_RDKAFKA_PREFIX}/lib has no librdkafka.a")
endif()

# What librdkafka needs, as shared libraries: the modules its pkg-config file
# requires privately (they differ with the features it was built with), and
# libc's extras. `pkg-config --static` would list the static dependencies of
# those too (libcurl's), which Debian does not ship.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${KAFKA_SIDECAR_RDKAFKA_PREFIX}/lib/pkgconfig"
          ${PKG_CONFIG_EXECUTABLE} --print-requires-private rdkafka
  OUTPUT_VARIABLE _rdkafka_requires OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE _rdkafka_requires_result)
if(NOT _rdkafka_requires_result EQUAL 0)
  message(FATAL_ERROR "pkg-config cannot read ${KAFKA_SIDECAR_RDKAFKA_PREFIX}/lib/pkgconfig/rdkafka.pc")
endif()
string(REGEX REPLACE "[ \t]*[<>=]+[ \t]*[^ \t\n]+" "" _rdkafka_requires "${_rdkafka_requires}")
string(REGEX REPLACE "[ \t\n]+" ";" _rdkafka_requires "${_rdkafka_requires}")
pkg_check_modules(RDKAFKA_DEPS REQUIRED IMPORTED_TARGET ${_rdkafka_requires})
find_package(Threads REQUIRED)
add_library(rdkafka::rdkafka STATIC IMPORTED GLOBAL)
set_target_properties(rdkafka::rdkafka PROPERTIES
  IMPORTED_LOCATION "${KAFKA_SIDECAR_RDKAFKA_ARCHIVE}"
  INTERFACE_INCLUDE_DIRECTORIES "${KAFKA_SIDECAR_RDKAFKA_PREFIX}/include"
  INTERFACE_LINK_LIBRARIES "PkgConfig::RDKAFKA_DEPS;Threads::Threads;${CMAKE_DL_LIBS};m;rt")
message(STATUS "kafka-sidecar: librdkafka ${RDKAFKA_VERSION} (static) from ${KAFKA_SIDECAR_RDKAFKA_PREFIX}")
