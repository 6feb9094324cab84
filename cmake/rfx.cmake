# Shared build settings and helpers for rfx targets.
#
# Each target says whether it uses LibTorch (TORCH) or not. A torch target links LibTorch and
# reuses the one precompiled header of torch + std (rfx_pch: loading it costs ~8 s a translation
# unit, compiling <torch/torch.h> without it ~17 s); a torch-free target neither links LibTorch
# nor pays for its headers. The choice is the target's, never guessed from a file's includes.

# Flags every rfx target gets. Torch targets must share them exactly with rfx_pch (gcc refuses a
# PCH built with other flags).
function(rfx_base_settings target)
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}
                                              ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(${target} PUBLIC nlohmann_json::nlohmann_json)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror=deprecated-declarations
                                           -Wno-unused-parameter)
endfunction()

# rfx_settings(target [TORCH]): the base settings, plus LibTorch and its PCH with TORCH.
function(rfx_settings target)
  cmake_parse_arguments(ARG "TORCH" "" "" ${ARGN})
  rfx_base_settings(${target})
  if(ARG_TORCH)
    target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
    target_precompile_headers(${target} REUSE_FROM rfx_pch)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      # PyPI's LibTorch exports parts of the libstdc++ it links statically (std::filesystem:
      # pytorch/pytorch#133437), and a program that loads it first binds its own
      # std::filesystem calls to them: remove_all jumped to address 0. libstdc++ ahead of
      # LibTorch in the program's needed libraries makes every such call bind to libstdc++.
      target_link_options(${target} PRIVATE "-Wl,--push-state,--no-as-needed,-lstdc++,--pop-state")
    endif()
  endif()
endfunction()

# rfx_component(name DIR dir [TORCH] [DEPS ...]): static library rfx_<name> from dir/*.cpp.
function(rfx_component name)
  cmake_parse_arguments(ARG "TORCH" "DIR" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${ARG_DIR}/*.cpp)
  add_library(rfx_${name} STATIC ${srcs})
  if(ARG_TORCH)
    rfx_settings(rfx_${name} TORCH)
  else()
    rfx_settings(rfx_${name})
  endif()
  target_link_libraries(rfx_${name} PUBLIC ${ARG_DEPS})
endfunction()

# rfx_test_suite(name DEPS ... [TORCH] [LABELS ...]): one gtest executable rfx_<name>_tests
# from tests/<name>/*_test.cpp; LABELS become ctest labels of every test in it (ctest -L
# faults). A torch suite's main installs the rfx host allocator, as the programs do.
function(rfx_test_suite name)
  if(NOT TARGET rfx_test_paths)
    rfx_test_paths()
  endif()
  cmake_parse_arguments(ARG "TORCH" "" "DEPS;LABELS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${name}/*.cpp)
  if(NOT srcs)
    return()
  endif()
  add_executable(rfx_${name}_tests ${srcs} ${CMAKE_SOURCE_DIR}/tests/test_main.cpp)
  if(ARG_TORCH)
    rfx_settings(rfx_${name}_tests TORCH)
    target_compile_definitions(rfx_${name}_tests PRIVATE RFX_TEST_TORCH=1)
  else()
    rfx_settings(rfx_${name}_tests)
  endif()
  target_include_directories(rfx_${name}_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(rfx_${name}_tests PRIVATE ${ARG_DEPS} rfx_test_paths GTest::gtest)
  set(labels ${name})
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  gtest_discover_tests(rfx_${name}_tests DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES TIMEOUT 900 LABELS "${labels}")
endfunction()

# The one object that holds the build's absolute paths (source tree, RFX_PYTHON, the rfx
# executable) for the tests: on a compile line they would make every test object of a new clone
# miss ccache.
function(rfx_test_paths)
  configure_file(${CMAKE_SOURCE_DIR}/tests/test_paths.cpp.in
                 ${CMAKE_BINARY_DIR}/generated/test_paths.cpp.in @ONLY)
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/generated/test_paths.cpp
       INPUT ${CMAKE_BINARY_DIR}/generated/test_paths.cpp.in)
  add_library(rfx_test_paths STATIC ${CMAKE_BINARY_DIR}/generated/test_paths.cpp)
  target_include_directories(rfx_test_paths PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(rfx_test_paths PRIVATE GTest::gtest)
endfunction()
