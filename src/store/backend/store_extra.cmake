# src/store/backend: the S3 client's unit tests run against an in-process HTTP server
# (cpp-httplib), so the unit-test binary of this folder links it.
if(TARGET store_backend_test)
  target_link_libraries(store_backend_test PRIVATE PkgConfig::HTTPLIB)
endif()
