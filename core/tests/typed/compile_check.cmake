# compile_check.cmake - one compile test (run with cmake -P).
#
#   -DCC=<compiler> -DCC_ID=<GNU|Clang> -DSRC=<file.c> -DINC=<include dir>
#   -DOUT=<object file> -DMODE=<fail|ok> [-DDEFS=<-DX;...>]
#
# MODE ok:   the file must compile without a diagnostic (-Werror).
# MODE fail: the compile must fail, with exactly one error, and that error
#            must match the regex on the file's "EXPECT-<CC_ID>:" line, so a
#            file that fails for another reason (a typo, a missing header)
#            fails the test instead of passing it.
foreach(v CC CC_ID SRC INC OUT MODE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "compile_check: ${v} not set")
  endif()
endforeach()

# Plain ASCII quotes in diagnostics, whatever the caller's locale.
set(ENV{LC_ALL} C)
execute_process(
  COMMAND "${CC}" -std=c11 -Wall -Wextra -Wpedantic -Werror
          -fdiagnostics-color=never "-I${INC}" ${DEFS} -c "${SRC}" -o "${OUT}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")

if(MODE STREQUAL "ok")
  if(NOT rc EQUAL 0 OR NOT all STREQUAL "")
    message(FATAL_ERROR "expected a clean compile of ${SRC} (${rc}):\n${all}")
  endif()
  message(STATUS "compiled cleanly: ${SRC}")
  return()
endif()

file(STRINGS "${SRC}" expect REGEX "EXPECT-${CC_ID}: ")
list(LENGTH expect n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "${SRC}: need exactly one EXPECT-${CC_ID}: line")
endif()
string(REGEX REPLACE ".*EXPECT-${CC_ID}: " "" expect "${expect}")
if(rc EQUAL 0)
  message(FATAL_ERROR "expected ${SRC} to fail to compile; it compiled:\n${all}")
endif()
string(REGEX MATCHALL "error: " errors "${all}")
list(LENGTH errors nerr)
if(NOT nerr EQUAL 1)
  message(FATAL_ERROR "expected exactly one error, got ${nerr}:\n${all}")
endif()
if(NOT all MATCHES "${expect}")
  message(FATAL_ERROR "the error is not the expected one.\nexpected: ${expect}\ngot:\n${all}")
endif()
message(STATUS "failed as expected (${CC_ID}): ${expect}")
