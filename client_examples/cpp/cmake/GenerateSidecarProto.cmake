# Generates the C++ message and gRPC code from proto/ into the build tree and
# compiles it into TARGET, for builds without the kafka-sidecar build's own
# sidecar_proto. The generated headers are part of the helper's API
# (message.h exposes the proto types), so they are installed with it.
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)

set(KAFKA_SIDECAR_PROTO_DIR "${CMAKE_CURRENT_LIST_DIR}/../../../proto" CACHE PATH
    "The directory holding kafka_sidecar/v1/sidecar.proto")

function(kafka_sidecar_client_generate_proto target)
  set(proto "${KAFKA_SIDECAR_PROTO_DIR}/kafka_sidecar/v1/sidecar.proto")
  if(NOT EXISTS "${proto}")
    message(FATAL_ERROR "${proto} not found: set KAFKA_SIDECAR_PROTO_DIR to the repository's proto/")
  endif()
  set(gen_dir "${CMAKE_CURRENT_BINARY_DIR}/gen")
  set(gen_sources
    "${gen_dir}/kafka_sidecar/v1/sidecar.pb.cc"
    "${gen_dir}/kafka_sidecar/v1/sidecar.grpc.pb.cc")
  set(gen_headers
    "${gen_dir}/kafka_sidecar/v1/sidecar.pb.h"
    "${gen_dir}/kafka_sidecar/v1/sidecar.grpc.pb.h")
  get_target_property(grpc_cpp_plugin gRPC::grpc_cpp_plugin LOCATION)
  add_custom_command(
    OUTPUT ${gen_sources} ${gen_headers}
    COMMAND ${CMAKE_COMMAND} -E make_directory "${gen_dir}"
    COMMAND protobuf::protoc
      "--proto_path=${KAFKA_SIDECAR_PROTO_DIR}"
      "--cpp_out=${gen_dir}"
      "--grpc_out=${gen_dir}"
      "--plugin=protoc-gen-grpc=${grpc_cpp_plugin}"
      "${proto}"
    DEPENDS "${proto}"
    COMMENT "Generating C++ code from sidecar.proto")
  target_sources(${target} PRIVATE ${gen_sources} ${gen_headers})
  target_include_directories(${target} SYSTEM PUBLIC $<BUILD_INTERFACE:${gen_dir}>)
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf gRPC::grpc++ Threads::Threads)
  set(KAFKA_SIDECAR_CLIENT_GENERATED_HEADERS ${gen_headers} PARENT_SCOPE)
endfunction()
