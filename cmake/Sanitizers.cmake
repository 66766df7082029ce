# Sanitizer and libFuzzer instrumentation, for every project target.
#
#   -DKAFKA_SIDECAR_SANITIZE=address,undefined   ASan + UBSan (scripts/sanitize.sh)
#   -DKAFKA_SIDECAR_SANITIZE=thread              TSan (scripts/sanitize.sh)
#   -DKAFKA_SIDECAR_FUZZ=ON                      libFuzzer targets, clang only
#                                                (scripts/fuzz.sh)
#
# The flags are directory-wide and set before any target exists, so the
# generated protobuf code, the test support code and the tests are
# instrumented too: a report must not depend on which of our files a bad
# access happens to sit in. System libraries (librdkafka, gRPC, abseil) stay
# uninstrumented; see scripts/sanitize.sh for what that means for TSan.

set(KAFKA_SIDECAR_SANITIZE "" CACHE STRING
    "Sanitizers for all project code: address,undefined | thread | empty (off)")
set_property(CACHE KAFKA_SIDECAR_SANITIZE PROPERTY STRINGS
             "" "address,undefined" "address" "undefined" "thread")
option(KAFKA_SIDECAR_FUZZ "Build the libFuzzer targets in fuzz/ (clang only)" OFF)

set(KAFKA_SIDECAR_FUZZ_ENABLED OFF)
if(KAFKA_SIDECAR_FUZZ)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    set(KAFKA_SIDECAR_FUZZ_ENABLED ON)
  else()
    message(WARNING "KAFKA_SIDECAR_FUZZ needs clang's libFuzzer; "
                    "${CMAKE_CXX_COMPILER_ID} found, fuzz targets not built "
                    "(configure with CC=clang CXX=clang++, see scripts/fuzz.sh)")
  endif()
endif()

set(_sanitize "${KAFKA_SIDECAR_SANITIZE}")
# A fuzzer without ASan/UBSan only finds crashes that would happen anyway.
if(KAFKA_SIDECAR_FUZZ_ENABLED AND _sanitize STREQUAL "")
  set(_sanitize "address,undefined")
endif()

if(NOT _sanitize STREQUAL "")
  string(REPLACE "," ";" _sanitize_list "${_sanitize}")
  foreach(_s IN LISTS _sanitize_list)
    if(NOT _s MATCHES "^(address|undefined|leak|thread)$")
      message(FATAL_ERROR "KAFKA_SIDECAR_SANITIZE: unknown sanitizer '${_s}' "
                          "(use address,undefined or thread)")
    endif()
  endforeach()
  if("thread" IN_LIST _sanitize_list AND NOT _sanitize STREQUAL "thread")
    message(FATAL_ERROR "KAFKA_SIDECAR_SANITIZE: thread cannot be combined "
                        "with other sanitizers, got '${_sanitize}'")
  endif()
  if(KAFKA_SIDECAR_FUZZ_ENABLED AND "thread" IN_LIST _sanitize_list)
    message(FATAL_ERROR "KAFKA_SIDECAR_FUZZ runs under address,undefined, "
                        "not thread")
  endif()

  set(_flags "-fsanitize=${_sanitize}" -fno-omit-frame-pointer)
  # UBSan only prints and carries on by default; a finding must fail the run.
  if("undefined" IN_LIST _sanitize_list)
    list(APPEND _flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_flags})
  add_link_options(${_flags})
  message(STATUS "kafka-sidecar: sanitizers ${_sanitize}")
endif()

# See tsan/c11_threads.c: without it, any TSan-built process that creates a
# librdkafka client crashes.
if(_sanitize STREQUAL "thread")
  add_library(kafka_sidecar_tsan_c11_threads OBJECT
              ${CMAKE_CURRENT_LIST_DIR}/tsan/c11_threads.c)
endif()

# Links what the sanitizers need into every executable of the project. Called
# at the end of the top-level CMakeLists.txt, once all targets exist, so that
# no test or tool can be forgotten.
function(kafka_sidecar_sanitize_executables)
  if(NOT TARGET kafka_sidecar_tsan_c11_threads)
    return()
  endif()
  set(dirs "${PROJECT_SOURCE_DIR}")
  while(dirs)
    list(POP_FRONT dirs dir)
    get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
    list(APPEND dirs ${subdirs})
    get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
    foreach(target IN LISTS targets)
      get_target_property(type ${target} TYPE)
      if(type STREQUAL "EXECUTABLE")
        target_link_libraries(${target} PRIVATE kafka_sidecar_tsan_c11_threads)
      endif()
    endforeach()
  endwhile()
endfunction()

# Coverage feedback for the code the fuzz targets reach; the fuzz targets
# themselves add -fsanitize=fuzzer, which also links libFuzzer's main.
if(KAFKA_SIDECAR_FUZZ_ENABLED)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
