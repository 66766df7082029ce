# Installs the helper as the CMake package KafkaSidecarClient:
#   find_package(KafkaSidecarClient CONFIG REQUIRED)
#   target_link_libraries(handler PRIVATE KafkaSidecarClient::client)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_ksc_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/KafkaSidecarClient")

install(TARGETS kafka_sidecar_client EXPORT KafkaSidecarClientTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(FILES ${KAFKA_SIDECAR_CLIENT_PUBLIC_HEADERS}
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/kafka_sidecar_client")
install(FILES ${KAFKA_SIDECAR_CLIENT_GENERATED_HEADERS}
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/kafka_sidecar/v1")
install(EXPORT KafkaSidecarClientTargets
  NAMESPACE KafkaSidecarClient::
  DESTINATION "${_ksc_cmake_dir}")

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/KafkaSidecarClientConfig.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/KafkaSidecarClientConfig.cmake"
  INSTALL_DESTINATION "${_ksc_cmake_dir}")
# 0.x: a new minor version may change the API.
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/KafkaSidecarClientConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/KafkaSidecarClientConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/KafkaSidecarClientConfigVersion.cmake"
  DESTINATION "${_ksc_cmake_dir}")
