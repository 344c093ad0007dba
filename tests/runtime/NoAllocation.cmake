# Fails when the static library LIBRARY references an allocator (run with -DLIBRARY=... -DNM=...).
execute_process(COMMAND ${NM} -u ${LIBRARY} OUTPUT_VARIABLE undefined RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${NM} -u ${LIBRARY} failed")
endif()
string(REGEX MATCHALL "[ \t](malloc|calloc|realloc|free|aligned_alloc|posix_memalign|strdup|_Znwm|_Znam|_ZdlPv|_ZdaPv)\n"
  found "${undefined}\n")
if(found)
  string(STRIP "${found}" found)
  message(FATAL_ERROR "runtime-c allocates: ${LIBRARY} references ${found}")
endif()
message(STATUS "no allocator referenced by ${LIBRARY}")
