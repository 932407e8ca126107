# mutants.cmake - testing the tester (DESIGN.md): build one explorer per
# deliberate protocol bug of core/src/mutant.h, run each over the standard
# workload suite in every cell of the CI device matrix in its commit mode
# (one-flush cells for a mutant described "one-flush: ...", two-barrier
# cells for the others; then, for information, the other mode's) and
# require a violation of a STATE rule - open (rule 1), atomicity (2) or
# protected (3): the file does not open, recovers a wrong state or loses
# a commit, or serves a protected page that is neither old nor new. The checker
# (rule 4) and rule 6 are off for the mutants, so an incidental difference
# the checker sees (a recovery reason code) cannot count as a kill; a
# first violation of any other rule fails the test. Replays the
# reproducer (both crashes for a second-crash kill) and requires the same
# failure; requires no violation from the real core with every rule on.
# Prints per mutant the rule and the cell that killed it (and whether the
# other mode's cells kill it too), and the mutation score (killed / total).
#
# cmake -DBUILD_DIR=... -DBIN_DIR=... -DMUTANT_H=... -DSUITE=... -DREAL=...
#       -DCELLS=1k/512/4k,... -DCRASH2=N [-DOTHER_TIME=S] -P mutants.cmake
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
# (groups.wl and directory.wl cost seconds each and add no catch);
# modeswitch.wl writes a file in both modes.
set(workloads)
foreach(w small regular bulk growth protected subpage modeswitch)
  list(APPEND workloads "${SUITE}/${w}.wl")
endforeach()
set(matrix --matrix "${CELLS}" --crash2-every ${CRASH2} --max-images 256)
# Time caps keep the test cheap in slow (sanitizer) builds: a mutant stops
# at its first violation (every one so far dies within its first thousand
# states, in its first workload), so only a survivor uses its 60 s; the
# shares make every workload run in every cell however slow the build.
# No injected I/O errors at first: after a failed commit the pager
# rebuilds memory from the live copy (pager.h, "memory tells the truth"),
# so a mutant that writes the live copy in place shows first as a
# fault-rule difference, which is no state-rule kill. A mutant that
# survives the crash points (a bug in what a failed sync leaves behind,
# e.g. ONE_FLUSH_NO_INVALIDATE) runs again with them, and must then be
# killed by a state rule (the disk after a failed op holds S_{i-1}).
set(opts ${matrix} --quiet --max-violations 1 --checker off --life off)
set(state_rules open atomicity protected)

include("${CMAKE_CURRENT_LIST_DIR}/../../../cmake/mutant_list.cmake")
mp_mutant_list("${MUTANT_H}" MUT)

# One run of mutant n in one commit mode's cells. Sets in the caller:
# r_status (survived | killed | other-rule | failed), r_rule, r_what,
# r_cell, r_wl, r_states, r_second, r_repro, r_err.
function(run_mutant n mode seconds tag faults)
  set(dir "${BIN_DIR}/mutants/m${n}${tag}")
  set(nf --no-faults)
  if(faults)
    set(nf)
  endif()
  file(REMOVE_RECURSE "${dir}")
  file(MAKE_DIRECTORY "${dir}")
  execute_process(
    COMMAND "${BIN_DIR}/mp-explore-mut${n}" ${opts} ${nf} --time ${seconds}
            --mode ${mode} --repro-dir "${dir}" --json "${dir}/report.json"
            ${workloads}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(r_err "${err}" PARENT_SCOPE)
  if(rc EQUAL 0)
    set(r_status survived PARENT_SCOPE)
    return()
  elseif(NOT rc EQUAL 1)
    set(r_status failed PARENT_SCOPE)
    set(r_err "exit ${rc}: ${err}" PARENT_SCOPE)
    return()
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
  foreach(v states rule vwhat wl cell second repro)
    set(r_${v} "${${v}}" PARENT_SCOPE)
  endforeach()
  if(rule IN_LIST state_rules)
    set(r_status killed PARENT_SCOPE)
  else()
    set(r_status other-rule PARENT_SCOPE)
  endif()
endfunction()

# A mutant's mode: "one" (one-flush cells) if its mutant.h comment starts
# with "one-flush:", else "two" (the two-barrier protocol). It must be
# killed there. It also runs in the other mode's cells for OTHER_TIME
# seconds (default 10; 0: not), which only reports whether the bug also
# matters in that mode.
if(NOT DEFINED OTHER_TIME)
  set(OTHER_TIME 10)
endif()
set(total 0)
set(caught 0)
set(failures "")
foreach(n name what IN ZIP_LISTS MUT_NUMS MUT_NAMES MUT_WHATS)
  math(EXPR total "${total} + 1")
  if(what MATCHES "^one-flush")
    set(mode one)
    set(other two)
  else()
    set(mode two)
    set(other one)
  endif()
  set(mname_one "one-flush")
  set(mname_two "two-barrier")
  run_mutant(${n} ${mode} 60 "" OFF)
  set(with "")
  set(faults OFF)
  if(r_status STREQUAL "survived")
    set(faults ON)
    run_mutant(${n} ${mode} 60 "-faults" ON)
    set(with " with injected I/O errors")
  endif()
  if(r_status STREQUAL "survived")
    message("mutant ${n} ${name} (${what}): SURVIVED: no state-rule "
            "violation in the ${mname_${mode}} cells of ${CELLS}, with or "
            "without injected I/O errors")
    string(APPEND failures " ${n}")
    continue()
  elseif(r_status STREQUAL "failed")
    message("mutant ${n} ${name}: explorer failed (${r_err})")
    string(APPEND failures " ${n}")
    continue()
  elseif(r_status STREQUAL "other-rule")
    message("mutant ${n} ${name} (${what}): NOT KILLED BY A STATE RULE: "
            "its first violation${with} is rule ${r_rule} in cell ${r_cell} "
            "(${r_wl}): ${r_vwhat}")
    string(APPEND failures " ${n}")
    continue()
  endif()
  # The reproducer must bring the same failure back.
  execute_process(COMMAND "${BIN_DIR}/mp-explore-mut${n}" --replay "${r_repro}"
                  RESULT_VARIABLE rrc OUTPUT_VARIABLE rout ERROR_VARIABLE rout)
  if(NOT rrc EQUAL 1)
    message("mutant ${n} ${name}: killed, but the reproducer ${r_repro} did "
            "not replay (${rrc}): ${rout}")
    string(APPEND failures " ${n}")
    continue()
  endif()
  math(EXPR caught "${caught} + 1")
  set(how "")
  if(r_second)
    set(how " after a second crash")
  endif()
  message("mutant ${n} ${name} (${what}): killed by rule ${r_rule} in cell "
          "${r_cell}${how}${with} after ${r_states} states, ${r_wl}: "
          "${r_vwhat}")
  message("    reproducer ${r_repro} replays")
  if(OTHER_TIME GREATER 0)
    run_mutant(${n} ${other} ${OTHER_TIME} "-${other}" ${faults})
    if(r_status STREQUAL "killed")
      message("    ${mname_${other}} cells too: rule ${r_rule} in cell "
              "${r_cell} after ${r_states} states, ${r_wl}")
    elseif(r_status STREQUAL "survived")
      message("    ${mname_${other}} cells: not killed in ${OTHER_TIME} s "
              "(a ${mname_${mode}} bug)")
    elseif(r_status STREQUAL "other-rule")
      message("    ${mname_${other}} cells: only rule ${r_rule} in cell "
              "${r_cell} (not a state rule)")
    else()
      message("    ${mname_${other}} cells: explorer failed (${r_err})")
      string(APPEND failures " ${n}-${other}")
    endif()
  endif()
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
