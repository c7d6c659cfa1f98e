# koi_module(<name> [DIR <folder>] SOURCES … DEPS …): one static library per module, koi_<name>, with includes
# rooted at src/. Tests named *_test.cc in the module folder (DIR, default <name>) become one gtest binary,
# koi_<name>_test, whose cases ctest lists.
# Which modules may include which is checked by scripts/check-layering (the `layering` test), from the same DEPS.
function(koi_module name)
  cmake_parse_arguments(M "" "DIR" "SOURCES;DEPS;TEST_DEPS" ${ARGN})
  if(NOT M_DIR)
    set(M_DIR ${name})
  endif()
  add_library(koi_${name} STATIC ${M_SOURCES})
  target_include_directories(koi_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(koi_${name} PUBLIC ${M_DEPS})
  if(KOI_BUILD_TESTS)
    file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${M_DIR}/*_test.cc
                            ${CMAKE_CURRENT_SOURCE_DIR}/${M_DIR}/*/*_test.cc)
    if(tests)
      add_executable(koi_${name}_test ${tests})
      target_link_libraries(koi_${name}_test PRIVATE koi_${name} ${M_TEST_DEPS} GTest::gtest GTest::gtest_main
                            GTest::gmock)
      gtest_discover_tests(koi_${name}_test DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                           PROPERTIES LABELS ${name})
    endif()
  endif()
endfunction()
