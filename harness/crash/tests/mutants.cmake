# mutants.cmake - testing the tester (DESIGN.md): build one explorer per
# deliberate protocol bug of core/src/mutant.h, run each over the standard
# workload suite in every cell of the CI device matrix and require a
# violation of a STATE rule - open (rule 1), atomicity (2) or protected
# (3): the file does not open, recovers a wrong state or loses a commit,
# or serves a protected page that is neither old nor new. The checker
# (rule 4) and rule 6 are off for the mutants, so an incidental difference
# the checker sees (a recovery reason code) cannot count as a kill; a
# first violation of any other rule fails the test. Replays the
# reproducer (both crashes for a second-crash kill) and requires the same
# failure; requires no violation from the real core with every rule on.
# Prints per mutant the rule and the cell that killed it, and the
# mutation score (killed / total).
#
# cmake -DBUILD_DIR=... -DBIN_DIR=... -DMUTANT_H=... -DSUITE=... -DREAL=...
#       -DCELLS=1k/512/4k,... -DCRASH2=N -P mutants.cmake
cmake_minimum_required(VERSION 3.25)

foreach(v BUILD_DIR BIN_DIR MUTANT_H SUITE REAL CELLS CRASH2)
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
set(matrix --matrix "${CELLS}" --crash2-every ${CRASH2} --max-images 256)
# Time caps keep the test cheap in slow (sanitizer) builds: a mutant stops
# at its first violation (every one so far dies within its first thousand
# states, in its first workload), so only a survivor uses its 60 s; the
# shares make every workload run in every cell however slow the build.
# No injected I/O errors either: after a failed commit the pager rebuilds
# memory from the live copy (pager.h, "memory tells the truth"), so a
# mutant that writes the live copy in place shows first as a fault-rule
# difference, which is no state-rule kill.
set(opts ${matrix} --quiet --max-violations 1 --checker off --life off
    --no-faults --time 60)
set(state_rules open atomicity protected)

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
    message("mutant ${n} ${name} (${what}): SURVIVED: no state-rule "
            "violation in cells ${CELLS}")
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
  string(JSON cell GET "${json}" violation_list 0 cell)
  string(JSON second GET "${json}" violation_list 0 second)
  string(JSON repro GET "${json}" violation_list 0 reproducer)
  get_filename_component(wl "${wl}" NAME)
  if(NOT rule IN_LIST state_rules)
    message("mutant ${n} ${name} (${what}): NOT KILLED BY A STATE RULE: "
            "its first violation is rule ${rule} in cell ${cell} (${wl}): "
            "${vwhat}")
    string(APPEND failures " ${n}")
    continue()
  endif()
  # The reproducer must bring the same failure back.
  execute_process(COMMAND "${BIN_DIR}/mp-explore-mut${n}" --replay "${repro}"
                  RESULT_VARIABLE rrc OUTPUT_VARIABLE rout ERROR_VARIABLE rout)
  if(NOT rrc EQUAL 1)
    message("mutant ${n} ${name}: killed, but the reproducer ${repro} did "
            "not replay (${rrc}): ${rout}")
    string(APPEND failures " ${n}")
    continue()
  endif()
  math(EXPR caught "${caught} + 1")
  set(how "")
  if(second)
    set(how " after a second crash")
  endif()
  message("mutant ${n} ${name} (${what}): killed by rule ${rule} in cell "
          "${cell}${how} after ${states} states, ${wl}: ${vwhat}")
  message("    reproducer ${repro} replays")
endforeach()

set(dir "${BIN_DIR}/mutants/real")
file(REMOVE_RECURSE "${dir}")
file(MAKE_DIRECTORY "${dir}")
execute_process(
  COMMAND "${REAL}" ${matrix} --quiet --time 20 --repro-dir "${dir}"
          --json "${dir}/report.json" ${workloads}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  file(READ "${dir}/report.json" json)
  string(JSON states GET "${json}" states)
  message("real core: no violation in ${states} states (every rule, cells "
          "${CELLS})")
else()
  message("real core: VIOLATION (exit ${rc}); see ${dir}")
  string(APPEND failures " real")
endif()

message("mutation score: ${caught}/${total} killed by a state rule")
if(NOT failures STREQUAL "")
  message(FATAL_ERROR "failed:${failures}")
endif()
