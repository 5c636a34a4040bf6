# Warning flags shared by every clawback target. Third-party headers are included as
# SYSTEM headers so their warnings never fail our build.
add_library(clawback_warnings INTERFACE)
target_compile_options(clawback_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wimplicit-fallthrough
  -Wno-missing-field-initializers)
if(CLAWBACK_WERROR)
  target_compile_options(clawback_warnings INTERFACE -Werror)
endif()
if(CLAWBACK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(CLAWBACK_FUZZ)
  # Coverage instrumentation for everything the fuzz targets link (fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
