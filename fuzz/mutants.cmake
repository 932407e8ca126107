# mutants.cmake - testing the tester for the fuzz corpora: replay the
# crash target's corpus (and its regressions) with each deliberate
# protocol bug of core/src/mutant.h compiled in, then, if it survives, the
# faults target's (a bug in what a failed sync leaves behind shows only
# there, e.g. ONE_FLUSH_NO_INVALIDATE); every mutant must make a replay
# fail with a fuzz-target report. Prints the corpus that caught each and
# the mutation score.
#
# cmake -DBUILD_DIR=... -DBIN_DIR=... -DMUTANT_H=... -DCORPORA=...
#       -P mutants.cmake
cmake_minimum_required(VERSION 3.25)

foreach(v BUILD_DIR BIN_DIR MUTANT_H CORPORA)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "mutants.cmake: -D${v}=... is required")
  endif()
endforeach()

execute_process(
  COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target fuzz-mutants
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc)
  message(FATAL_ERROR "building the mutant replayers failed:\n${out}")
endif()

include("${CMAKE_CURRENT_LIST_DIR}/../cmake/mutant_list.cmake")
mp_mutant_list("${MUTANT_H}" MUT)
set(total 0)
set(caught 0)
set(survivors "")
foreach(n name what IN ZIP_LISTS MUT_NUMS MUT_NAMES MUT_WHATS)
  math(EXPR total "${total} + 1")
  set(hit "")
  foreach(t crash faults)
    execute_process(
      COMMAND "${BIN_DIR}/fuzz_${t}_mut${n}" "${CORPORA}/${t}"
              "${CORPORA}/regressions/${t}"
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc STREQUAL "0" AND err MATCHES "found a bug:\n([^\n]*)")
      set(hit "${t} corpus: ${CMAKE_MATCH_1}")
      break()
    endif()
  endforeach()
  if(hit)
    math(EXPR caught "${caught} + 1")
    message("mutant ${n} ${name} (${what}): caught by the ${hit}")
  else()
    message("mutant ${n} ${name} (${what}): SURVIVED the crash and faults "
            "corpora")
    string(APPEND survivors " ${n}")
  endif()
endforeach()
message("fuzz corpus mutation score: ${caught}/${total}")
if(survivors)
  message(FATAL_ERROR "mutants not caught by corpora/crash or corpora/faults:${survivors}")
endif()
