# Shared build settings and helpers for rfx targets.

# Flags every rfx target gets. They must be identical across targets so the one PCH can be
# reused (gcc refuses a PCH built with other flags).
function(rfx_common_settings target)
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}
                                              ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES} nlohmann_json::nlohmann_json)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror=deprecated-declarations
                                           -Wno-unused-parameter)
  if(NOT target STREQUAL "rfx_pch")
    target_precompile_headers(${target} REUSE_FROM rfx_pch)
    rfx_skip_pch_for_light_sources(${target})
  endif()
endfunction()

# Loading the torch PCH costs ~8 s per translation unit; a file that includes nothing heavy
# (torch, ATen, c10, OpenCV, or an rfx header that pulls them in) compiles in ~1 s without it.
set(RFX_HEAVY_INCLUDE_REGEX
    "#include [<\"](torch/|ATen/|c10/|opencv2/|datasets/|rfx/(nn|train|probe|sweep)/|rfx/pch|rfx/util/device|seeded_test)")
function(rfx_skip_pch_for_light_sources target)
  get_target_property(srcs ${target} SOURCES)
  foreach(src ${srcs})
    if(NOT src MATCHES "\\.cpp$")
      continue()
    endif()
    file(STRINGS ${src} heavy REGEX "${RFX_HEAVY_INCLUDE_REGEX}")
    if(NOT heavy)
      set_source_files_properties(${src} TARGET_DIRECTORY ${target}
                                  PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
endfunction()

# rfx_component(name DIR dir [DEPS ...]): static library rfx_<name> from dir/*.cpp.
function(rfx_component name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${ARG_DIR}/*.cpp)
  if(NOT srcs)
    set(srcs ${CMAKE_SOURCE_DIR}/cmake/empty.cpp)  # a component not written yet
  endif()
  add_library(rfx_${name} STATIC ${srcs})
  rfx_common_settings(rfx_${name})
  target_link_libraries(rfx_${name} PUBLIC ${ARG_DEPS})
endfunction()

# rfx_test_suite(name DEPS ... [LABELS ...]): one gtest executable rfx_<name>_tests from
# tests/<name>/*_test.cpp; LABELS become ctest labels of every test in it (ctest -L faults).
function(rfx_test_suite name)
  cmake_parse_arguments(ARG "" "" "DEPS;LABELS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${name}/*.cpp)
  if(NOT srcs)
    return()
  endif()
  add_executable(rfx_${name}_tests ${srcs} ${CMAKE_SOURCE_DIR}/tests/test_main.cpp)
  rfx_common_settings(rfx_${name}_tests)
  target_include_directories(rfx_${name}_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(rfx_${name}_tests PRIVATE ${ARG_DEPS} GTest::gtest)
  target_compile_definitions(rfx_${name}_tests PRIVATE RFX_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  set(labels ${name})
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  gtest_discover_tests(rfx_${name}_tests DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES TIMEOUT 900 LABELS "${labels}")
endfunction()
