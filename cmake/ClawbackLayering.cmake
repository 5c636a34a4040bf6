# The layering rule of src/README.md, enforced: each subsystem library may link only the
# clawback_* libraries its row's "may depend on" column names. A link the table does not
# allow fails the configure step with the library, the link and the row to change.
# (Third-party libraries are not checked here; the table names them for readers.)
function(clawback_check_layering)
  file(STRINGS ${CMAKE_SOURCE_DIR}/src/README.md rows REGEX "^\\| [a-z]+/ \\| clawback_")
  foreach(row IN LISTS rows)
    string(REGEX MATCH "^\\| ([a-z]+)/ \\| (clawback_[a-z]+)[^|]*\\|[^|]*\\| ([^|]*)\\|" _ "${row}")
    set(lib ${CMAKE_MATCH_2})
    set(deps_text ${CMAKE_MATCH_3})
    if(NOT TARGET ${lib})
      continue()
    endif()
    get_target_property(type ${lib} TYPE)
    if(type STREQUAL "OBJECT_LIBRARY")
      continue()  # the CLI links everything above it by design
    endif()
    # "common, ledger, SQLite" -> clawback_common;clawback_ledger (lower-case names only).
    string(REGEX MATCHALL "[a-z]+" words "${deps_text}")
    set(allowed)
    foreach(w IN LISTS words)
      list(APPEND allowed clawback_${w})
    endforeach()
    get_target_property(links ${lib} LINK_LIBRARIES)
    get_target_property(ilinks ${lib} INTERFACE_LINK_LIBRARIES)
    foreach(dep IN LISTS links ilinks)
      if(NOT dep MATCHES "^clawback_" OR dep STREQUAL "clawback_warnings")
        continue()
      endif()
      list(FIND allowed ${dep} found)
      if(found EQUAL -1)
        message(FATAL_ERROR
          "${lib} links ${dep}, which its row in src/README.md does not allow "
          "(may depend on: ${deps_text}). Change the design or the row.")
      endif()
    endforeach()
  endforeach()
endfunction()
