# mutants.cmake - testing the tester (DESIGN.md): build one explorer per
# deliberate protocol bug of core/src/mutant.h, run each over the standard
# workload suite and require a violation, replay its first reproducer and
# require the same failure, and require none from the real core. Prints
# the mutation score (caught / total).
#
# cmake -DBUILD_DIR=... -DBIN_DIR=... -DMUTANT_H=... -DSUITE=... -DREAL=...
#       -P mutants.cmake
cmake_minimum_required(VERSION 3.25)

foreach(v BUILD_DIR BIN_DIR MUTANT_H SUITE REAL)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "mutants.cmake: -D${v}=... is required")
  endif()
endforeach()

execute_process(
  COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target mutant-explorers
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc)
  message(FATAL_ERROR "building the mutant explorers failed:\n${out}")
endif()

# The small workloads of the suite: every mutant so far is caught by them
# (groups.wl and directory.wl cost seconds each and add no catch).
set(workloads)
foreach(w small regular bulk growth protected subpage)
  list(APPEND workloads "${SUITE}/${w}.wl")
endforeach()
set(opts --garbage --quiet --max-violations 1 --max-images 256)

include("${CMAKE_CURRENT_LIST_DIR}/../../../cmake/mutant_list.cmake")
mp_mutant_list("${MUTANT_H}" MUT)
set(total 0)
set(caught 0)
set(failures "")
foreach(n name what IN ZIP_LISTS MUT_NUMS MUT_NAMES MUT_WHATS)
  math(EXPR total "${total} + 1")
  set(dir "${BIN_DIR}/mutants/m${n}")
  file(REMOVE_RECURSE "${dir}")
  file(MAKE_DIRECTORY "${dir}")
  execute_process(
    COMMAND "${BIN_DIR}/mp-explore-mut${n}" ${opts} --repro-dir "${dir}"
            --json "${dir}/report.json" ${workloads}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message("mutant ${n} ${name} (${what}): SURVIVED: no violation")
    string(APPEND failures " ${n}")
    continue()
  elseif(NOT rc EQUAL 1)
    message("mutant ${n} ${name}: explorer failed (${rc}): ${err}")
    string(APPEND failures " ${n}")
    continue()
  endif()
  file(READ "${dir}/report.json" json)
  string(JSON states GET "${json}" states)
  string(JSON rule GET "${json}" violation_list 0 rule_name)
  string(JSON vwhat GET "${json}" violation_list 0 what)
  string(JSON wl GET "${json}" violation_list 0 workload)
  string(JSON repro GET "${json}" violation_list 0 reproducer)
  get_filename_component(wl "${wl}" NAME)
  # The reproducer must bring the same failure back.
  execute_process(COMMAND "${BIN_DIR}/mp-explore-mut${n}" --replay "${repro}"
                  RESULT_VARIABLE rrc OUTPUT_VARIABLE rout ERROR_VARIABLE rout)
  if(NOT rrc EQUAL 1)
    message("mutant ${n} ${name}: caught, but the reproducer ${repro} did "
            "not replay (${rrc}): ${rout}")
    string(APPEND failures " ${n}")
    continue()
  endif()
  math(EXPR caught "${caught} + 1")
  message("mutant ${n} ${name} (${what}): caught after ${states} states "
          "in ${wl}: rule ${rule}: ${vwhat}")
  message("    reproducer ${repro} replays")
endforeach()

set(dir "${BIN_DIR}/mutants/real")
file(REMOVE_RECURSE "${dir}")
file(MAKE_DIRECTORY "${dir}")
execute_process(
  COMMAND "${REAL}" --garbage --quiet --max-images 256 --repro-dir "${dir}"
          --json "${dir}/report.json" ${workloads}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  file(READ "${dir}/report.json" json)
  string(JSON states GET "${json}" states)
  message("real core: no violation in ${states} states")
else()
  message("real core: VIOLATION (exit ${rc}); see ${dir}")
  string(APPEND failures " real")
endif()

message("mutation score: ${caught}/${total}")
if(NOT failures STREQUAL "")
  message(FATAL_ERROR "failed:${failures}")
endif()
