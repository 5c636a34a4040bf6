include(GoogleTest)

# clawback_add_test(NAME <name> SOURCES <files...> LIBS <targets...> [LABELS unit|integration|compat|slow])
# Builds one GoogleTest binary and registers each of its tests with CTest, labelled.
function(clawback_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${T_NAME} ${T_SOURCES} ${CMAKE_SOURCE_DIR}/cmake/test_env.cc)
  set_source_files_properties(${CMAKE_SOURCE_DIR}/cmake/test_env.cc TARGET_DIRECTORY ${T_NAME}
    PROPERTIES COMPILE_DEFINITIONS
    "CLAWBACK_TEST_SOURCE_DIR=\"${CMAKE_SOURCE_DIR}\";CLAWBACK_TEST_BINARY=\"${CMAKE_BINARY_DIR}/clawback\";CLAWBACK_TEST_SHARED_DIR=\"${CMAKE_SOURCE_DIR}/../shared\"")
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest_main clawback_warnings)
  target_include_directories(${T_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR})
  gtest_discover_tests(${T_NAME}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()
