# install.cmake - everything about using mappedpages from outside the tree,
# in one place (included last by the top CMakeLists.txt, so every target
# exists): the shared libraries, the names a consumer links against, and
# the install rules with the CMake package and the pkg-config files.
#
# Install components (cmake --install BUILD --component NAME):
#   lib    headers, libmappedpages and libfaultfs (static and shared), the
#          CMake package and the pkg-config files: enough to build against.
#   tools  mp-check, mp-explore, mp-bench, mp-crashloop and, under
#          <libdir>/mappedpages/, the LD_PRELOAD shim libfaultfs_shim.so and
#          crashloop.sh (only what MP_BUILD_TOOLS built).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
find_package(Threads REQUIRED)

# --- Shared libraries ----------------------------------------------------
# Built from the same sources and flags as the static targets of core/ and
# faultfs/ (position-independent, hence compiled again). The SONAME follows
# MP_ABI_VERSION (cmake/abi.cmake); a version script limits the dynamic
# exports to the library's public prefix, whatever the sources declare.
if(MP_BUILD_SHARED)
  set(_mp_shared_pairs "mappedpages\;core" "faultfs\;faultfs")
  foreach(_pair IN LISTS _mp_shared_pairs)
    list(GET _pair 0 _lib)
    list(GET _pair 1 _dir)
    get_target_property(_srcs ${_lib} SOURCES)
    get_target_property(_defs ${_lib} COMPILE_DEFINITIONS)
    add_library(${_lib}_shared SHARED ${_srcs})
    set_target_properties(${_lib}_shared PROPERTIES
      OUTPUT_NAME ${_lib}
      VERSION ${PROJECT_VERSION}
      SOVERSION ${MP_ABI_VERSION}
      C_VISIBILITY_PRESET hidden
      EXPORT_NAME ${_lib}_shared
      LINK_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/${_lib}.map")
    target_include_directories(${_lib}_shared PUBLIC
      "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/${_dir}/include>"
      "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
    target_compile_options(${_lib}_shared PRIVATE ${MP_WARNINGS})
    if(_defs)
      target_compile_definitions(${_lib}_shared PRIVATE ${_defs})
    endif()
    target_link_options(${_lib}_shared PRIVATE
      "LINKER:--version-script=${CMAKE_CURRENT_LIST_DIR}/${_lib}.map")
    # Every symbol resolved at link time, except in instrumented builds
    # (sanitizers, coverage, fuzzers, AFL's compilers, OSS-Fuzz's flags in
    # CMAKE_C_FLAGS), where the runtime comes with the executable.
    if(NOT MP_SANITIZE AND NOT MP_COVERAGE AND NOT MP_BUILD_FUZZERS AND
       NOT CMAKE_C_COMPILER MATCHES "afl-" AND
       NOT CMAKE_C_FLAGS MATCHES "-fsanitize|-fprofile")
      target_link_options(${_lib}_shared PRIVATE "LINKER:--no-undefined")
    endif()
  endforeach()
  target_link_libraries(mappedpages_shared PUBLIC Threads::Threads)
  target_link_libraries(faultfs_shared PUBLIC mappedpages_shared)
  # The exports and SONAMEs in every build, not only the install check.
  if(BUILD_TESTING)
    add_test(NAME shared_exports_only_public_prefixes
      COMMAND bash "${PROJECT_SOURCE_DIR}/ci/check-exports.sh"
              "$<TARGET_FILE_DIR:mappedpages_shared>")
    set_tests_properties(shared_exports_only_public_prefixes PROPERTIES
      LABELS "nomemcheck")
  endif()
endif()

# --- The names consumers use ---------------------------------------------
# The same names as the installed package gives, for add_subdirectory and
# FetchContent users: here mappedpages::mappedpages and mappedpages::faultfs
# are the static libraries; the _static and (with MP_BUILD_SHARED, off in
# a subproject by default) _shared names are explicit.
set_target_properties(mappedpages PROPERTIES EXPORT_NAME mappedpages_static)
set_target_properties(faultfs PROPERTIES EXPORT_NAME faultfs_static)
add_library(mappedpages::mappedpages ALIAS mappedpages)
add_library(mappedpages::faultfs ALIAS faultfs)
add_library(mappedpages::mappedpages_static ALIAS mappedpages)
add_library(mappedpages::faultfs_static ALIAS faultfs)
if(MP_BUILD_SHARED)
  add_library(mappedpages::mappedpages_shared ALIAS mappedpages_shared)
  add_library(mappedpages::faultfs_shared ALIAS faultfs_shared)
endif()

if(NOT MP_INSTALL)
  return()
endif()

# --- Libraries and headers (component lib) -------------------------------
set(_mp_cmakedir "${CMAKE_INSTALL_LIBDIR}/cmake/mappedpages")
install(TARGETS mappedpages faultfs EXPORT mappedpagesStaticTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT lib
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT mappedpagesStaticTargets NAMESPACE mappedpages::
  DESTINATION "${_mp_cmakedir}" COMPONENT lib)
if(MP_BUILD_SHARED)
  install(TARGETS mappedpages_shared faultfs_shared
    EXPORT mappedpagesSharedTargets
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT lib
      NAMELINK_COMPONENT lib)
  install(EXPORT mappedpagesSharedTargets NAMESPACE mappedpages::
    DESTINATION "${_mp_cmakedir}" COMPONENT lib)
endif()
install(DIRECTORY "${PROJECT_SOURCE_DIR}/core/include/"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT lib
  FILES_MATCHING PATTERN "*.h")
install(FILES "${PROJECT_SOURCE_DIR}/faultfs/include/faultfs.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT lib)

# The CMake package. While the major version is 0 a minor release may
# change the API, so only the same major.minor satisfies a request.
configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/mappedpagesConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/mappedpagesConfig.cmake"
  INSTALL_DESTINATION "${_mp_cmakedir}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/mappedpagesConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/mappedpagesConfig.cmake"
  "${PROJECT_BINARY_DIR}/mappedpagesConfigVersion.cmake"
  DESTINATION "${_mp_cmakedir}" COMPONENT lib)

# pkg-config files, relocatable: prefix is found from the file's own place.
file(RELATIVE_PATH MP_PC_TO_PREFIX
  "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
foreach(_pc IN ITEMS mappedpages faultfs)
  configure_file("${CMAKE_CURRENT_LIST_DIR}/${_pc}.pc.in"
    "${PROJECT_BINARY_DIR}/${_pc}.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/${_pc}.pc"
    DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig" COMPONENT lib)
endforeach()

# --- Tools (component tools) ---------------------------------------------
foreach(_tool IN ITEMS mp-check mp-explore mp-bench)
  if(TARGET ${_tool})
    install(TARGETS ${_tool} RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
      COMPONENT tools)
  endif()
endforeach()
# The shim and its driver sit together in <libdir>/mappedpages/, where
# crashloop.sh finds the library beside itself (faultfs/shim/README.md);
# bin/mp-crashloop runs it from the PATH.
if(TARGET faultfs_shim)
  set(_mp_pkglibdir "${CMAKE_INSTALL_LIBDIR}/mappedpages")
  install(TARGETS faultfs_shim
    LIBRARY DESTINATION "${_mp_pkglibdir}" COMPONENT tools NAMELINK_SKIP)
  install(PROGRAMS "${PROJECT_SOURCE_DIR}/faultfs/shim/crashloop.sh"
    DESTINATION "${_mp_pkglibdir}" COMPONENT tools)
  file(RELATIVE_PATH MP_BIN_TO_PKGLIB "/p/${CMAKE_INSTALL_BINDIR}"
    "/p/${_mp_pkglibdir}")
  configure_file("${CMAKE_CURRENT_LIST_DIR}/mp-crashloop.in"
    "${PROJECT_BINARY_DIR}/mp-crashloop" @ONLY)
  install(PROGRAMS "${PROJECT_BINARY_DIR}/mp-crashloop"
    DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT tools)
endif()
